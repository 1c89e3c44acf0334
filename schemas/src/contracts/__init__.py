"""Tsunagu's contracts: the events services exchange, the topics they travel on, shared vocabulary."""
