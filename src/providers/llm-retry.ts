/**
 * An LLM port that carries out the turn-budget-aware retry policy (`llm-retry-policy.ts`) around any
 * adapter: each attempt gets its own deadline, a failed one is retried once on the same model or sent
 * to the fallback model, and only when both fail does the error reach the caller (decideTurn then
 * takes the flow's fallback branch). Owns the timers; the decisions are the pure policy's.
 */
import { ProviderError } from "../lib/errors";
import { AsyncQueue } from "./async-queue";
import {
  type AttemptFailure,
  attemptTimeoutMs,
  classifyFailure,
  DEFAULT_LLM_RETRY_POLICY,
  type LlmRetryPolicy,
  nextStep,
  type RetryState,
} from "./llm-retry-policy";
import type { Decision, DecisionRequest, DecisionStream, LanguageModel, LlmRecoveryStep } from "./ports";

/** Options for {@link withLlmRetry}. */
export interface LlmRetryOptions {
  /** The model the adapter uses when a request names none. */
  defaultModel: string;
  /** The model asked when the request's model failed; `undefined` (or the same model) means none. */
  fallbackModel: (model: string) => string | undefined;
  /** Budget and pacing; defaults to {@link DEFAULT_LLM_RETRY_POLICY}. */
  policy?: Partial<LlmRetryPolicy>;
  /** Monotonic clock. Default `performance.now`. */
  nowMs?: () => number;
  /** Every retry or fallback-model attempt, for logs (the request's own `onRecovery` gets it too). */
  onRecovery?: (step: LlmRecoveryStep) => void;
}

/** Wait `ms`, or reject as soon as the caller aborts. */
function pause(ms: number, signal: AbortSignal | undefined, aborted: () => Error): Promise<void> {
  if (signal?.aborted) return Promise.reject(aborted());
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function facts(error: unknown): {
  status?: number;
  code?: string;
  retryable?: boolean;
  retryAfterMs?: number;
} {
  if (!(error instanceof ProviderError)) return {};
  return {
    ...(error.status === undefined ? {} : { status: error.status }),
    ...(error.code === undefined ? {} : { code: error.code }),
    ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
    retryable: error.retryable,
  };
}

/**
 * Wrap an LLM adapter with the retry policy. `decide` may retry any failed attempt the policy allows.
 * `decideStream` may retry only while no reply text has been passed on: once words went to the
 * speaker the caller may already be hearing them, and a second attempt would speak a different reply
 * over or after them, so a stream that fails after speaking is not retried (the error goes to the
 * engine, which takes the flow's fallback branch as for any failed turn). For the same reason an
 * attempt that has started speaking is no longer cut by its attempt deadline: it is committed.
 *
 * The wrapped port must end (or fail) `replyDeltas` when `result` settles, as the adapters do.
 */
export function withLlmRetry(llm: LanguageModel, options: LlmRetryOptions): LanguageModel {
  const policy: LlmRetryPolicy = { ...DEFAULT_LLM_RETRY_POLICY, ...options.policy };
  const now = options.nowMs ?? (() => performance.now());
  const provider = llm.provider;
  const abortedError = () => new ProviderError(provider, "request aborted", undefined, { retryable: false });
  const timeoutError = () =>
    new ProviderError(provider, "request timed out", undefined, { retryable: true, code: "timeout" });

  async function run(req: DecisionRequest, out: AsyncQueue<string> | null): Promise<Decision> {
    const startMs = now();
    const primary = req.model ?? options.defaultModel;
    const candidate = options.fallbackModel(primary);
    const fallback = candidate !== undefined && candidate !== primary ? candidate : undefined;
    let model = primary;
    let attempt = 0;
    const state: RetryState = {
      elapsedMs: 0,
      retried: false,
      onFallbackModel: false,
      hasFallbackModel: fallback !== undefined,
    };
    for (;;) {
      attempt++;
      if (req.signal?.aborted) throw abortedError();
      state.elapsedMs = now() - startMs;
      const deadline = new AbortController();
      let timedOut = false;
      let spoke = false;
      const expire = () => {
        timedOut = true;
        deadline.abort(timeoutError());
      };
      // Until the provider starts answering, the attempt may be cut early for the fallback model;
      // once it has started it is alive, however slowly it streams, and may run to the turn budget.
      let timer = setTimeout(expire, attemptTimeoutMs(policy, state));
      const started = () => {
        if (spoke || timedOut) return;
        clearTimeout(timer);
        timer = setTimeout(expire, Math.max(0, policy.budgetMs - (now() - startMs)));
      };
      const signal = req.signal ? AbortSignal.any([req.signal, deadline.signal]) : deadline.signal;
      const attemptReq: DecisionRequest = { ...req, model, signal, onStarted: started };
      try {
        if (out === null) return await llm.decide(attemptReq);
        const inner = llm.decideStream(attemptReq);
        const pump = (async () => {
          for await (const delta of inner.replyDeltas) {
            if (delta.length === 0) continue;
            if (!spoke) {
              spoke = true;
              clearTimeout(timer);
            }
            out.push(delta);
          }
        })();
        // Settle the pump before judging the failure: text the attempt produced counts as spoken.
        const settled = await Promise.allSettled([inner.result, pump]);
        const [result] = settled;
        if (result.status === "rejected") throw result.reason;
        return result.value;
      } catch (error) {
        if (req.signal?.aborted) throw error;
        state.elapsedMs = now() - startMs;
        const f = facts(error);
        const failure: AttemptFailure = {
          kind: timedOut ? "timeout" : classifyFailure(error instanceof ProviderError ? error : undefined),
          retryAfterMs: f.retryAfterMs,
          spoke,
        };
        const step = nextStep(policy, state, failure);
        if (step.action === "give_up") throw timedOut ? timeoutError() : error;
        const kind = failure.kind;
        if (kind !== "transient" && kind !== "timeout" && kind !== "model") throw error;
        const next = step.action === "retry" ? model : (fallback ?? model);
        const recovery: LlmRecoveryStep = {
          type: step.action,
          attempt,
          fromModel: model,
          toModel: next,
          failure: kind,
          ...(f.status === undefined ? {} : { status: f.status }),
          ...(f.code === undefined ? {} : { code: f.code }),
          waitMs: step.action === "retry" ? step.waitMs : 0,
          elapsedMs: Math.round(state.elapsedMs),
        };
        options.onRecovery?.(recovery);
        req.onRecovery?.(recovery);
        if (step.action === "retry") {
          state.retried = true;
          await pause(step.waitMs, req.signal, abortedError);
        } else {
          state.onFallbackModel = true;
          model = next;
        }
      } finally {
        clearTimeout(timer);
      }
    }
  }

  function decideStream(req: DecisionRequest): DecisionStream {
    const out = new AsyncQueue<string>();
    const result = run(req, out).then(
      (decision) => {
        out.end();
        return decision;
      },
      (error: unknown) => {
        out.fail(error);
        throw error;
      },
    );
    result.catch(() => undefined);
    return { replyDeltas: out, result };
  }

  return { provider, decideStream, decide: (req) => run(req, null) };
}
