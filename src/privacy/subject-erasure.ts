/**
 * Erasure by data subject (a phone number and/or an email) across every store the product writes:
 * Postgres (calls, call_events incl. nested payload keys and the `lead:` / `booking:` streams, turns,
 * bookings, leads, campaign_leads, consents, suppressions), R2 (recording, transcript), through
 * `forgetCall` each call's Durable Object storage and its live-state key in Redis, and at the edge
 * (EdgeState or Redis) the subject's web leads' call variables and a plain do-not-call entry.
 *
 * Consent and opt-out proof stays, minimised to the number's SHA-256 + time + source: the do-not-call
 * checks (Postgres and edge) still match the hash, so an erased subject is never called again.
 */
import { sha256Hex } from "../integrations/crypto";
import type { LeadCallVarsStore, SuppressionSet } from "../lead/edge-ports";
import { inTransaction, type SqlSession } from "../store/sql-client";
import { eraseCall } from "./erasure";
import { scrubPayload } from "./scrub";

/** Events that prove consent or an opt-out: kept, minimised. */
const PROOF_TYPES = new Set(["consent.recorded", "opt_out.recorded"]);

export interface Subject {
  phone?: string;
  email?: string;
}

export interface SubjectErasureDeps {
  session: SqlSession;
  bucket: Pick<R2Bucket, "head" | "delete">;
  nowMs: number;
  /** Wipe one call's Durable Object storage (leaving a tombstone) and its live-state key. */
  forgetCall: (callSid: string) => Promise<void>;
  /** The edge copies: the do-not-call set (a plain entry becomes its hash) and web leads' call variables. */
  edge: {
    suppressions: Pick<SuppressionSet, "minimise">;
    callVars: Pick<LeadCallVarsStore, "delete">;
  };
}

export interface SubjectErasureResult {
  calls: string[];
  eventsScrubbed: number;
  subjectHash: string;
}

/** Erase everything about `subject`. Idempotent; the erasure is recorded (by hash only). */
export async function eraseSubject(
  deps: SubjectErasureDeps,
  subject: Subject,
): Promise<SubjectErasureResult> {
  const needles = [subject.phone, subject.email?.toLowerCase()].filter((n): n is string => Boolean(n));
  if (needles.length === 0) throw new Error("erasure needs a phone number or an email");
  const phone = subject.phone ?? "\u0000";
  const email = subject.email?.toLowerCase() ?? "\u0000";
  const subjectHash = await sha256Hex(needles.join("|"));
  const phoneHash = subject.phone ? await sha256Hex(subject.phone) : null;
  const { session } = deps;

  const sids = await session.query<{ call_sid: string }>(
    `SELECT call_sid FROM calls WHERE from_number = $1 OR to_number = $1
     UNION SELECT call_sid FROM leads WHERE call_sid IS NOT NULL AND (phone = $1 OR lower(email) = $2)
     UNION SELECT call_sid FROM bookings WHERE call_sid IS NOT NULL AND (attendee_phone = $1 OR lower(attendee_email) = $2)
     UNION SELECT call_sid FROM call_events WHERE call_sid LIKE 'CA%' AND (strpos(payload::text, $1) > 0 OR strpos(lower(payload::text), $2) > 0)`,
    [phone, email],
  );
  const calls = [...new Set(sids.rows.map((r) => r.call_sid))].filter((s) => /^CA[0-9a-fA-F]{32}$/.test(s));

  // Edge copies first: a web lead's call variables (name, email), and the opt-out kept by hash only.
  const leads = await session.query<{ id: string }>(
    "SELECT id FROM leads WHERE phone = $1 OR lower(email) = $2",
    [phone, email],
  );
  for (const { id } of leads.rows) await deps.edge.callVars.delete(id);
  if (subject.phone) await deps.edge.suppressions.minimise(subject.phone);

  // The calls' own objects first (recording, transcript), and their live copies.
  for (const callSid of calls) {
    await eraseCall(
      { session, bucket: deps.bucket, nowMs: deps.nowMs },
      callSid,
      "request",
      "subject-erasure",
    );
    await deps.forgetCall(callSid);
  }

  const scrubbed = await inTransaction(session, async () => {
    const events = await session.query<{
      id: string;
      type: string;
      at: Date;
      payload: Record<string, unknown>;
    }>(
      `SELECT id, type, at, payload FROM call_events
        WHERE call_sid = ANY($3::text[]) OR strpos(payload::text, $1) > 0 OR strpos(lower(payload::text), $2) > 0`,
      [phone, email, calls],
    );
    let n = 0;
    for (const e of events.rows) {
      const payload = PROOF_TYPES.has(e.type)
        ? {
            phoneHash,
            source: typeof e.payload.source === "string" ? e.payload.source : null,
            at: new Date(e.at).toISOString(),
          }
        : scrubPayload(e.payload, needles);
      if (JSON.stringify(payload) === JSON.stringify(e.payload)) continue;
      await session.query("UPDATE call_events SET payload = $2::jsonb WHERE id = $1", [
        e.id,
        JSON.stringify(payload),
      ]);
      n++;
    }
    await session.query(
      "UPDATE calls SET from_number = NULL, to_number = NULL, erased_at = COALESCE(erased_at, $2) WHERE call_sid = ANY($1::text[])",
      [calls, new Date(deps.nowMs)],
    );
    await session.query("UPDATE turns SET segments = '{}'::jsonb WHERE call_sid = ANY($1::text[])", [calls]);
    await session.query(
      `UPDATE bookings SET attendee_name = NULL, attendee_email = NULL, attendee_phone = NULL
        WHERE attendee_phone = $1 OR lower(attendee_email) = $2 OR call_sid = ANY($3::text[])`,
      [phone, email, calls],
    );
    await session.query(
      `UPDATE leads SET name = NULL, email = NULL, phone = NULL
        WHERE phone = $1 OR lower(email) = $2 OR call_sid = ANY($3::text[])`,
      [phone, email, calls],
    );
    await session.query("DELETE FROM campaign_leads WHERE phone = $1 OR lower(email) = $2", [phone, email]);
    // Proof stays as hash + time + source (the do-not-call check matches the hash).
    await session.query(
      "UPDATE consents SET phone = $2, text = NULL WHERE phone = $1 OR call_sid = ANY($3::text[])",
      [phone, `sha256:${phoneHash ?? subjectHash}`, calls],
    );
    await session.query("UPDATE suppressions SET phone = NULL, phone_hash = $2 WHERE phone = $1", [
      phone,
      phoneHash,
    ]);
    const stream = `erasure:subject:${subjectHash.slice(0, 32)}`;
    const prior = await session.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM call_events WHERE call_sid = $1",
      [stream],
    );
    await session.query(
      "INSERT INTO call_events (id, call_sid, seq, type, at, payload) VALUES ($1, $2, $3, 'subject.erased', $4, $5::jsonb)",
      [
        crypto.randomUUID(),
        stream,
        Number(prior.rows[0]?.n ?? 0),
        new Date(deps.nowMs),
        JSON.stringify({ subjectHash, calls: calls.length, eventsScrubbed: n }),
      ],
    );
    return n;
  });
  return { calls, eventsScrubbed: scrubbed, subjectHash };
}
