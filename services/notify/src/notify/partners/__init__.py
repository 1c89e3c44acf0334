"""Partners' webhook signing secrets: issued, rotated, and read to sign with."""
