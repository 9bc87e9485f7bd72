-- Erasure by data subject: an opt-out outlives the erasure of its number as the number's SHA-256
-- (hex), so the do-not-call check still matches while the number itself is gone.
ALTER TABLE suppressions ADD COLUMN IF NOT EXISTS phone_hash text;
ALTER TABLE suppressions ALTER COLUMN phone DROP NOT NULL;
CREATE INDEX IF NOT EXISTS suppressions_phone_hash_idx ON suppressions (phone_hash) WHERE phone_hash IS NOT NULL;
