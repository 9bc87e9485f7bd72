/**
 * The one place outside HTTP calls are made: per-attempt timeout combined with the caller's signal,
 * retries with exponential backoff + full jitter only when the caller says the call may be repeated,
 * Retry-After honoured, every failure surfaced as a typed ProviderError. fetch-based (workerd + Node).
 */
import type { z } from "zod";
import { isRetryableStatus, ProviderError } from "../lib/errors";

/**
 * When a request may be sent again.
 * - `none`: never (a non-idempotent write: a repeat could double-book).
 * - `idempotent`: on network errors, timeouts, 408, 429 and 5xx.
 * - `rate-limit-only`: only on 429, which the provider answers before doing anything, so even a
 *   non-idempotent post (a chat message) is safe to repeat.
 */
export type RetryPolicy = "none" | "idempotent" | "rate-limit-only";

/** Tunables for backoff. Defaults: 3 attempts, 100 ms base, 2 s cap, Retry-After honoured up to 5 s. */
export interface BackoffOptions {
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A Retry-After longer than this ends the retries (the caller would rather fail fast). */
  maxRetryAfterMs?: number;
}

/** One outgoing request. Exactly one of `json`, `form` or `body` may be set. */
export interface HttpRequest {
  /** Provider name for errors and logs, e.g. `"hubspot"`. */
  provider: string;
  url: string;
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  headers?: Record<string, string>;
  json?: unknown;
  form?: URLSearchParams;
  body?: string;
  /** Per-attempt timeout. Default 5,000 ms. */
  timeoutMs?: number;
  /** The caller's budget; aborting it ends the request and any pending retry at once. */
  signal?: AbortSignal;
  retry?: RetryPolicy;
  backoff?: BackoffOptions;
}

/** Injectable effects, so tests can pin randomness and clocks. */
export interface HttpDeps {
  fetch?: typeof fetch;
  /** Returns [0, 1). Default Math.random. */
  random?: () => number;
}

/** A completed HTTP exchange (any status). */
export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  requestId: string | undefined;
  attempts: number;
}

const REQUEST_ID_HEADERS = [
  "x-request-id",
  "x-hubspot-correlation-id",
  "twilio-request-id",
  "x-slack-req-id",
];

/** Parse Retry-After (delta seconds or HTTP date) into milliseconds from `nowMs`. */
export function parseRetryAfterMs(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const dateMs = Date.parse(trimmed);
  if (Number.isNaN(dateMs)) return undefined;
  return Math.max(0, dateMs - nowMs);
}

/** Full-jitter exponential backoff: uniform in [0, min(max, base * 2^retryIndex)). */
export function backoffDelayMs(retryIndex: number, random: () => number, opts: BackoffOptions = {}): number {
  const base = opts.baseDelayMs ?? 100;
  const cap = opts.maxDelayMs ?? 2_000;
  return Math.floor(random() * Math.min(cap, base * 2 ** retryIndex));
}

function requestIdOf(headers: Headers): string | undefined {
  for (const name of REQUEST_ID_HEADERS) {
    const v = headers.get(name);
    if (v) return v;
  }
  return undefined;
}

function shouldRetryStatus(policy: RetryPolicy, status: number): boolean {
  if (policy === "none") return false;
  if (policy === "rate-limit-only") return status === 429;
  return isRetryableStatus(status);
}

function abortReasonError(provider: string, signal: AbortSignal): ProviderError {
  return new ProviderError(provider, "request aborted by caller", undefined, {
    retryable: false,
    cause: signal.reason,
  });
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function buildInit(req: HttpRequest, signal: AbortSignal): RequestInit {
  const headers = new Headers(req.headers);
  let body: string | undefined;
  if (req.json !== undefined) {
    body = JSON.stringify(req.json);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  } else if (req.form !== undefined) {
    body = req.form.toString();
    headers.set("content-type", "application/x-www-form-urlencoded");
  } else if (req.body !== undefined) {
    body = req.body;
  }
  return { method: req.method ?? (body === undefined ? "GET" : "POST"), headers, body, signal };
}

/**
 * Send a request, retrying per `req.retry`. Resolves with the final response whatever its status
 * (callers map non-2xx to errors with the provider's own error shape); rejects with ProviderError
 * on timeout, network failure or caller abort.
 */
export async function sendRequest(req: HttpRequest, deps: HttpDeps = {}): Promise<HttpResponse> {
  const doFetch = deps.fetch ?? fetch;
  const random = deps.random ?? Math.random;
  const policy = req.retry ?? "none";
  const maxAttempts = policy === "none" ? 1 : Math.max(1, req.backoff?.maxAttempts ?? 3);
  const timeoutMs = req.timeoutMs ?? 5_000;
  const maxRetryAfterMs = req.backoff?.maxRetryAfterMs ?? 5_000;

  for (let attempt = 1; ; attempt++) {
    if (req.signal?.aborted) throw abortReasonError(req.provider, req.signal);
    const timeoutSignal = AbortSignal.timeout(timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeoutSignal]) : timeoutSignal;
    let waitMs: number;
    let lastError: ProviderError;
    try {
      const res = await doFetch(req.url, buildInit(req, signal));
      const text = await res.text();
      const response: HttpResponse = {
        status: res.status,
        headers: res.headers,
        text,
        requestId: requestIdOf(res.headers),
        attempts: attempt,
      };
      if (attempt >= maxAttempts || !shouldRetryStatus(policy, res.status)) return response;
      const retryAfterMs = parseRetryAfterMs(res.headers.get("retry-after"), Date.now());
      if (retryAfterMs !== undefined && retryAfterMs > maxRetryAfterMs) return response;
      waitMs = retryAfterMs ?? backoffDelayMs(attempt - 1, random, req.backoff);
      lastError = new ProviderError(req.provider, `HTTP ${res.status}`, res.status);
    } catch (err) {
      if (req.signal?.aborted) throw abortReasonError(req.provider, req.signal);
      const timedOut = timeoutSignal.aborted;
      lastError = new ProviderError(
        req.provider,
        timedOut ? `no response within ${timeoutMs} ms` : "network error",
        undefined,
        { retryable: true, cause: err },
      );
      if (policy !== "idempotent" || attempt >= maxAttempts) throw lastError;
      waitMs = backoffDelayMs(attempt - 1, random, req.backoff);
    }
    try {
      await sleep(waitMs, req.signal);
    } catch {
      throw req.signal ? abortReasonError(req.provider, req.signal) : lastError;
    }
  }
}

/** Options for {@link fetchJson}: how to read the provider's error body into a message. */
export interface JsonRequest<T> extends HttpRequest {
  /** Validates the 2xx body; a mismatch is a non-retryable ProviderError (schema drift). */
  schema: z.ZodType<T>;
  /** Turn a non-2xx body into a short message (provider error code). Default: first 200 chars. */
  describeError?: (status: number, text: string) => string;
}

/** Send, require 2xx, parse JSON and validate it. Throws ProviderError for everything else. */
export async function fetchJson<T>(req: JsonRequest<T>, deps: HttpDeps = {}): Promise<T> {
  const res = await sendRequest(req, deps);
  if (res.status < 200 || res.status >= 300) {
    const message = req.describeError ? req.describeError(res.status, res.text) : res.text.slice(0, 200);
    throw new ProviderError(req.provider, `HTTP ${res.status}: ${message}`, res.status, {
      requestId: res.requestId,
    });
  }
  let parsed: unknown;
  try {
    parsed = res.text === "" ? {} : JSON.parse(res.text);
  } catch (err) {
    throw new ProviderError(req.provider, "response was not JSON", res.status, {
      retryable: false,
      requestId: res.requestId,
      cause: err,
    });
  }
  const result = req.schema.safeParse(parsed);
  if (!result.success) {
    throw new ProviderError(req.provider, `unexpected response shape: ${result.error.message}`, res.status, {
      retryable: false,
      requestId: res.requestId,
    });
  }
  return result.data;
}

/** Read a JSON error body's field without trusting its shape. */
export function jsonField(text: string, ...path: string[]): string | undefined {
  try {
    let cur: unknown = JSON.parse(text);
    for (const key of path) {
      if (typeof cur !== "object" || cur === null) return undefined;
      cur = (cur as Record<string, unknown>)[key];
    }
    return typeof cur === "string" ? cur : undefined;
  } catch {
    return undefined;
  }
}
