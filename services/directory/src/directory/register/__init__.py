"""The register: organisations, their services (area, topics, who, when, capacity), offices, change log."""
