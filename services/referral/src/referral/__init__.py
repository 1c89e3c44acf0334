"""referral: opens a referral for each serious, shareable case and follows its handoff lifecycle."""
