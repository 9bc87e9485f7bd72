-- 0002_campaigns: outbound campaigns and their leads, as created through /api/campaigns. The campaign's
-- Durable Object is the source of truth for dialing; its attempts (caller ID, consent, outcome) are in
-- call_events under call_sid 'campaign:<id>' (types campaign.attempt, campaign.attempt_closed, ...).

CREATE TABLE campaigns (
  id                  text PRIMARY KEY,
  flow_id             text NOT NULL,
  caller_id           text NOT NULL CHECK (caller_id ~ '^\+[1-9][0-9]{7,14}$'),
  time_zone           text NOT NULL,
  calling_window      jsonb NOT NULL,
  max_concurrent      integer NOT NULL CHECK (max_concurrent > 0),
  pacing_per_minute   integer NOT NULL CHECK (pacing_per_minute > 0),
  retry_policy        jsonb NOT NULL,
  status              text NOT NULL DEFAULT 'draft',
  created_at          timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE campaign_leads (
  campaign_id     text NOT NULL REFERENCES campaigns (id),
  phone           text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{7,14}$'),
  first_name      text NOT NULL,
  email           text NOT NULL,
  time_zone       text,
  consent_given   boolean NOT NULL,
  consent_text    text NOT NULL DEFAULT '',
  added_at        timestamptz NOT NULL,
  PRIMARY KEY (campaign_id, phone)
);
-- Audit query: every campaign a number was added to, with the consent it came with.
CREATE INDEX campaign_leads_phone_idx ON campaign_leads (phone);

-- Audit query: the attempts of a campaign, with the caller ID used and the consent relied on.
CREATE INDEX call_events_campaign_attempts_idx ON call_events (call_sid, type) WHERE call_sid LIKE 'campaign:%';
