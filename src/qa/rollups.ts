/**
 * Campaign rollups: booking and opt-out rates, the abandoned-call rate against Ofcom's 3% per campaign
 * per 24 h (worst rolling window), the latency distribution and the worst calls first. Also the
 * per-call summary (live-answered? abandoned?) the rollups read. Pure.
 */
import { percentile } from "../turn/latency";
import { callFacts, type QaEvent } from "./call-facts";
import type { QaConfig } from "./config";
import { callClock } from "./turn-answers";

/** Ofcom persistent-misuse policy: abandoned calls at most 3% of live-answered calls, per campaign, per 24 h. */
export const OFCOM_MAX_ABANDONED_RATE = 0.03;
/** A live answer not greeted within this time counts as abandoned (Ofcom's 2 s). */
export const ABANDON_GREETING_MS = 2_000;
const DAY_MS = 86_400_000;

/** What the rollups need of one call. */
export interface CallSummary {
  callSid: string;
  campaignId: string | null;
  startedAtMs: number;
  outcome: string;
  score: number;
  /** Answered by a person (AMD human/unknown or no AMD), as far as the log shows. */
  liveAnswered: boolean;
  /** Live-answered, and the agent's greeting did not start within 2 s (or never started). */
  abandoned: boolean;
  /** Voice-to-voice time of each timed turn. */
  turnTotalsMs: number[];
  /** Caller turns that got no answer (a dead call when > 0). */
  unansweredTurns: number;
  /** The first unanswered turn, ms since the call started (null when every turn was answered). */
  firstUnansweredMs: number | null;
}

/** Summarise one call from its events (score and outcome come from its scorecard). */
export function summarizeCall(
  callSid: string,
  events: readonly QaEvent[],
  config: QaConfig,
  scored: { score: number; outcome: string },
): CallSummary {
  const f = callFacts(events, config);
  const amd = f.amdResults[0];
  const answeredBy = amd === undefined ? "human" : String(amd.payload.answeredBy ?? "unknown");
  const callerHungUpBeforeAnswer =
    f.ended !== undefined &&
    ["busy", "failed", "no-answer", "canceled"].includes(String(f.ended.payload.outcome));
  const liveAnswered = !callerHungUpBeforeAnswer && (answeredBy === "human" || answeredBy === "unknown");
  const greeting = f.transitions[0];
  const greetedLate =
    greeting === undefined ||
    f.started === undefined ||
    greeting.event.atMs - f.started.atMs > ABANDON_GREETING_MS;
  return {
    callSid,
    campaignId: f.campaignId ?? null,
    startedAtMs: f.started?.atMs ?? f.events[0]?.atMs ?? 0,
    outcome: scored.outcome,
    score: scored.score,
    liveAnswered,
    abandoned: liveAnswered && greetedLate,
    turnTotalsMs: f.turnLatencies.map((t) => t.totalMs),
    unansweredTurns: f.unansweredTurns.length,
    firstUnansweredMs:
      f.unansweredTurns[0] === undefined
        ? null
        : f.unansweredTurns[0].event.atMs - (f.started?.atMs ?? f.events[0]?.atMs ?? 0),
  };
}

/** One row of a campaign's worst calls, with why it is there when the score alone does not say. */
export interface WorstCall extends Pick<CallSummary, "callSid" | "score" | "outcome" | "startedAtMs"> {
  unansweredTurns: number;
  /** Empty when the call is here for its score alone. */
  reason: string;
}

/** Why a call is among the worst: its unanswered caller turns, if any. */
export function worstReason(c: Pick<CallSummary, "unansweredTurns" | "firstUnansweredMs">): string {
  if (c.unansweredTurns === 0) return "";
  const first = c.firstUnansweredMs === null ? "" : `, first at ${callClock(c.firstUnansweredMs)}`;
  return `${c.unansweredTurns} caller turn${c.unansweredTurns === 1 ? "" : "s"} unanswered${first}`;
}

/** Worst first: calls that left the caller unanswered, then the lowest scores, then the newest. */
export function worstFirst(
  a: Pick<CallSummary, "unansweredTurns" | "score" | "startedAtMs">,
  b: Pick<CallSummary, "unansweredTurns" | "score" | "startedAtMs">,
): number {
  const dead = Number(b.unansweredTurns > 0) - Number(a.unansweredTurns > 0);
  return dead || a.score - b.score || b.startedAtMs - a.startedAtMs;
}

/** The worst rolling 24 h window of a campaign's calls for the abandoned rate. */
export interface AbandonWindow {
  startMs: number;
  endMs: number;
  liveAnswered: number;
  abandoned: number;
  rate: number;
}

/** Worst abandoned rate over every 24 h window that starts at a call (two pointers over calls by start time). */
export function worstAbandonWindow(
  calls: readonly Pick<CallSummary, "startedAtMs" | "liveAnswered" | "abandoned">[],
): AbandonWindow | null {
  const sorted = calls.filter((c) => c.liveAnswered).sort((a, b) => a.startedAtMs - b.startedAtMs);
  let worst: AbandonWindow | null = null;
  let end = 0;
  let abandoned = 0;
  for (let start = 0; start < sorted.length; start++) {
    const s = sorted[start];
    if (s === undefined) break;
    while (end < sorted.length && (sorted[end]?.startedAtMs ?? 0) < s.startedAtMs + DAY_MS) {
      if (sorted[end]?.abandoned) abandoned++;
      end++;
    }
    const live = end - start;
    const rate = live === 0 ? 0 : abandoned / live;
    if (worst === null || rate > worst.rate)
      worst = { startMs: s.startedAtMs, endMs: s.startedAtMs + DAY_MS, liveAnswered: live, abandoned, rate };
    if (s.abandoned) abandoned--;
  }
  return worst;
}

/** Counts of per-turn latencies in buckets `[edge[i-1], edge[i])`, the last bucket open-ended. */
export interface LatencyBucket {
  fromMs: number;
  toMs: number | null;
  count: number;
}

/** Default histogram edges around the 1.6 s budget. */
export const LATENCY_EDGES_MS = [400, 600, 800, 1_000, 1_200, 1_400, 1_600, 2_000, 3_000];

/** Histogram of latencies over `edgesMs`. */
export function latencyHistogram(
  valuesMs: readonly number[],
  edgesMs: readonly number[] = LATENCY_EDGES_MS,
): LatencyBucket[] {
  const buckets: LatencyBucket[] = [];
  let from = 0;
  for (const to of [...edgesMs, null]) {
    buckets.push({ fromMs: from, toMs: to, count: 0 });
    if (to !== null) from = to;
  }
  for (const v of valuesMs) {
    const i = edgesMs.findIndex((edge) => v < edge);
    const b = buckets[i === -1 ? buckets.length - 1 : i];
    if (b) b.count++;
  }
  return buckets;
}

/** One campaign's rollup. */
export interface CampaignRollup {
  campaignId: string | null;
  calls: number;
  liveAnswered: number;
  booked: number;
  bookingRate: number;
  optOuts: number;
  optOutRate: number;
  abandoned: number;
  abandonedRate: number;
  worstWindow: AbandonWindow | null;
  /** True when some 24 h window exceeds Ofcom's 3%. */
  ofcomBreach: boolean;
  averageScore: number | null;
  latency: { turns: number; p50Ms: number | null; p95Ms: number | null; histogram: LatencyBucket[] };
  /** Calls with unanswered caller turns first, then lowest scores. */
  worstCalls: WorstCall[];
}

const rate = (n: number, d: number) => (d === 0 ? 0 : n / d);

/** Roll one campaign's calls up. Rates are per live-answered call (booking, opt-out, abandoned). */
export function rollupCampaign(
  campaignId: string | null,
  calls: readonly CallSummary[],
  worstCount = 10,
): CampaignRollup {
  const live = calls.filter((c) => c.liveAnswered).length;
  const booked = calls.filter((c) => c.outcome === "booked").length;
  const optOuts = calls.filter((c) => c.outcome === "opt_out").length;
  const abandoned = calls.filter((c) => c.abandoned).length;
  const worstWindow = worstAbandonWindow(calls);
  const totals = calls.flatMap((c) => c.turnTotalsMs);
  const worstCalls = [...calls]
    .sort(worstFirst)
    .slice(0, worstCount)
    .map((c) => ({
      callSid: c.callSid,
      score: c.score,
      outcome: c.outcome,
      startedAtMs: c.startedAtMs,
      unansweredTurns: c.unansweredTurns,
      reason: worstReason(c),
    }));
  return {
    campaignId,
    calls: calls.length,
    liveAnswered: live,
    booked,
    bookingRate: rate(booked, live),
    optOuts,
    optOutRate: rate(optOuts, live),
    abandoned,
    abandonedRate: rate(abandoned, live),
    worstWindow,
    ofcomBreach: worstWindow !== null && worstWindow.rate > OFCOM_MAX_ABANDONED_RATE,
    averageScore:
      calls.length === 0 ? null : Math.round(calls.reduce((s, c) => s + c.score, 0) / calls.length),
    latency: {
      turns: totals.length,
      p50Ms: percentile(totals, 50),
      p95Ms: percentile(totals, 95),
      histogram: latencyHistogram(totals),
    },
    worstCalls,
  };
}

/** Rollups for every campaign in `calls`, busiest first. */
export function rollupCampaigns(calls: readonly CallSummary[]): CampaignRollup[] {
  const by = new Map<string | null, CallSummary[]>();
  for (const c of calls) {
    const list = by.get(c.campaignId) ?? [];
    list.push(c);
    by.set(c.campaignId, list);
  }
  return [...by.entries()].map(([id, list]) => rollupCampaign(id, list)).sort((a, b) => b.calls - a.calls);
}
