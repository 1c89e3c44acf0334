"""Following handoffs: how each organisation answers its offers, and the places accepted ones take."""
