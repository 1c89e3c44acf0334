"""intake: receives #9999 consultations and records them; announces them without personal data."""
