"""On-call paging: operator alerts that need a person page whoever is on call until acknowledged."""
