"""Tsunagu's screens: counsellor console and web chat, partner portal, operator dashboard."""
