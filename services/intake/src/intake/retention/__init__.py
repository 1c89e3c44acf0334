"""Personal data over time: the retention purge (a worker and a command) and key rotation (a
command). Both walk `sealing.SEALED_COLUMNS`, the one list of where personal data lives."""
