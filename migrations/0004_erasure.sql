-- Erasure on request and retention: when a call's recording and transcript were erased.
ALTER TABLE calls ADD COLUMN IF NOT EXISTS erased_at timestamptz;
CREATE INDEX IF NOT EXISTS calls_retention_idx ON calls (ended_at) WHERE erased_at IS NULL;
