"""The referral and its two tracks: states, transitions, facts, commands, deadlines fired."""
