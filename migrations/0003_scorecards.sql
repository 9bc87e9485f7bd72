-- 0003_scorecards: one QA scorecard per call, computed from its call_events (score, each criterion with its
-- evidence) plus the per-call facts the campaign rollups read, so the dashboard never rescans the event log.
CREATE TABLE call_scorecards (
  call_sid        text PRIMARY KEY,
  score           integer NOT NULL CHECK (score BETWEEN 0 AND 100),
  criteria        jsonb NOT NULL,
  outcome         text NOT NULL,
  campaign_id     text,
  started_at      timestamptz,
  live_answered   boolean NOT NULL,
  abandoned       boolean NOT NULL,
  p50_ms          integer,
  p95_ms          integer,
  turn_totals_ms  integer[] NOT NULL DEFAULT '{}',
  -- How many events the score was computed from: fewer than the log now holds means it is stale.
  event_count     integer NOT NULL,
  computed_at     timestamptz NOT NULL DEFAULT now()
);
-- Worst calls first, per campaign and overall; rollups over a campaign's recent calls.
CREATE INDEX call_scorecards_score_idx ON call_scorecards (score, call_sid);
CREATE INDEX call_scorecards_campaign_started_idx ON call_scorecards (campaign_id, started_at);

-- Keyset paging of the dashboard's calls list (newest first).
CREATE INDEX calls_started_sid_idx ON calls (started_at DESC, call_sid DESC);
