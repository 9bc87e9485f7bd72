/**
 * The dashboard's reads from Postgres: the calls list with filters and keyset paging, campaign rollups
 * over stored scorecards, and one call's row, events and scorecard. Missing or stale scorecards are
 * computed from the event log and stored on the way (until the call Durable Object stores them at call end).
 */
import type { QaEvent } from "../qa/call-facts";
import type { QaConfig } from "../qa/config";
import type { CallSummary } from "../qa/rollups";
import {
  loadEvents,
  type ScoredCall,
  scoreAndStoreMany,
  scoreEvents,
  upsertScorecards,
} from "../qa/scorecard-store";
import type { SqlSession } from "../store/sql-client";

/** Filters of the calls list (all optional). */
export interface CallFilters {
  campaign?: string;
  outcome?: string;
  minScore?: number;
  maxScore?: number;
  /** Inclusive start / exclusive end of `started_at`, epoch ms. */
  fromMs?: number;
  toMs?: number;
}

/** Position after the last row of a page: its start time and CallSid. */
export interface Cursor {
  startedAtMs: number;
  callSid: string;
}

/** One row of the calls list. */
export interface CallRow {
  callSid: string;
  campaignId: string | null;
  flowId: string | null;
  direction: string | null;
  startedAtMs: number;
  durationMs: number | null;
  outcome: string | null;
  score: number | null;
}

/** Encode a cursor for a URL. */
export function encodeCursor(c: Cursor): string {
  return `${c.startedAtMs}~${c.callSid}`;
}

/** Decode a cursor from a URL; undefined when malformed. */
export function decodeCursor(raw: string | undefined): Cursor | undefined {
  const m = raw === undefined ? null : /^(\d{1,15})~([A-Za-z0-9_-]{1,64})$/.exec(raw);
  if (!m?.[1] || !m[2]) return undefined;
  return { startedAtMs: Number(m[1]), callSid: m[2] };
}

interface RawCallRow {
  call_sid: string;
  campaign_id: string | null;
  flow_id: string | null;
  direction: string | null;
  started_ms: number | string;
  duration_ms: number | null;
  outcome: string | null;
  score: number | null;
  stale?: boolean | null;
}

function toCallRow(r: RawCallRow): CallRow {
  return {
    callSid: r.call_sid,
    campaignId: r.campaign_id,
    flowId: r.flow_id,
    direction: r.direction,
    startedAtMs: Math.round(Number(r.started_ms)),
    durationMs: r.duration_ms,
    outcome: r.outcome,
    score: r.score,
  };
}

/**
 * One page of calls, newest first, keyset-paged on (started_at, call_sid) so every page costs the same
 * on a large table. Returns `pageSize` rows and the cursor of the next page (undefined on the last).
 */
export async function listCalls(
  session: SqlSession,
  filters: CallFilters,
  after: Cursor | undefined,
  pageSize: number,
  config: QaConfig,
  nowMs: number,
): Promise<{ rows: CallRow[]; next: Cursor | undefined }> {
  const where = ["c.started_at IS NOT NULL"];
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (filters.campaign !== undefined) where.push(`c.campaign_id = ${p(filters.campaign)}`);
  if (filters.outcome !== undefined) where.push(`COALESCE(s.outcome, c.outcome) = ${p(filters.outcome)}`);
  if (filters.minScore !== undefined) where.push(`s.score >= ${p(filters.minScore)}`);
  if (filters.maxScore !== undefined) where.push(`s.score <= ${p(filters.maxScore)}`);
  if (filters.fromMs !== undefined)
    where.push(`c.started_at >= to_timestamp(${p(filters.fromMs)}::float8 / 1000)`);
  if (filters.toMs !== undefined)
    where.push(`c.started_at < to_timestamp(${p(filters.toMs)}::float8 / 1000)`);
  if (after !== undefined)
    where.push(
      `(c.started_at, c.call_sid) < (to_timestamp(${p(after.startedAtMs)}::float8 / 1000), ${p(after.callSid)})`,
    );
  const sql = `SELECT c.call_sid, c.campaign_id, c.flow_id, c.direction,
  (extract(epoch FROM c.started_at) * 1000)::float8 AS started_ms, c.duration_ms,
  COALESCE(s.outcome, c.outcome) AS outcome, s.score, s.computed_at < c.updated_at AS stale
FROM calls c LEFT JOIN call_scorecards s ON s.call_sid = c.call_sid
WHERE ${where.join(" AND ")}
ORDER BY c.started_at DESC, c.call_sid DESC
LIMIT ${p(pageSize + 1)}`;
  const { rows } = await session.query<RawCallRow>(sql, params);
  const pageRows = rows.slice(0, pageSize);
  const page = pageRows.map(toCallRow);
  // Unscored calls, and calls whose projection moved on since they were scored (they were in progress).
  const missing = pageRows.filter((r) => r.score === null || r.stale === true).map((r) => r.call_sid);
  if (missing.length > 0) {
    const scored = new Map(
      (await scoreAndStoreMany(session, missing, config, nowMs)).map((s) => [s.callSid, s]),
    );
    for (const r of page) {
      const s = scored.get(r.callSid);
      if (s) {
        r.score = s.card.score;
        r.outcome = s.card.outcome;
      }
    }
  }
  const last = page[page.length - 1];
  const next =
    rows.length > pageSize && last ? { startedAtMs: last.startedAtMs, callSid: last.callSid } : undefined;
  return { rows: page, next };
}

interface SummaryRow {
  call_sid: string;
  campaign_id: string | null;
  started_ms: number | string;
  outcome: string;
  score: number;
  live_answered: boolean;
  abandoned: boolean;
  turn_totals_ms: number[] | null;
  unanswered_turns: number | null;
  first_unanswered_ms: number | null;
}

/** How many unscored calls one page view scores before reading rollups (bounds the work of a view). */
export const LAZY_SCORE_LIMIT = 500;

/** Per-call summaries since `sinceMs` for the campaign rollups, scoring up to LAZY_SCORE_LIMIT unscored calls first. */
export async function campaignSummaries(
  session: SqlSession,
  sinceMs: number,
  config: QaConfig,
  nowMs: number,
): Promise<{ summaries: CallSummary[]; unscored: number }> {
  const since = "to_timestamp($1::float8 / 1000)";
  const missing = await session.query<{ call_sid: string }>(
    `SELECT c.call_sid FROM calls c LEFT JOIN call_scorecards s ON s.call_sid = c.call_sid
WHERE (s.call_sid IS NULL OR s.computed_at < c.updated_at) AND c.started_at >= ${since} ORDER BY c.started_at DESC LIMIT ${LAZY_SCORE_LIMIT + 1}`,
    [sinceMs],
  );
  const sids = missing.rows.map((r) => r.call_sid);
  await scoreAndStoreMany(session, sids.slice(0, LAZY_SCORE_LIMIT), config, nowMs);
  const { rows } = await session.query<SummaryRow>(
    `SELECT call_sid, campaign_id, (extract(epoch FROM started_at) * 1000)::float8 AS started_ms, outcome, score,
  live_answered, abandoned, turn_totals_ms, unanswered_turns, first_unanswered_ms
FROM call_scorecards WHERE started_at >= ${since}`,
    [sinceMs],
  );
  return {
    summaries: rows.map((r) => ({
      callSid: r.call_sid,
      campaignId: r.campaign_id,
      startedAtMs: Math.round(Number(r.started_ms)),
      outcome: r.outcome,
      score: r.score,
      liveAnswered: r.live_answered,
      abandoned: r.abandoned,
      turnTotalsMs: r.turn_totals_ms ?? [],
      unansweredTurns: r.unanswered_turns ?? 0,
      firstUnansweredMs: r.first_unanswered_ms,
    })),
    unscored: Math.max(0, sids.length - LAZY_SCORE_LIMIT),
  };
}

/** One call for its page: its list row, events in order and a scorecard that reflects every event. */
export interface CallDetail {
  row: CallRow | undefined;
  events: QaEvent[];
  scored: ScoredCall | undefined;
}

/** Load one call; rescore and store when the stored scorecard is missing or older than the event log. */
export async function loadCall(
  session: SqlSession,
  callSid: string,
  config: QaConfig,
  nowMs: number,
): Promise<CallDetail> {
  const [rowResult, eventsBySid, stored] = [
    await session.query<RawCallRow>(
      `SELECT c.call_sid, c.campaign_id, c.flow_id, c.direction,
  (extract(epoch FROM c.started_at) * 1000)::float8 AS started_ms, c.duration_ms, c.outcome, NULL::integer AS score
FROM calls c WHERE c.call_sid = $1`,
      [callSid],
    ),
    await loadEvents(session, [callSid]),
    await session.query<{ event_count: number }>(
      "SELECT event_count FROM call_scorecards WHERE call_sid = $1",
      [callSid],
    ),
  ];
  const events = eventsBySid.get(callSid) ?? [];
  const raw = rowResult.rows[0];
  const row = raw ? toCallRow(raw) : undefined;
  if (events.length === 0) return { row, events, scored: undefined };
  const scored = scoreEvents(callSid, events, config);
  if (stored.rows[0]?.event_count !== events.length) await upsertScorecards(session, [scored], nowMs);
  if (row) {
    row.score = scored.card.score;
    row.outcome = scored.card.outcome;
  }
  return { row, events, scored };
}

/** Distinct campaign ids and outcomes, for the filter menus. */
export async function filterChoices(
  session: SqlSession,
): Promise<{ campaigns: string[]; outcomes: string[] }> {
  const [c, o] = [
    await session.query<{ v: string }>(
      "SELECT DISTINCT campaign_id AS v FROM calls WHERE campaign_id IS NOT NULL ORDER BY 1 LIMIT 200",
    ),
    await session.query<{ v: string }>(
      "SELECT DISTINCT outcome AS v FROM call_scorecards ORDER BY 1 LIMIT 100",
    ),
  ];
  return { campaigns: c.rows.map((r) => r.v), outcomes: o.rows.map((r) => r.v) };
}
