import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  backoffDelayMs,
  fetchJson,
  type HttpRequest,
  parseRetryAfterMs,
  sendRequest,
} from "../../src/integrations/http";
import { ProviderError } from "../../src/lib/errors";

/** A fetch that answers from a script, counting calls. */
function scripted(responses: (() => Response)[]) {
  let calls = 0;
  const fetchImpl = (async () => {
    const next = responses[Math.min(calls, responses.length - 1)];
    calls += 1;
    if (!next) throw new Error("no response scripted");
    return next();
  }) as typeof fetch;
  return { fetch: fetchImpl, calls: () => calls };
}

const status =
  (code: number, headers: Record<string, string> = {}) =>
  () =>
    new Response(code === 200 ? '{"ok":true}' : "nope", { status: code, headers });

const base: HttpRequest = { provider: "test", url: "http://provider.test/x", backoff: { baseDelayMs: 1 } };
const okSchema = z.object({ ok: z.boolean() });
const zeroJitter = { random: () => 0 };

describe("sendRequest / fetchJson", () => {
  it("does not retry a non-idempotent request on 503", async () => {
    const f = scripted([status(503), status(200)]);
    await expect(fetchJson({ ...base, schema: okSchema }, { fetch: f.fetch })).rejects.toMatchObject({
      status: 503,
      retryable: true,
    });
    expect(f.calls()).toBe(1);
  });

  it("retries an idempotent request on 5xx until it succeeds", async () => {
    const f = scripted([status(503), status(502), status(200)]);
    const res = await fetchJson(
      { ...base, retry: "idempotent", schema: okSchema },
      { ...zeroJitter, fetch: f.fetch },
    );
    expect(res).toEqual({ ok: true });
    expect(f.calls()).toBe(3);
  });

  it("gives up after maxAttempts and reports the last status", async () => {
    const f = scripted([status(500)]);
    const res = await sendRequest(
      { ...base, retry: "idempotent", backoff: { maxAttempts: 2, baseDelayMs: 1 } },
      {
        fetch: f.fetch,
      },
    );
    expect(res.status).toBe(500);
    expect(res.attempts).toBe(2);
  });

  it("never retries a 4xx other than 408/429", async () => {
    const f = scripted([status(400), status(200)]);
    const res = await sendRequest({ ...base, retry: "idempotent" }, { fetch: f.fetch });
    expect(res.status).toBe(400);
    expect(f.calls()).toBe(1);
  });

  it("rate-limit-only retries 429 but not 500", async () => {
    const f1 = scripted([status(429), status(200)]);
    expect(
      (await sendRequest({ ...base, retry: "rate-limit-only" }, { ...zeroJitter, fetch: f1.fetch })).status,
    ).toBe(200);
    expect(f1.calls()).toBe(2);
    const f2 = scripted([status(500), status(200)]);
    expect((await sendRequest({ ...base, retry: "rate-limit-only" }, { fetch: f2.fetch })).status).toBe(500);
    expect(f2.calls()).toBe(1);
  });

  it("waits for Retry-After before retrying", async () => {
    const f = scripted([status(429, { "retry-after": "1" }), status(200)]);
    const t0 = Date.now();
    const res = await sendRequest({ ...base, retry: "idempotent" }, { ...zeroJitter, fetch: f.fetch });
    expect(res.status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
  });

  it("returns the 429 instead of waiting when Retry-After exceeds the cap", async () => {
    const f = scripted([status(429, { "retry-after": "120" }), status(200)]);
    const t0 = Date.now();
    const res = await sendRequest({ ...base, retry: "idempotent" }, { fetch: f.fetch });
    expect(res.status).toBe(429);
    expect(Date.now() - t0).toBeLessThan(500);
  });

  it("times out a hung request and retries it only when idempotent", async () => {
    let calls = 0;
    const hang = ((_url: unknown, init?: RequestInit) => {
      calls += 1;
      return new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
      });
    }) as typeof fetch;
    const t0 = Date.now();
    const err = await sendRequest({ ...base, timeoutMs: 100 }, { fetch: hang }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).retryable).toBe(true);
    expect((err as ProviderError).message).toContain("100 ms");
    expect(Date.now() - t0).toBeLessThan(600);
    expect(calls).toBe(1);
    calls = 0;
    await sendRequest(
      { ...base, timeoutMs: 50, retry: "idempotent", backoff: { maxAttempts: 3, baseDelayMs: 1 } },
      {
        fetch: hang,
      },
    ).catch(() => undefined);
    expect(calls).toBe(3);
  });

  it("stops at once when the caller aborts, even mid-backoff", async () => {
    const f = scripted([status(503, { "retry-after": "4" }), status(200)]);
    const ctrl = new AbortController();
    setTimeout(() => ctrl.abort(), 100);
    const t0 = Date.now();
    const err = await sendRequest(
      { ...base, retry: "idempotent", signal: ctrl.signal },
      { fetch: f.fetch },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).retryable).toBe(false);
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(f.calls()).toBe(1);
  });

  it("treats a 2xx body that fails the schema as non-retryable drift", async () => {
    const f = scripted([() => new Response('{"ok":"yes"}', { status: 200 })]);
    await expect(fetchJson({ ...base, schema: okSchema }, { fetch: f.fetch })).rejects.toMatchObject({
      retryable: false,
      status: 200,
    });
  });

  it("parses Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfterMs("2", 0)).toBe(2_000);
    expect(parseRetryAfterMs(null, 0)).toBeUndefined();
    expect(parseRetryAfterMs("garbage", 0)).toBeUndefined();
    const now = Date.parse("2026-03-02T09:00:00Z");
    expect(parseRetryAfterMs("Mon, 02 Mar 2026 09:00:03 GMT", now)).toBe(3_000);
  });

  it("keeps jittered backoff within [0, min(cap, base*2^n))", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (n, r) => {
          const d = backoffDelayMs(n, () => r, { baseDelayMs: 100, maxDelayMs: 2_000 });
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThan(Math.min(2_000, 100 * 2 ** n));
        },
      ),
    );
  });
});
