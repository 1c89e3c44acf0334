"""The signed acknowledgement link in each alert: its page, and acknowledging once."""
