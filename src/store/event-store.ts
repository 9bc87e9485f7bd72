/**
 * The event-store port and its Postgres adapter (Neon in production, embedded PGlite locally). A batch is
 * inserted in one transaction with `ON CONFLICT (id) DO NOTHING`, and only the events that were new are
 * projected into calls/turns/consents/suppressions/bookings/leads, so a retried flush writes nothing twice.
 */
import type { Logger } from "../lib/log";
import type { CallEvent } from "./call-event";
import { projectEvents } from "./projections";
import type { SqlConnect, SqlSession } from "./sql-client";
import { inTransaction } from "./sql-client";

/** Port: durable, exactly-once storage of audit events. Must be safe to call again with the same events. */
export interface EventStore {
  insertEvents(events: CallEvent[]): Promise<void>;
}

/** What one insert did (for tests and the bench). */
export interface InsertStats {
  received: number;
  inserted: number;
  invalidPayloads: number;
  /** Types (and the schema issue) of the events whose payloads failed; no payload values. */
  invalidTypes?: string[];
}

const INSERT_EVENTS = `
INSERT INTO call_events (id, call_sid, seq, type, at, payload)
SELECT e.id, e.call_sid, e.seq, e.type, to_timestamp(e.at_ms / 1000.0), e.payload
FROM jsonb_to_recordset($1::jsonb) AS e(id text, call_sid text, seq integer, type text, at_ms bigint, payload jsonb)
ON CONFLICT (id) DO NOTHING
RETURNING id`;

/** Projection statements, each fed one JSON array of rows from `projectEvents`. */
const PROJECTIONS: Array<{ key: keyof Omit<ReturnType<typeof projectEvents>, "invalid">; sql: string }> = [
  {
    key: "callStarts",
    sql: `INSERT INTO calls AS c (call_sid, direction, campaign_id, lead_id, flow_id, from_number, to_number, started_at)
SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(call_sid text, direction text, campaign_id text, lead_id text,
  flow_id text, from_number text, to_number text, started_at timestamptz)
ON CONFLICT (call_sid) DO UPDATE SET
  direction = COALESCE(c.direction, EXCLUDED.direction), campaign_id = COALESCE(c.campaign_id, EXCLUDED.campaign_id),
  lead_id = COALESCE(c.lead_id, EXCLUDED.lead_id), flow_id = COALESCE(c.flow_id, EXCLUDED.flow_id),
  from_number = COALESCE(c.from_number, EXCLUDED.from_number), to_number = COALESCE(c.to_number, EXCLUDED.to_number),
  started_at = LEAST(c.started_at, EXCLUDED.started_at), updated_at = now()`,
  },
  {
    key: "callEnds",
    sql: `INSERT INTO calls AS c (call_sid, ended_at, outcome, end_reason, duration_ms, answered_by)
SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(call_sid text, ended_at timestamptz, outcome text, end_reason text,
  duration_ms integer, answered_by text)
ON CONFLICT (call_sid) DO UPDATE SET
  ended_at = EXCLUDED.ended_at, outcome = EXCLUDED.outcome, end_reason = EXCLUDED.end_reason,
  duration_ms = COALESCE(EXCLUDED.duration_ms, c.duration_ms), answered_by = COALESCE(EXCLUDED.answered_by, c.answered_by),
  updated_at = now()`,
  },
  {
    key: "stateTransitions",
    sql: `INSERT INTO calls AS c (call_sid, last_state, last_state_seq)
SELECT r.call_sid, r.last_state, r.last_state_seq
FROM jsonb_to_recordset($1::jsonb) AS r(call_sid text, last_state text, last_state_seq integer)
ON CONFLICT (call_sid) DO UPDATE SET last_state = EXCLUDED.last_state, last_state_seq = EXCLUDED.last_state_seq,
  updated_at = now()
WHERE c.last_state_seq IS NULL OR c.last_state_seq < EXCLUDED.last_state_seq`,
  },
  {
    key: "amdResults",
    sql: `INSERT INTO calls AS c (call_sid, answered_by)
SELECT r.call_sid, r.answered_by FROM jsonb_to_recordset($1::jsonb) AS r(call_sid text, answered_by text)
ON CONFLICT (call_sid) DO UPDATE SET answered_by = EXCLUDED.answered_by, updated_at = now()`,
  },
  {
    key: "turns",
    sql: `INSERT INTO turns (call_sid, turn_index, event_id, at, path, endpointing_ms, llm_first_token_ms,
  tts_first_audio_ms, overhead_ms, total_ms, segments)
SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(call_sid text, turn_index integer, event_id text, at timestamptz,
  path text, endpointing_ms integer, llm_first_token_ms integer, tts_first_audio_ms integer, overhead_ms integer,
  total_ms integer, segments jsonb)
ON CONFLICT DO NOTHING`,
  },
  {
    key: "consents",
    sql: `INSERT INTO consents (id, phone, call_sid, kind, granted, text, at)
SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id text, phone text, call_sid text, kind text, granted boolean,
  text text, at timestamptz)
ON CONFLICT (id) DO NOTHING`,
  },
  {
    key: "suppressions",
    sql: `INSERT INTO suppressions (id, phone, source, call_sid, at)
SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id text, phone text, source text, call_sid text, at timestamptz)
ON CONFLICT (id) DO NOTHING`,
  },
  {
    key: "bookings",
    sql: `INSERT INTO bookings AS b (uid, call_sid, attendee_name, attendee_email, attendee_phone, start_at, end_at,
  status, updated_at)
SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(uid text, call_sid text, attendee_name text, attendee_email text,
  attendee_phone text, start_at timestamptz, end_at timestamptz, status text, updated_at timestamptz)
ON CONFLICT (uid) DO UPDATE SET
  call_sid = COALESCE(b.call_sid, EXCLUDED.call_sid), attendee_name = COALESCE(EXCLUDED.attendee_name, b.attendee_name),
  attendee_email = COALESCE(EXCLUDED.attendee_email, b.attendee_email),
  attendee_phone = COALESCE(EXCLUDED.attendee_phone, b.attendee_phone), start_at = EXCLUDED.start_at,
  end_at = COALESCE(EXCLUDED.end_at, b.end_at), status = EXCLUDED.status, updated_at = EXCLUDED.updated_at
WHERE b.updated_at <= EXCLUDED.updated_at`,
  },
  {
    key: "leads",
    sql: `INSERT INTO leads (id, call_sid, name, email, phone, intent, source, crm_contact_id, created_at)
SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id text, call_sid text, name text, email text, phone text,
  intent text, source text, crm_contact_id text, created_at timestamptz)
ON CONFLICT (id) DO NOTHING`,
  },
];

/**
 * Insert a batch (and its projections) in one transaction on `session`. Returns what was new.
 * Exactly once: ids already present are skipped and not projected again.
 */
export async function insertEventBatch(
  session: SqlSession,
  events: readonly CallEvent[],
): Promise<InsertStats> {
  if (events.length === 0) return { received: 0, inserted: 0, invalidPayloads: 0 };
  const json = JSON.stringify(
    events.map((e) => ({
      id: e.id,
      call_sid: e.callSid,
      seq: e.seq,
      type: e.type,
      at_ms: e.atMs,
      payload: e.payload,
    })),
  );
  return inTransaction(session, async () => {
    const inserted = await session.query<{ id: string }>(INSERT_EVENTS, [json]);
    const newIds = new Set(inserted.rows.map((r) => r.id));
    const rows = projectEvents(events.filter((e) => newIds.has(e.id)));
    for (const p of PROJECTIONS) {
      const list = rows[p.key];
      if (list.length > 0) await session.query(p.sql, [JSON.stringify(list)]);
    }
    return {
      received: events.length,
      inserted: newIds.size,
      invalidPayloads: rows.invalid.length,
      invalidTypes: rows.invalid.map((r) => `${r.type}: ${r.issue}`),
    };
  });
}

/** Postgres adapter: opens a session per call (Workers forbid reusing sockets across requests). */
export class PostgresEventStore implements EventStore {
  /** Totals since construction. */
  readonly totals: InsertStats = { received: 0, inserted: 0, invalidPayloads: 0 };

  constructor(
    private readonly connect: SqlConnect,
    private readonly log?: Logger,
  ) {}

  async insertEvents(events: CallEvent[]): Promise<void> {
    if (events.length === 0) return;
    const { session, release } = await this.connect();
    try {
      const stats = await insertEventBatch(session, events);
      this.totals.received += stats.received;
      this.totals.inserted += stats.inserted;
      this.totals.invalidPayloads += stats.invalidPayloads;
      if (stats.invalidPayloads > 0) {
        this.log?.warn("event payloads failed their schema; stored in call_events without projection", {
          invalid: stats.invalidPayloads,
          types: stats.invalidTypes,
        });
      }
    } finally {
      await release();
    }
  }
}
