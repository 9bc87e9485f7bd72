import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AttemptFailure,
  attemptTimeoutMs,
  classifyFailure,
  DEFAULT_LLM_RETRY_POLICY,
  type FailureKind,
  type LlmRetryPolicy,
  nextStep,
  parseRetryAfterMs,
  type RetryState,
} from "../../src/providers/llm-retry-policy";

const P = DEFAULT_LLM_RETRY_POLICY;
const fresh = (over: Partial<RetryState> = {}): RetryState => ({
  elapsedMs: 0,
  retried: false,
  onFallbackModel: false,
  hasFallbackModel: true,
  ...over,
});
const fail = (kind: FailureKind, over: Partial<AttemptFailure> = {}): AttemptFailure => ({
  kind,
  spoke: false,
  ...over,
});

describe("LLM retry policy", () => {
  it("retries a 429 once after its Retry-After when the wait and the fallback still fit the budget", () => {
    expect(nextStep(P, fresh({ elapsedMs: 10 }), fail("transient", { retryAfterMs: 1000 }))).toEqual({
      action: "retry",
      waitMs: 1000,
    });
  });

  it("asks the fallback model at once when the Retry-After would not leave it time", () => {
    expect(nextStep(P, fresh({ elapsedMs: 10 }), fail("transient", { retryAfterMs: 2000 }))).toEqual({
      action: "fallback_model",
    });
  });

  it("waits out a longer Retry-After when there is no fallback model, if a retry still fits", () => {
    const state = fresh({ elapsedMs: 10, hasFallbackModel: false });
    expect(nextStep(P, state, fail("transient", { retryAfterMs: 1900 }))).toEqual({
      action: "retry",
      waitMs: 1900,
    });
    expect(nextStep(P, state, fail("transient", { retryAfterMs: 2100 }))).toEqual({
      action: "give_up",
      reason: "budget",
    });
  });

  it("retries a 5xx without Retry-After after a short pause, then moves to the fallback model", () => {
    expect(nextStep(P, fresh({ elapsedMs: 50 }), fail("transient"))).toEqual({
      action: "retry",
      waitMs: P.retryDelayMs,
    });
    expect(nextStep(P, fresh({ elapsedMs: 200, retried: true }), fail("transient"))).toEqual({
      action: "fallback_model",
    });
    expect(
      nextStep(P, fresh({ elapsedMs: 300, retried: true, onFallbackModel: true }), fail("transient")),
    ).toEqual({ action: "give_up", reason: "exhausted" });
    expect(nextStep(P, fresh({ elapsedMs: 2_100, retried: true }), fail("transient"))).toEqual({
      action: "give_up",
      reason: "budget",
    });
  });

  it("never asks a hung model again: a timeout goes to the fallback model or gives up", () => {
    expect(nextStep(P, fresh({ elapsedMs: 1500 }), fail("timeout"))).toEqual({ action: "fallback_model" });
    expect(nextStep(P, fresh({ elapsedMs: 1500, hasFallbackModel: false }), fail("timeout"))).toEqual({
      action: "give_up",
      reason: "exhausted",
    });
  });

  it("sends a model refusal (400, unusable tool call) to the fallback model, never to a retry", () => {
    expect(nextStep(P, fresh({ elapsedMs: 100 }), fail("model"))).toEqual({ action: "fallback_model" });
    expect(nextStep(P, fresh({ elapsedMs: 100, hasFallbackModel: false }), fail("model"))).toEqual({
      action: "give_up",
      reason: "exhausted",
    });
  });

  it("gives up at once on key or billing failures, caller aborts and spoken text", () => {
    expect(nextStep(P, fresh(), fail("account"))).toEqual({ action: "give_up", reason: "account" });
    expect(nextStep(P, fresh(), fail("aborted"))).toEqual({ action: "give_up", reason: "aborted" });
    expect(nextStep(P, fresh(), fail("transient", { spoke: true }))).toEqual({
      action: "give_up",
      reason: "spoke",
    });
  });

  it("cuts a first attempt early only when the fallback model can still follow it", () => {
    expect(attemptTimeoutMs(P, fresh())).toBe(1500);
    expect(attemptTimeoutMs(P, fresh({ hasFallbackModel: false }))).toBe(2500);
    expect(attemptTimeoutMs(P, fresh({ elapsedMs: 1500, onFallbackModel: true }))).toBe(1000);
    // A retry after a 1 s Retry-After: cut so the fallback model keeps its minimal attempt.
    expect(attemptTimeoutMs(P, fresh({ elapsedMs: 1200, retried: true }))).toBe(800);
    // Too little left for two attempts: this one gets all of it.
    expect(attemptTimeoutMs(P, fresh({ elapsedMs: 1600 }))).toBe(900);
  });

  it("classifies provider errors", () => {
    expect(classifyFailure({ status: 429, retryable: true, code: "rate_limit_exceeded" })).toBe("transient");
    expect(classifyFailure({ status: 429, retryable: false, code: "insufficient_quota" })).toBe("account");
    expect(classifyFailure({ status: 500, retryable: true, code: "server_error" })).toBe("transient");
    expect(classifyFailure({ status: undefined, retryable: true })).toBe("transient");
    expect(classifyFailure({ status: undefined, retryable: true, code: "timeout" })).toBe("timeout");
    expect(classifyFailure({ status: 401, retryable: false, code: "invalid_api_key" })).toBe("account");
    expect(classifyFailure({ status: 403, retryable: false })).toBe("account");
    expect(classifyFailure({ status: 400, retryable: false })).toBe("model");
    expect(classifyFailure({ retryable: false, code: "unusable_tool_call" })).toBe("model");
    expect(classifyFailure(undefined)).toBe("model");
  });

  it("reads retry-after-ms first, then Retry-After seconds or an HTTP date", () => {
    const now = Date.parse("2026-03-02T10:00:00Z");
    const h = (headers: Record<string, string>) => (name: string) => headers[name];
    expect(parseRetryAfterMs(h({ "retry-after-ms": "1234.5", "retry-after": "2" }), now)).toBe(1235);
    expect(parseRetryAfterMs(h({ "retry-after": "1" }), now)).toBe(1000);
    expect(parseRetryAfterMs(h({ "retry-after": "0.5" }), now)).toBe(500);
    expect(parseRetryAfterMs(h({ "retry-after": "Mon, 02 Mar 2026 10:00:03 GMT" }), now)).toBe(3000);
    expect(parseRetryAfterMs(h({ "retry-after": "Mon, 02 Mar 2026 09:59:00 GMT" }), now)).toBe(0);
    expect(parseRetryAfterMs(h({ "retry-after": "soon" }), now)).toBeUndefined();
    expect(parseRetryAfterMs(h({ "retry-after-ms": "-5", "retry-after": "1" }), now)).toBe(1000);
    expect(parseRetryAfterMs(h({}), now)).toBeUndefined();
  });
});

/** One scripted attempt: how the provider would answer, if given the time. */
interface Scripted {
  kind: FailureKind | "success";
  /** When the response starts (headers); a `timeout` attempt never starts. */
  startMs: number;
  latencyMs: number;
  retryAfterMs: number | undefined;
  spoke: boolean;
}

const policyArb: fc.Arbitrary<LlmRetryPolicy> = fc
  .record({
    budgetMs: fc.integer({ min: 100, max: 8_000 }),
    attemptTimeoutMs: fc.integer({ min: 50, max: 8_000 }),
    minAttemptMs: fc.integer({ min: 10, max: 1_500 }),
    retryDelayMs: fc.integer({ min: 0, max: 1_000 }),
  })
  .map((p) => ({ ...p, attemptTimeoutMs: Math.min(p.attemptTimeoutMs, p.budgetMs) }));

const scriptedArb: fc.Arbitrary<Scripted> = fc.record({
  kind: fc.constantFrom<Scripted["kind"]>("transient", "timeout", "model", "account", "success"),
  startMs: fc.integer({ min: 0, max: 4_000 }),
  latencyMs: fc.integer({ min: 0, max: 10_000 }),
  retryAfterMs: fc.option(
    fc.oneof(fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 3_000, max: 120_000 })),
    { nil: undefined },
  ),
  spoke: fc.boolean(),
});

/** Drive the policy over a scripted provider on a simulated clock, as the wrapper does. */
function simulate(policy: LlmRetryPolicy, hasFallbackModel: boolean, script: Scripted[]) {
  const state: RetryState = { elapsedMs: 0, retried: false, onFallbackModel: false, hasFallbackModel };
  const log: {
    attempt: number;
    timeoutMs: number;
    startedAtMs: number;
    step?: string;
    failure?: Scripted;
  }[] = [];
  let outcome: "success" | "gave_up" = "gave_up";
  for (const s of script) {
    const timeoutMs = attemptTimeoutMs(policy, state);
    // A response that started in time is alive: the attempt may then run to the end of the budget.
    const started = s.kind !== "timeout" && s.startMs < timeoutMs;
    const cutMs = started ? policy.budgetMs - state.elapsedMs : timeoutMs;
    const entry: (typeof log)[number] = {
      attempt: log.length + 1,
      timeoutMs: cutMs,
      startedAtMs: state.elapsedMs,
    };
    log.push(entry);
    const hung = s.kind === "timeout" || s.latencyMs >= cutMs;
    if (!hung && s.kind === "success") {
      state.elapsedMs += s.latencyMs;
      outcome = "success";
      break;
    }
    state.elapsedMs += hung ? cutMs : s.latencyMs;
    const kind: FailureKind = hung ? "timeout" : (s.kind as FailureKind);
    const step = nextStep(policy, state, { kind, retryAfterMs: s.retryAfterMs, spoke: s.spoke && !hung });
    entry.failure = { ...s, kind };
    entry.step = step.action;
    if (step.action === "give_up") break;
    if (step.action === "retry") {
      expect(kind).toBe("transient");
      if (s.retryAfterMs !== undefined) expect(step.waitMs).toBeGreaterThanOrEqual(s.retryAfterMs);
      state.retried = true;
      state.elapsedMs += step.waitMs;
    } else {
      state.onFallbackModel = true;
    }
  }
  return { log, outcome, elapsedMs: state.elapsedMs };
}

describe("LLM retry policy properties", () => {
  it("never exceeds the turn budget, makes at most one retry and one fallback-model attempt", () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.boolean(),
        fc.array(scriptedArb, { minLength: 1, maxLength: 6 }),
        (p, fb, s) => {
          const { log, elapsedMs } = simulate(p, fb, s);
          expect(elapsedMs).toBeLessThanOrEqual(p.budgetMs);
          expect(log.length).toBeLessThanOrEqual(3);
          const retries = log.filter((e) => e.step === "retry").length;
          const fallbacks = log.filter((e) => e.step === "fallback_model").length;
          expect(retries).toBeLessThanOrEqual(1);
          expect(fallbacks).toBeLessThanOrEqual(fb ? 1 : 0);
          for (const e of log) expect(e.timeoutMs).toBeLessThanOrEqual(p.budgetMs - e.startedAtMs);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it("starts every later attempt with at least a minimal attempt's time left", () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.boolean(),
        fc.array(scriptedArb, { minLength: 1, maxLength: 6 }),
        (p, fb, s) => {
          const { log } = simulate(p, fb, s);
          for (const e of log.slice(1))
            expect(p.budgetMs - e.startedAtMs).toBeGreaterThanOrEqual(p.minAttemptMs);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it("never tries again after spoken text, a key or billing failure, or on the model that hung", () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.boolean(),
        fc.array(scriptedArb, { minLength: 1, maxLength: 6 }),
        (p, fb, s) => {
          const { log } = simulate(p, fb, s);
          for (const e of log) {
            if (e.failure === undefined) continue;
            if (e.failure.spoke && e.failure.kind !== "timeout") expect(e.step).toBe("give_up");
            if (e.failure.kind === "account") expect(e.step).toBe("give_up");
            if (e.failure.kind !== "transient") expect(e.step).not.toBe("retry");
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
