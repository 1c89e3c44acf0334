"""The sender: claims due deliveries, sends them by webhook or e-mail, and finishes each try."""
