/**
 * Erasure of a call's recording and transcript, on request or when its retention period ends. The
 * recording object goes, transcript words and captured personal fields are removed from the audit
 * events (at any depth), and the erasure itself is recorded as an audit event. Consent and opt-out records stay:
 * they are what proves a number must not be called again.
 */
import { recordingObjectKey } from "../call/recording-store";
import { inTransaction, type SqlSession } from "../store/sql-client";
import { scrubPayload } from "./scrub";

/** Where a call's assembled transcript is kept (beside `recordings/{callSid}.wav`). */
export function transcriptObjectKey(callSid: string): string {
  return `transcripts/${callSid}.json`;
}

/** Events kept whole: the compliance record of consent and opt-out. */
const KEPT_TYPES = ["consent.recorded", "opt_out.recorded"];

export interface ErasureResult {
  callSid: string;
  recordingDeleted: boolean;
  eventsRedacted: number;
}

export interface ErasureDeps {
  session: SqlSession;
  bucket: Pick<R2Bucket, "head" | "delete">;
  nowMs: number;
}

/** Erase one call. Idempotent: erasing twice redacts nothing new and records a second erasure event. */
export async function eraseCall(
  deps: ErasureDeps,
  callSid: string,
  reason: "request" | "retention",
  requestedBy: string,
): Promise<ErasureResult> {
  const key = recordingObjectKey(callSid);
  const existed = (await deps.bucket.head(key)) !== null;
  if (existed) await deps.bucket.delete(key);
  await deps.bucket.delete(transcriptObjectKey(callSid));
  return inTransaction(deps.session, async () => {
    // Personal keys go at any depth (a nested `contact.email` as much as a top-level `text`).
    const events = await deps.session.query<{ id: string; payload: Record<string, unknown> }>(
      "SELECT id, payload FROM call_events WHERE call_sid = $1 AND NOT (type = ANY($2::text[]))",
      [callSid, KEPT_TYPES],
    );
    let redacted = 0;
    for (const e of events.rows) {
      const scrubbed = scrubPayload(e.payload, []);
      if (JSON.stringify(scrubbed) === JSON.stringify(e.payload)) continue;
      await deps.session.query("UPDATE call_events SET payload = $2::jsonb WHERE id = $1", [
        e.id,
        JSON.stringify(scrubbed),
      ]);
      redacted++;
    }
    await deps.session.query(
      "UPDATE calls SET from_number = NULL, to_number = NULL, erased_at = $2 WHERE call_sid = $1",
      [callSid, new Date(deps.nowMs)],
    );
    await deps.session.query("DELETE FROM call_scorecards WHERE call_sid = $1", [callSid]);
    const stream = `erasure:${callSid}`;
    const prior = await deps.session.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM call_events WHERE call_sid = $1",
      [stream],
    );
    const result: ErasureResult = {
      callSid,
      recordingDeleted: existed,
      eventsRedacted: redacted,
    };
    await deps.session.query(
      "INSERT INTO call_events (id, call_sid, seq, type, at, payload) VALUES ($1, $2, $3, 'call.erased', $4, $5::jsonb) ON CONFLICT (id) DO NOTHING",
      [
        crypto.randomUUID(),
        stream,
        Number(prior.rows[0]?.n ?? 0),
        new Date(deps.nowMs),
        JSON.stringify({ ...result, reason, requestedBy }),
      ],
    );
    return result;
  });
}

export interface RetentionRun {
  erased: ErasureResult[];
  /** Calls whose erasure failed this run (retried by the next run). */
  failed: number;
  /** True when nothing is due any more; false when the time budget ran out first (the next run resumes). */
  done: boolean;
}

export interface RetentionOptions {
  /** Calls per query. */
  batch?: number;
  /** Stop starting new erasures after this long (the job's own wall-clock limit). */
  budgetMs?: number;
  /** Current time, read before each call (the budget is measured on it). */
  clock?: () => number;
  /** Also wipe each call's Durable Object storage and live state. */
  forgetCall?: (callSid: string) => Promise<void>;
  /** A call that could not be erased (logged by the caller without personal data). */
  onFailure?: (callSid: string, err: unknown) => void;
}

/**
 * Erase every ended call older than the retention period, batch after batch until nothing is due or
 * the time budget is spent. Resumable by construction: an erased call drops out of the query, so the
 * next run starts where this one stopped; a call that fails is skipped for the rest of this run.
 */
export async function purgeExpired(
  deps: ErasureDeps,
  retentionDays: number,
  options: RetentionOptions = {},
): Promise<RetentionRun> {
  const run: RetentionRun = { erased: [], failed: 0, done: true };
  if (retentionDays <= 0) return run;
  const batch = options.batch ?? 100;
  const clock = options.clock ?? (() => deps.nowMs);
  const deadline = clock() + (options.budgetMs ?? 5 * 60_000);
  const cutoff = new Date(deps.nowMs - retentionDays * 86_400_000);
  let after: { endedAt: Date; callSid: string } | null = null;
  for (;;) {
    const due: { rows: { call_sid: string; ended_at: Date }[] } = await deps.session.query<{
      call_sid: string;
      ended_at: Date;
    }>(
      `SELECT call_sid, ended_at FROM calls
        WHERE erased_at IS NULL AND ended_at IS NOT NULL AND ended_at < $1
          AND ($3::timestamptz IS NULL OR (ended_at, call_sid) > ($3::timestamptz, $4::text))
        ORDER BY ended_at, call_sid LIMIT $2`,
      [cutoff, batch, after?.endedAt ?? null, after?.callSid ?? ""],
    );
    if (due.rows.length === 0) return run;
    for (const row of due.rows) {
      if (clock() >= deadline) return { ...run, done: false };
      after = { endedAt: new Date(row.ended_at), callSid: row.call_sid };
      try {
        run.erased.push(
          await eraseCall({ ...deps, nowMs: deps.nowMs }, row.call_sid, "retention", "retention-policy"),
        );
        if (/^CA[0-9a-fA-F]{32}$/.test(row.call_sid)) await options.forgetCall?.(row.call_sid);
      } catch (err) {
        run.failed++;
        options.onFailure?.(row.call_sid, err);
      }
    }
  }
}
