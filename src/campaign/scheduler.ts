/**
 * The campaign dialer's decisions, pure: which leads may be dialled now (pace, concurrency, each lead's
 * own calling window), when to wake next, and what a closed attempt means for its lead (retry or done).
 * No I/O and no clock reads: the Durable Object passes `nowMs` and carries out the plan.
 */
import type { CallingWindow } from "../flow/schema";
import { nextWindowOpenMs } from "./window";

/** Sliding window over which `pacingPerMinute` is enforced. */
export const PACE_WINDOW_MS = 60_000;
/** Most candidates handed over per tick (the shell skips suppressed ones and dials at most `budget`). */
export const MAX_CANDIDATES = 25;
/** When no window opens within the search horizon, look again after this long. */
export const WINDOW_RECHECK_MS = 6 * 3_600_000;

/** A lead as the scheduler sees it. `order` keeps the list's insertion order among equals. */
export interface SchedulerLead {
  id: string;
  timeZone: string;
  status: "pending" | "dialing" | "done";
  /** Earliest instant of the next attempt (0 = as soon as the window allows). */
  nextAtMs: number;
  order: number;
}

/** What the plan depends on. `recentDialsMs` holds the start instants of recent dials (any order). */
export interface SchedulerState {
  running: boolean;
  maxConcurrentCalls: number;
  pacingPerMinute: number;
  callingWindow: CallingWindow;
  inFlight: number;
  recentDialsMs: readonly number[];
  leads: readonly SchedulerLead[];
}

/** The plan for one tick. Dial at most `budget` of `candidates`, in order; wake at `wakeAtMs` (null: wait for events). */
export interface DialPlan {
  budget: number;
  candidates: string[];
  wakeAtMs: number | null;
  /** Why nothing is dialled now, for logs and progress. */
  blockedBy: "paused" | "concurrency" | "pace" | "window" | "no_leads" | null;
}

/** Minimum gap between two dials, so the pace is spread evenly over the minute instead of bursting. */
export function dialSpacingMs(pacingPerMinute: number): number {
  return Math.ceil(PACE_WINDOW_MS / Math.max(1, pacingPerMinute));
}

/** The earliest instant at which pacing allows another dial (`nowMs` when it already does). */
export function paceReadyAtMs(
  state: Pick<SchedulerState, "pacingPerMinute" | "recentDialsMs">,
  nowMs: number,
): number {
  const recent = state.recentDialsMs.filter((t) => t > nowMs - PACE_WINDOW_MS).sort((a, b) => a - b);
  let ready = nowMs;
  const last = recent[recent.length - 1];
  if (last !== undefined) ready = Math.max(ready, last + dialSpacingMs(state.pacingPerMinute));
  if (recent.length >= state.pacingPerMinute) {
    // The oldest dial that must leave the window before one more fits.
    const leaving = recent[recent.length - state.pacingPerMinute];
    if (leaving !== undefined) ready = Math.max(ready, leaving + PACE_WINDOW_MS);
  }
  return ready;
}

/**
 * Plan one tick. A lead is eligible when it is pending, its retry time has come and its own calling
 * window is open now; the budget is 0 or 1 (one dial per spacing interval) and 0 when every line is busy.
 */
export function nextDials(state: SchedulerState, nowMs: number): DialPlan {
  if (!state.running) return { budget: 0, candidates: [], wakeAtMs: null, blockedBy: "paused" };
  const readyCache = new Map<string, number | null>();
  const readyAt = (lead: SchedulerLead): number | null => {
    const from = Math.max(nowMs, lead.nextAtMs);
    const key = `${lead.timeZone}|${from}`;
    if (!readyCache.has(key)) readyCache.set(key, nextWindowOpenMs(from, lead.timeZone, state.callingWindow));
    return readyCache.get(key) ?? null;
  };
  const eligible: SchedulerLead[] = [];
  let laterMs: number | null = null;
  let anyPending = false;
  for (const lead of state.leads) {
    if (lead.status !== "pending") continue;
    anyPending = true;
    const at = readyAt(lead) ?? Math.max(nowMs, lead.nextAtMs) + WINDOW_RECHECK_MS;
    if (at <= nowMs) eligible.push(lead);
    else laterMs = laterMs === null ? at : Math.min(laterMs, at);
  }
  if (!anyPending) return { budget: 0, candidates: [], wakeAtMs: null, blockedBy: "no_leads" };
  eligible.sort((a, b) => a.nextAtMs - b.nextAtMs || a.order - b.order);
  const candidates = eligible.slice(0, MAX_CANDIDATES).map((l) => l.id);
  if (candidates.length === 0) return { budget: 0, candidates, wakeAtMs: laterMs, blockedBy: "window" };
  if (state.inFlight >= state.maxConcurrentCalls) {
    // A closing attempt (status callback) re-plans; until then only later leads could change anything.
    return { budget: 0, candidates, wakeAtMs: laterMs, blockedBy: "concurrency" };
  }
  const paceAt = paceReadyAtMs(state, nowMs);
  if (paceAt > nowMs) {
    return {
      budget: 0,
      candidates,
      wakeAtMs: laterMs === null ? paceAt : Math.min(laterMs, paceAt),
      blockedBy: "pace",
    };
  }
  // After this dial the next one is due one spacing later (the shell re-plans then).
  const nextPace = nowMs + dialSpacingMs(state.pacingPerMinute);
  return {
    budget: 1,
    candidates,
    wakeAtMs: laterMs === null ? nextPace : Math.min(laterMs, nextPace),
    blockedBy: null,
  };
}

/** How an attempt ended: a Twilio terminal status, a create that failed, or an attempt that never reported back. */
export type AttemptEnd =
  | "completed"
  | "busy"
  | "no-answer"
  | "failed"
  | "canceled"
  | "dial_error_retryable"
  | "dial_error"
  | "stale";

/** What is known about a closed attempt. */
export interface ClosedAttempt {
  end: AttemptEnd;
  /** Attempts made for this lead, the closed one included. */
  attempts: number;
  answeredBy: string | null;
}

/** Final results of a lead. */
export type LeadResult =
  | "answered"
  | "voicemail"
  | "no_answer"
  | "busy"
  | "failed"
  | "suppressed"
  | "no_consent";

/** What happens to the lead next. */
export type LeadNext = { status: "pending"; nextAtMs: number } | { status: "done"; result: LeadResult };

/** Whether Twilio's AMD said a machine (or fax) answered. */
export function isMachine(answeredBy: string | null): boolean {
  return answeredBy !== null && (answeredBy.startsWith("machine") || answeredBy === "fax");
}

/** Retry delay after a Twilio-side failure where nothing was dialled (5xx): short, but counted. */
export const DIAL_ERROR_RETRY_MS = 60_000;

/**
 * The lead's next step after an attempt closes. Only no-answer and busy are retried under the policy
 * (and a 5xx on create, where nothing was dialled); never more than `maxAttempts` attempts in total.
 */
export function afterAttempt(
  a: ClosedAttempt,
  policy: { maxAttempts: number; delayMs: number },
  nowMs: number,
): LeadNext {
  const canRetry = a.attempts < policy.maxAttempts;
  switch (a.end) {
    case "completed":
      return { status: "done", result: isMachine(a.answeredBy) ? "voicemail" : "answered" };
    case "busy":
    case "no-answer":
      if (canRetry) return { status: "pending", nextAtMs: nowMs + policy.delayMs };
      return { status: "done", result: a.end === "busy" ? "busy" : "no_answer" };
    case "dial_error_retryable":
      if (canRetry) return { status: "pending", nextAtMs: nowMs + DIAL_ERROR_RETRY_MS };
      return { status: "done", result: "failed" };
    case "failed":
    case "canceled":
    case "dial_error":
    case "stale":
      return { status: "done", result: "failed" };
  }
}

/** Twilio statuses that end a call. */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set([
  "completed",
  "busy",
  "failed",
  "no-answer",
  "canceled",
]);
