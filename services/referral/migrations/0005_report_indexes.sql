-- The operators' reports choose referrals by when they were opened (a period of Japan dates), and
-- read only the milestones they count from each referral's timeline.
CREATE INDEX referrals_by_created_at ON referrals (created_at);
CREATE INDEX referral_timeline_report_milestones ON referral_timeline (state, referral_id)
    WHERE state IN ('exhausted', 'unmatched', 'contacted', 'accompanied', 'closed');
