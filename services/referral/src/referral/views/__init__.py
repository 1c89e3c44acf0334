"""Reading referrals: who may see which referral and how much of it; work lists."""
