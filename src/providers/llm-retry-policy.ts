/**
 * The turn-budget-aware retry policy for LLM decisions, as plain functions over plain data (no clock,
 * no I/O): which failures are worth asking again, how long one attempt may run, and whether the next
 * step is one retry of the same model, one attempt on the fallback model, or giving up so the flow's
 * fallback branch runs. Every attempt and every wait fits inside the turn's budget; a turn makes at
 * most three requests (first, one retry, one fallback-model attempt).
 */

/** Budget and pacing for one turn's LLM decision. All durations in milliseconds. */
export interface LlmRetryPolicy {
  /** The whole decision, every attempt and every wait included (the engine's `llmTimeoutMs`). */
  budgetMs: number;
  /**
   * An attempt another may follow is cut when the provider has not started answering (no response
   * headers) after this long, so a hung request leaves the fallback model time to answer. An attempt
   * that started answering is alive and may run to the end of the budget; so may the last possible one.
   */
  attemptTimeoutMs: number;
  /** No attempt starts with less than this left: a request cannot be answered faster. */
  minAttemptMs: number;
  /** Wait before a retry when the provider named none (a 5xx or a dropped connection). */
  retryDelayMs: number;
}

/** Defaults for a 2.5 s turn budget: a hung first attempt is cut at 1.5 s, leaving 1 s for the fallback model. */
export const DEFAULT_LLM_RETRY_POLICY: LlmRetryPolicy = {
  budgetMs: 2_500,
  attemptTimeoutMs: 1_500,
  minAttemptMs: 500,
  retryDelayMs: 100,
};

/**
 * What kind of failure one attempt ended in:
 * - `transient`: 408, 429 `rate_limit_exceeded`, 5xx, a dropped connection: the same model may answer if asked again;
 * - `timeout`: the attempt hung past its deadline: that model is not asked again this turn (it already
 *   spent its share of the budget), the fallback model is;
 * - `model`: this model refused the request or answered unusably (400, 404, 422, a broken tool call):
 *   asking it again changes nothing, another model may do better;
 * - `account`: the key or the billing (401, 403, `insufficient_quota`): every model fails alike;
 * - `aborted`: the caller cancelled (barge-in, the engine's turn timer): stop at once.
 */
export type FailureKind = "transient" | "timeout" | "model" | "account" | "aborted";

/** Error codes that fail every model on the same key, whatever the status. */
const ACCOUNT_CODES = new Set([
  "insufficient_quota",
  "invalid_api_key",
  "account_deactivated",
  "billing_hard_limit_reached",
  "unsupported_country_region_territory",
]);

/** The parts of a provider error the policy reads (a `ProviderError` fits). */
export interface FailureFacts {
  status?: number | undefined;
  retryable?: boolean;
  code?: string | undefined;
}

/** Classify a failed attempt (pure). Timeouts and caller aborts are told apart by the caller, which owns the deadlines. */
export function classifyFailure(error: FailureFacts | undefined): FailureKind {
  if (error === undefined) return "model";
  if (error.code === "timeout") return "timeout";
  if (error.status === 401 || error.status === 403) return "account";
  if (error.code !== undefined && ACCOUNT_CODES.has(error.code)) return "account";
  if (error.retryable === true) return "transient";
  return "model";
}

/** Where one turn's decision stands before the next step. */
export interface RetryState {
  /** Time spent on this decision so far (attempts and waits). */
  elapsedMs: number;
  /** The one same-model retry has been used. */
  retried: boolean;
  /** The fallback model has been asked (it is asked at most once). */
  onFallbackModel: boolean;
  /** A fallback model different from the primary is configured. */
  hasFallbackModel: boolean;
}

/** One failed attempt, as the policy sees it. */
export interface AttemptFailure {
  kind: FailureKind;
  /** The provider's requested wait, when it named one. */
  retryAfterMs?: number | undefined;
  /** Reply text of this attempt already went to the caller's ear: nothing may be retried silently. */
  spoke: boolean;
}

/** Why the policy stopped: the flow's fallback branch runs. */
export type GiveUpReason = "spoke" | "aborted" | "account" | "budget" | "exhausted";

/** The policy's answer after a failed attempt. */
export type NextStep =
  | { action: "retry"; waitMs: number }
  | { action: "fallback_model" }
  | { action: "give_up"; reason: GiveUpReason };

function fallbackAvailable(state: RetryState): boolean {
  return state.hasFallbackModel && !state.onFallbackModel;
}

/**
 * How long the attempt about to start may wait for the provider to start answering (once it has, it
 * may run to the end of the budget). It is cut early only when another attempt could still follow a
 * hang (the fallback model is unused) and the budget has room for both; otherwise it gets the rest of
 * the budget. Never more than what is left.
 */
export function attemptTimeoutMs(policy: LlmRetryPolicy, state: RetryState): number {
  const remaining = Math.max(0, policy.budgetMs - state.elapsedMs);
  const followable = fallbackAvailable(state) && remaining - policy.minAttemptMs >= policy.minAttemptMs;
  if (!followable) return remaining;
  return Math.max(policy.minAttemptMs, Math.min(policy.attemptTimeoutMs, remaining - policy.minAttemptMs));
}

/**
 * The next step after a failed attempt (`state.elapsedMs` is the time when it failed).
 *
 * - Text already spoken, a caller abort, or an account failure: give up.
 * - A transient failure, before the retry was used: retry the same model after the provider's
 *   `Retry-After` (or `retryDelayMs`) when that wait plus a minimal attempt fits what is left, and
 *   still leaves the fallback model a minimal attempt when it has not been asked yet. A wait that
 *   does not fit is not taken: the fallback model is asked at once instead.
 * - Otherwise (wait too long, a timeout, a model refusal, the retry used): the fallback model, once,
 *   if one is configured and a minimal attempt still fits.
 * - Otherwise give up.
 */
export function nextStep(policy: LlmRetryPolicy, state: RetryState, failure: AttemptFailure): NextStep {
  if (failure.spoke) return { action: "give_up", reason: "spoke" };
  if (failure.kind === "aborted") return { action: "give_up", reason: "aborted" };
  if (failure.kind === "account") return { action: "give_up", reason: "account" };
  const remaining = policy.budgetMs - state.elapsedMs;
  const fallback = fallbackAvailable(state);
  let possible = false;
  if (failure.kind === "transient" && !state.retried) {
    possible = true;
    const waitMs = Math.max(0, Math.ceil(failure.retryAfterMs ?? policy.retryDelayMs));
    const needed = waitMs + policy.minAttemptMs + (fallback ? policy.minAttemptMs : 0);
    if (needed <= remaining) return { action: "retry", waitMs };
  }
  if (fallback) {
    possible = true;
    if (policy.minAttemptMs <= remaining) return { action: "fallback_model" };
  }
  return { action: "give_up", reason: possible ? "budget" : "exhausted" };
}

/**
 * The provider's requested wait in milliseconds, from `retry-after-ms` (OpenAI, milliseconds) or
 * `Retry-After` (delta-seconds or an HTTP date, relative to `nowMs`). `undefined` when absent or
 * unparseable; a date in the past is 0.
 */
export function parseRetryAfterMs(
  header: (name: string) => string | null | undefined,
  nowMs: number,
): number | undefined {
  const ms = header("retry-after-ms")?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.ceil(Number(ms));
  const value = header("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
