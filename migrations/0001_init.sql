-- 0001_init: the audit trail. call_events is the append-only log (exactly once per event id);
-- the other tables are projections of it, written in the same transaction as the events.

CREATE TABLE calls (
  call_sid      text PRIMARY KEY,
  direction     text,
  campaign_id   text,
  lead_id       text,
  flow_id       text,
  from_number   text,
  to_number     text,
  started_at    timestamptz,
  ended_at      timestamptz,
  duration_ms   integer,
  outcome       text,
  end_reason    text,
  last_state    text,
  last_state_seq integer,
  answered_by   text,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Audit query: calls by outcome for a campaign.
CREATE INDEX calls_campaign_outcome_idx ON calls (campaign_id, outcome, started_at);

CREATE TABLE call_events (
  id           text PRIMARY KEY,
  call_sid     text NOT NULL,
  seq          integer NOT NULL,
  type         text NOT NULL,
  at           timestamptz NOT NULL,
  payload      jsonb NOT NULL DEFAULT '{}'::jsonb,
  inserted_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT call_events_call_seq_key UNIQUE (call_sid, seq)
);
CREATE INDEX call_events_type_at_idx ON call_events (type, at);

-- Per-turn latency segments, one row per turn (the bench and dashboards read these).
CREATE TABLE turns (
  call_sid            text NOT NULL,
  turn_index          integer NOT NULL,
  event_id            text NOT NULL UNIQUE,
  at                  timestamptz NOT NULL,
  path                text,
  endpointing_ms      integer,
  llm_first_token_ms  integer,
  tts_first_audio_ms  integer,
  overhead_ms         integer,
  total_ms            integer,
  segments            jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (call_sid, turn_index)
);

CREATE TABLE bookings (
  uid             text PRIMARY KEY,
  call_sid        text,
  attendee_name   text,
  attendee_email  text,
  attendee_phone  text,
  start_at        timestamptz NOT NULL,
  end_at          timestamptz,
  status          text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL
);
CREATE INDEX bookings_call_sid_idx ON bookings (call_sid);

CREATE TABLE leads (
  id              text PRIMARY KEY,
  call_sid        text,
  name            text,
  email           text,
  phone           text,
  intent          text,
  source          text,
  crm_contact_id  text,
  created_at      timestamptz NOT NULL
);
CREATE INDEX leads_phone_idx ON leads (phone);
CREATE INDEX leads_call_sid_idx ON leads (call_sid);

-- Opt-outs. One row per opt-out event (never updated or deleted): the audit keeps every one.
CREATE TABLE suppressions (
  id        text PRIMARY KEY,
  phone     text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
  source    text NOT NULL,
  call_sid  text,
  at        timestamptz NOT NULL
);
-- Audit query: every opt-out for a number; also the pre-dial suppression check.
CREATE INDEX suppressions_phone_at_idx ON suppressions (phone, at);

-- Consents (recording notice accepted, marketing consent, ...) as heard on the call.
CREATE TABLE consents (
  id        text PRIMARY KEY,
  phone     text NOT NULL,
  call_sid  text,
  kind      text NOT NULL,
  granted   boolean NOT NULL DEFAULT true,
  text      text,
  at        timestamptz NOT NULL
);
-- Audit query: every consent for a number.
CREATE INDEX consents_phone_at_idx ON consents (phone, at);
CREATE INDEX consents_call_sid_idx ON consents (call_sid);
