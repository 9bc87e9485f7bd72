/**
 * Postgres writes and reads of the business functions: a booking delivery (its `booking.*` event,
 * keyed on the booking uid and trigger, plus the `bookings` row), a captured lead (its `lead.captured`
 * event plus the `leads` row) and the pre-dial suppression check. Each write is one transaction
 * keyed deterministically, so a replay inserts nothing.
 */
import { sha256Hex } from "../integrations/crypto";
import { EVENT_TYPES } from "../store/call-event";
import type { SqlSession } from "../store/sql-client";
import { inTransaction } from "../store/sql-client";

/** A booking as a webhook delivery describes it. */
export interface BookingRecord {
  uid: string;
  trigger: "BOOKING_CREATED" | "BOOKING_RESCHEDULED" | "BOOKING_CANCELLED";
  callSid: string | undefined;
  startIso: string;
  endIso: string;
  status: "accepted" | "cancelled";
  attendee: { name?: string | undefined; email: string; phone?: string | undefined };
  /** For a reschedule, the uid of the booking it replaces. */
  replacesUid: string | undefined;
  atMs: number;
}

/** Per-uid sequence of each trigger, so the booking's event stream has stable, unique seqs. */
export const TRIGGER_SEQ: Record<BookingRecord["trigger"], number> = {
  BOOKING_CREATED: 0,
  BOOKING_RESCHEDULED: 1,
  BOOKING_CANCELLED: 2,
};

/** The event id of a delivery: the same for every replay of it. */
export function bookingEventId(uid: string, trigger: BookingRecord["trigger"]): string {
  return `cal:${uid}:${trigger}`;
}

const INSERT_EVENT = `
INSERT INTO call_events (id, call_sid, seq, type, at, payload)
VALUES ($1, $2, $3, $4, to_timestamp($5::bigint / 1000.0), $6::jsonb)
ON CONFLICT DO NOTHING
RETURNING id`;

const UPSERT_BOOKING = `
INSERT INTO bookings AS b (uid, call_sid, attendee_name, attendee_email, attendee_phone, start_at, end_at, status, updated_at)
VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $7::timestamptz, $8, to_timestamp($9::bigint / 1000.0))
ON CONFLICT (uid) DO UPDATE SET
  call_sid = COALESCE(b.call_sid, EXCLUDED.call_sid),
  attendee_name = COALESCE(EXCLUDED.attendee_name, b.attendee_name),
  attendee_email = COALESCE(EXCLUDED.attendee_email, b.attendee_email),
  attendee_phone = COALESCE(EXCLUDED.attendee_phone, b.attendee_phone),
  start_at = EXCLUDED.start_at, end_at = EXCLUDED.end_at,
  status = CASE WHEN b.status = 'cancelled' THEN b.status ELSE EXCLUDED.status END,
  updated_at = GREATEST(b.updated_at, EXCLUDED.updated_at)
RETURNING (xmax = 0) AS inserted`;

/** What a booking write did: `already_recorded` for a replay; `reconciled` when the row existed. */
export type BookingWrite = "inserted" | "reconciled" | "already_recorded";

/**
 * Record one delivery: its event (exactly once) and, only when the event is new, the `bookings` row
 * (upsert on uid, so a booking the agent already recorded is completed, never duplicated). A
 * reschedule also marks the booking it replaces.
 */
export async function recordBooking(session: SqlSession, b: BookingRecord): Promise<BookingWrite> {
  return inTransaction(session, async () => {
    const type = b.trigger === "BOOKING_CREATED" ? EVENT_TYPES.bookingCreated : EVENT_TYPES.bookingUpdated;
    const payload = {
      uid: b.uid,
      trigger: b.trigger,
      start: b.startIso,
      end: b.endIso,
      status: b.status,
      attendee: { name: b.attendee.name, email: b.attendee.email, phone: b.attendee.phone },
      ...(b.callSid ? { callSid: b.callSid } : {}),
      ...(b.replacesUid ? { replacesUid: b.replacesUid } : {}),
    };
    const event = await session.query(INSERT_EVENT, [
      bookingEventId(b.uid, b.trigger),
      `booking:${b.uid}`,
      TRIGGER_SEQ[b.trigger],
      type,
      b.atMs,
      JSON.stringify(payload),
    ]);
    if (event.rows.length === 0) return "already_recorded";
    const row = await session.query<{ inserted: boolean }>(UPSERT_BOOKING, [
      b.uid,
      b.callSid ?? null,
      b.attendee.name ?? null,
      b.attendee.email,
      b.attendee.phone ?? null,
      b.startIso,
      b.endIso,
      b.status,
      b.atMs,
    ]);
    if (b.replacesUid) {
      await session.query(
        "UPDATE bookings SET status = 'rescheduled', updated_at = to_timestamp($2::bigint / 1000.0) WHERE uid = $1 AND status <> 'cancelled'",
        [b.replacesUid, b.atMs],
      );
    }
    return row.rows[0]?.inserted === false ? "reconciled" : "inserted";
  });
}

/** A lead as stored: the form fields plus what the background work learned. */
export interface LeadRecord {
  leadId: string;
  name: string;
  email: string;
  phone: string;
  intent: string;
  source: string;
  siteId: string;
  crmContactId: string | undefined;
  callSid: string | undefined;
  decision: string;
  atMs: number;
}

const INSERT_LEAD = `
INSERT INTO leads (id, call_sid, name, email, phone, intent, source, crm_contact_id, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, to_timestamp($9::bigint / 1000.0))
ON CONFLICT (id) DO NOTHING`;

/** Record a lead once: `lead.captured` in the lead's stream and its `leads` row. False on a replay. */
export async function recordLead(session: SqlSession, l: LeadRecord): Promise<boolean> {
  return inTransaction(session, async () => {
    const payload = {
      leadId: l.leadId,
      name: l.name,
      email: l.email,
      phone: l.phone,
      intent: l.intent,
      source: l.source,
      siteId: l.siteId,
      decision: l.decision,
      ...(l.crmContactId ? { crmContactId: l.crmContactId } : {}),
      ...(l.callSid ? { callSid: l.callSid } : {}),
    };
    const event = await session.query(INSERT_EVENT, [
      `lead:${l.leadId}`,
      `lead:${l.leadId}`,
      0,
      EVENT_TYPES.leadCaptured,
      l.atMs,
      JSON.stringify(payload),
    ]);
    if (event.rows.length === 0) return false;
    await session.query(INSERT_LEAD, [
      l.leadId,
      l.callSid ?? null,
      l.name,
      l.email,
      l.phone,
      l.intent,
      l.source,
      l.crmContactId ?? null,
      l.atMs,
    ]);
    return true;
  });
}

/** Whether any opt-out was ever recorded for the number (opt-outs are never lifted; an erased number matches by hash). */
export async function isSuppressedInDb(session: SqlSession, phone: string): Promise<boolean> {
  const r = await session.query<{ found: boolean }>(
    "SELECT EXISTS (SELECT 1 FROM suppressions WHERE phone = $1 OR phone_hash = $2) AS found",
    [phone, await sha256Hex(phone)],
  );
  return r.rows[0]?.found === true;
}
