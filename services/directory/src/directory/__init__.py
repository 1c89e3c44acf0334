"""directory: keeps the local support organisations and matches referrals to them."""
