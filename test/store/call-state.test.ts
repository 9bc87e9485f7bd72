import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CallState, callStateTtlSeconds, fixedWindow } from "../../src/store/call-state";
import {
  DurableObjectCallStateMirror,
  DurableObjectIdempotencyStore,
  DurableObjectRateLimiter,
  type KeyValueStorage,
} from "../../src/store/do-state";

class MapStorage implements KeyValueStorage {
  readonly map = new Map<string, unknown>();
  async get<T = unknown>(key: string): Promise<T | undefined> {
    return structuredClone(this.map.get(key)) as T | undefined;
  }
  async put<T>(key: string, value: T): Promise<void> {
    this.map.set(key, structuredClone(value));
  }
  async delete(key: string): Promise<boolean> {
    return this.map.delete(key);
  }
}

const state = (overrides: Partial<CallState> = {}): CallState => ({
  call_sid: "CA123",
  state: "qualify",
  turns: 3,
  captured: { name: "Alex Rivera", intent: "demo" },
  slot_proposed: "2026-05-21T10:30:00Z",
  consent_given: true,
  opted_out: false,
  transfer_attempted: false,
  updated_at: 1_000,
  ...overrides,
});

describe("callStateTtlSeconds", () => {
  it("is never shorter than the longest possible call, for any configured maximum", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 24 * 3_600_000 }), (maxCallDurationMs) => {
        const ttlMs = callStateTtlSeconds({ maxCallDurationMs }) * 1000;
        // A write at any moment of the call keeps the state until after the call must have ended.
        return (
          Number.isInteger(ttlMs / 1000) &&
          ttlMs >= maxCallDurationMs + 5 * 60_000 &&
          ttlMs < maxCallDurationMs + 5 * 60_000 + 1000
        );
      }),
    );
  });

  it("is max call + 5 minutes for the default 10-minute maximum", () => {
    expect(callStateTtlSeconds({ maxCallDurationMs: 600_000 })).toBe(900);
  });
});

describe("fixedWindow", () => {
  it("puts now inside its window and resets at the window end", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        fc.integer({ min: 1, max: 86_400 }),
        (nowMs, w) => {
          const { resetMs } = fixedWindow(nowMs, w);
          return resetMs > nowMs && resetMs - nowMs <= w * 1000;
        },
      ),
    );
  });
});

describe("Durable Object storage adapters", () => {
  it("accepts DurableObjectStorage as its storage", () => {
    const check = (s: DurableObjectStorage): KeyValueStorage => s;
    expect(typeof check).toBe("function");
  });

  it("mirrors call state and expires it after the TTL", async () => {
    let now = 0;
    const mirror = new DurableObjectCallStateMirror(new MapStorage(), 900, () => now);
    await mirror.put(state());
    now = 899_999;
    expect(await mirror.get("CA123")).toEqual(state());
    now = 900_000;
    expect(await mirror.get("CA123")).toBeUndefined();
  });

  it("lets only the first claim of an idempotency key win until it expires", async () => {
    let now = 0;
    const idem = new DurableObjectIdempotencyStore(new MapStorage(), () => now);
    expect(await idem.claim("cal:bk-1", 60)).toBe(true);
    expect(await idem.claim("cal:bk-1", 60)).toBe(false);
    now = 60_000;
    expect(await idem.claim("cal:bk-1", 60)).toBe(true);
  });

  it("limits per fixed window and resets in the next one", async () => {
    let now = 10_000;
    const storage = new MapStorage();
    const rl = new DurableObjectRateLimiter(storage, () => now);
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await rl.limit("ip:1.2.3.4", 3, 60));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0]);
    expect(results[0]?.resetMs).toBe(60_000);
    now = 60_000;
    expect(await rl.limit("ip:1.2.3.4", 3, 60)).toEqual({ allowed: true, remaining: 2, resetMs: 120_000 });
    expect([...storage.map.keys()]).toEqual(["rl:ip:1.2.3.4:1"]);
  });
});
