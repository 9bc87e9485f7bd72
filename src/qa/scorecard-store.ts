/**
 * Scorecards in Postgres: reads a call's events back from `call_events`, scores them and upserts the
 * result into `call_scorecards`. Runs over any `SqlSession` (Neon in Workers, PGlite locally), never on
 * the call's hot path: the call Durable Object may call `scoreAndStore` at call end from `waitUntil`,
 * and the dashboard scores calls lazily when a scorecard is missing or stale.
 */
import type { SqlSession } from "../store/sql-client";
import type { QaEvent } from "./call-facts";
import { DEFAULT_QA_CONFIG, type QaConfig } from "./config";
import { type CallSummary, summarizeCall } from "./rollups";
import { type Scorecard, scoreCall } from "./scorecard";

const EVENTS_SQL = `SELECT id, call_sid, seq, type, (extract(epoch FROM at) * 1000)::float8 AS at_ms, payload
FROM call_events WHERE call_sid = ANY($1::text[]) ORDER BY call_sid, seq`;

interface EventRow {
  id: string;
  call_sid: string;
  seq: number;
  type: string;
  at_ms: number | string;
  payload: Record<string, unknown> | null;
}

/** Every event of each call in `callSids`, in seq order, grouped by call. */
export async function loadEvents(
  session: SqlSession,
  callSids: readonly string[],
): Promise<Map<string, QaEvent[]>> {
  const out = new Map<string, QaEvent[]>();
  if (callSids.length === 0) return out;
  const { rows } = await session.query<EventRow>(EVENTS_SQL, [callSids]);
  for (const r of rows) {
    const list = out.get(r.call_sid) ?? [];
    list.push({
      id: r.id,
      seq: r.seq,
      type: r.type,
      atMs: Math.round(Number(r.at_ms)),
      payload: r.payload ?? {},
    });
    out.set(r.call_sid, list);
  }
  return out;
}

const UPSERT_SQL = `INSERT INTO call_scorecards AS s (call_sid, score, criteria, outcome, campaign_id, started_at,
  live_answered, abandoned, p50_ms, p95_ms, turn_totals_ms, unanswered_turns, first_unanswered_ms, event_count, computed_at)
SELECT r.call_sid, r.score, r.criteria, r.outcome, r.campaign_id, to_timestamp(r.started_at_ms / 1000.0),
  r.live_answered, r.abandoned, r.p50_ms, r.p95_ms,
  ARRAY(SELECT jsonb_array_elements_text(r.turn_totals_ms)::integer), r.unanswered_turns, r.first_unanswered_ms,
  r.event_count, to_timestamp(r.computed_at_ms / 1000.0)
FROM jsonb_to_recordset($1::jsonb) AS r(call_sid text, score integer, criteria jsonb, outcome text, campaign_id text,
  started_at_ms bigint, live_answered boolean, abandoned boolean, p50_ms integer, p95_ms integer, turn_totals_ms jsonb,
  unanswered_turns integer, first_unanswered_ms integer, event_count integer, computed_at_ms bigint)
ON CONFLICT (call_sid) DO UPDATE SET score = EXCLUDED.score, criteria = EXCLUDED.criteria, outcome = EXCLUDED.outcome,
  campaign_id = EXCLUDED.campaign_id, started_at = EXCLUDED.started_at, live_answered = EXCLUDED.live_answered,
  abandoned = EXCLUDED.abandoned, p50_ms = EXCLUDED.p50_ms, p95_ms = EXCLUDED.p95_ms,
  turn_totals_ms = EXCLUDED.turn_totals_ms, unanswered_turns = EXCLUDED.unanswered_turns,
  first_unanswered_ms = EXCLUDED.first_unanswered_ms, event_count = EXCLUDED.event_count, computed_at = EXCLUDED.computed_at
WHERE s.event_count <= EXCLUDED.event_count`;

/** A scored call ready to store. */
export interface ScoredCall {
  callSid: string;
  card: Scorecard;
  summary: CallSummary;
  eventCount: number;
}

/** Score one call's events (pure). */
export function scoreEvents(
  callSid: string,
  events: readonly QaEvent[],
  config: QaConfig = DEFAULT_QA_CONFIG,
): ScoredCall {
  const card = scoreCall(events, config);
  const summary = summarizeCall(callSid, events, config, card);
  return { callSid, card, summary, eventCount: events.length };
}

/** Upsert scorecards in one statement; a scorecard computed from fewer events never replaces a newer one. */
export async function upsertScorecards(
  session: SqlSession,
  scored: readonly ScoredCall[],
  nowMs: number,
): Promise<void> {
  if (scored.length === 0) return;
  const rows = scored.map((s) => ({
    call_sid: s.callSid,
    score: s.card.score,
    criteria: s.card.criteria,
    outcome: s.card.outcome,
    campaign_id: s.summary.campaignId,
    started_at_ms: s.summary.startedAtMs,
    live_answered: s.summary.liveAnswered,
    abandoned: s.summary.abandoned,
    p50_ms: s.card.p50Ms,
    p95_ms: s.card.p95Ms,
    turn_totals_ms: s.summary.turnTotalsMs,
    unanswered_turns: s.summary.unansweredTurns,
    first_unanswered_ms: s.summary.firstUnansweredMs,
    event_count: s.eventCount,
    computed_at_ms: nowMs,
  }));
  await session.query(UPSERT_SQL, [JSON.stringify(rows)]);
}

/** Score the calls in `callSids` from their stored events and upsert the scorecards. Calls with no events are skipped. */
export async function scoreAndStoreMany(
  session: SqlSession,
  callSids: readonly string[],
  config: QaConfig = DEFAULT_QA_CONFIG,
  nowMs: number = Date.now(),
): Promise<ScoredCall[]> {
  const events = await loadEvents(session, callSids);
  const scored = [...events.entries()].map(([sid, list]) => scoreEvents(sid, list, config));
  await upsertScorecards(session, scored, nowMs);
  return scored;
}

/**
 * Score one call from its event log and store the scorecard. For the call Durable Object at call end,
 * after its outbox flushed (off the hot path). Returns null when the call has no stored events yet.
 */
export async function scoreAndStore(
  session: SqlSession,
  callSid: string,
  config: QaConfig = DEFAULT_QA_CONFIG,
): Promise<ScoredCall | null> {
  const [scored] = await scoreAndStoreMany(session, [callSid], config);
  return scored ?? null;
}
