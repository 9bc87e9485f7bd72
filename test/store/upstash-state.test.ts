import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallState } from "../../src/store/call-state";
import {
  createUpstashClient,
  UpstashCallStateMirror,
  UpstashIdempotencyStore,
  UpstashRateLimiter,
} from "../../src/store/upstash-state";
import { type RedisServer, startRedisServer } from "../../src/tooling/dev/redis";
import { startUpstashEmulator, type UpstashEmulator } from "../../src/tooling/emulators/upstash";

// Real redis-server behind the local Upstash REST endpoint. A missing redis-server fails here, loudly.
let redis: RedisServer;
let upstash: UpstashEmulator;
beforeAll(async () => {
  redis = await startRedisServer();
  upstash = await startUpstashEmulator({
    redis: { host: redis.host, port: redis.port },
    token: "test-token",
  });
}, 30_000);
afterAll(async () => {
  await upstash?.close();
  await redis?.close();
});

const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(`${upstash.url}${path}`, {
    method: "POST",
    headers: { authorization: "Bearer test-token", "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as unknown, headers: res.headers };
};

describe("Upstash REST endpoint over real Redis", () => {
  it("speaks the REST protocol: commands, errors, auth, pipeline, multi-exec, base64", async () => {
    expect(await post("/", ["SET", "k1", "héllo", "EX", 60, "NX"])).toMatchObject({
      status: 200,
      json: { result: "OK" },
    });
    expect((await post("/", ["SET", "k1", "x", "NX"])).json).toEqual({ result: null });
    expect((await post("/", ["GET", "k1"])).json).toEqual({ result: "héllo" });
    expect((await post("/", ["GET", "k1"], { "upstash-encoding": "base64" })).json).toEqual({
      result: Buffer.from("héllo").toString("base64"),
    });
    expect((await post("/", ["SET", "k2", "v"], { "upstash-encoding": "base64" })).json).toEqual({
      result: "OK",
    });
    const err = await post("/", ["INCR", "k1"]);
    expect(err.status).toBe(400);
    expect(err.json).toEqual({ error: "ERR value is not an integer or out of range" });
    const unauth = await fetch(`${upstash.url}/`, { method: "POST", body: JSON.stringify(["PING"]) });
    expect(unauth.status).toBe(401);
    expect(
      await post("/pipeline", [
        ["INCR", "n"],
        ["INCR", "k1"],
        ["INCRBY", "n", 2],
      ]),
    ).toMatchObject({
      status: 200,
      json: [{ result: 1 }, { error: "ERR value is not an integer or out of range" }, { result: 3 }],
    });
    expect(
      (
        await post("/multi-exec", [
          ["SET", "m", "1"],
          ["INCR", "m"],
          ["GET", "m"],
        ])
      ).json,
    ).toEqual([{ result: "OK" }, { result: 2 }, { result: "2" }]);
    const aborted = await post("/multi-exec", [["SET", "m", "9"], ["NOSUCHCOMMAND"]]);
    expect(aborted.status).toBe(400);
    expect((await post("/", ["GET", "m"])).json).toEqual({ result: "2" });
    expect((await post("/", ["SET", "k3", "v"])).headers.get("upstash-sync-token")).toMatch(/^\d+$/);
  });

  it("mirrors call state with the TTL through @upstash/redis", async () => {
    const client = createUpstashClient({ url: upstash.url, token: "test-token" });
    const mirror = new UpstashCallStateMirror(client, 900);
    const s: CallState = {
      call_sid: "CA_up_1",
      state: "book",
      turns: 4,
      captured: { name: "Alex", email: "alex@example.com" },
      slot_proposed: "2026-05-21T10:30:00Z",
      consent_given: true,
      opted_out: false,
      transfer_attempted: false,
      updated_at: 1_700_000_000_000,
    };
    await mirror.put(s);
    expect(await mirror.get("CA_up_1")).toEqual(s);
    expect(await mirror.get("CA_missing")).toBeUndefined();
    const ttl = await client.ttl("call:CA_up_1");
    expect(ttl).toBeGreaterThan(890);
    expect(ttl).toBeLessThanOrEqual(900);
  });

  it("lets exactly one of many concurrent webhook deliveries claim an idempotency key", async () => {
    const claims = await Promise.all(
      Array.from({ length: 20 }, () =>
        new UpstashIdempotencyStore(createUpstashClient({ url: upstash.url, token: "test-token" })).claim(
          "cal:bk-9",
          60,
        ),
      ),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it("rate-limits per fixed window, consistently under concurrency", async () => {
    const now = 1_700_000_010_000;
    const rl = new UpstashRateLimiter(
      createUpstashClient({ url: upstash.url, token: "test-token" }),
      () => now,
    );
    const results = await Promise.all(Array.from({ length: 8 }, () => rl.limit("ip:203.0.113.9", 5, 60)));
    expect(results.filter((r) => r.allowed)).toHaveLength(5);
    expect(results.map((r) => r.remaining).sort()).toEqual([0, 0, 0, 0, 1, 2, 3, 4]);
    expect(new Set(results.map((r) => r.resetMs))).toEqual(new Set([1_700_000_040_000]));
    const later = new UpstashRateLimiter(
      createUpstashClient({ url: upstash.url, token: "test-token" }),
      () => now + 60_000,
    );
    expect((await later.limit("ip:203.0.113.9", 5, 60)).allowed).toBe(true);
  });
});
