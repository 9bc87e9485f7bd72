-- 0005_unanswered_turns: the scorecard's "every caller turn answered" facts, so the campaign page lists
-- calls that left the caller unanswered first (and says so) without reading every scorecard's evidence.
ALTER TABLE call_scorecards ADD COLUMN IF NOT EXISTS unanswered_turns integer NOT NULL DEFAULT 0;
-- Milliseconds from the call's start to its first unanswered caller turn (NULL: none).
ALTER TABLE call_scorecards ADD COLUMN IF NOT EXISTS first_unanswered_ms integer;
-- Scorecards computed before the criterion existed are stale: the dashboard rescores them from the event log.
UPDATE call_scorecards SET computed_at = to_timestamp(0), event_count = 0;
