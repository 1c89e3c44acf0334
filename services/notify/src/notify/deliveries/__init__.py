"""Deliveries: one per push channel of an alert, and every try; reading them."""
