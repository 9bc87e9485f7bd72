/**
 * One contract for the edge ports the dashboard and lead ingest rely on (resettable windows, session
 * epochs, the hashed do-not-call set, web leads' call variables), run
 * against both adapters: Upstash (the local REST endpoint over a real redis-server) and the EdgeState
 * logic behind its namespace (in memory here; workerd tests drive the Durable Object itself).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  durableObjectEdgePorts,
  type EdgePorts,
  memoryEdgeNamespace,
  upstashEdgePorts,
} from "../../src/lead/edge-ports";
import { suppressionHash } from "../../src/lead/edge-store";
import { createUpstashClient } from "../../src/store/upstash-state";
import { type RedisServer, startRedisServer } from "../../src/tooling/dev/redis";
import { startUpstashEmulator, type UpstashEmulator } from "../../src/tooling/emulators/upstash";

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

const adapters: [string, () => EdgePorts][] = [
  ["Upstash", () => upstashEdgePorts(createUpstashClient({ url: upstash.url, token: "test-token" }))],
  ["EdgeState", () => durableObjectEdgePorts(memoryEdgeNamespace())],
];

describe.each(adapters)("edge ports over %s", (_name, make) => {
  it("resets a window so the count starts again", async () => {
    const ports = make();
    const key = `reset-${crypto.randomUUID()}`;
    for (let i = 0; i < 2; i++) expect((await ports.limiter.limit(key, 2, 900)).allowed).toBe(true);
    expect((await ports.limiter.limit(key, 2, 900)).allowed).toBe(false);
    await ports.limiter.reset(key, 900);
    expect(await ports.limiter.limit(key, 2, 900)).toMatchObject({ allowed: true, remaining: 1 });
  });

  it("agrees on one epoch per name until it is rotated", async () => {
    const ports = make();
    const name = `epoch-${crypto.randomUUID()}`;
    const [a, b] = await Promise.all([ports.sessions.current(name), ports.sessions.current(name)]);
    expect(a).toEqual(b);
    expect(a?.version).toBe(1);
    const rotated = await ports.sessions.rotate(name);
    expect(rotated.version).toBe(2);
    expect(rotated.secret).not.toBe(a?.secret);
    expect(await ports.sessions.current(name)).toEqual(rotated);
  });

  it("blocks an added number and a number a set entry had in plain, and minimising keeps it blocked", async () => {
    const ports = make();
    const n = () => `+4477009${String(Math.floor(Math.random() * 1e5)).padStart(5, "0")}`;
    const [added, other] = [n(), n()];
    await ports.suppressions.add(added, "call");
    expect(await ports.suppressions.has(added)).toBe(true);
    expect(await ports.suppressions.has(other)).toBe(false);
    // Minimising a number that is not on the list never adds it.
    await ports.suppressions.minimise(other);
    expect(await ports.suppressions.has(other)).toBe(false);
    expect(await ports.suppressions.has(added)).toBe(true);
  });

  it("keeps a lead's call variables until deleted", async () => {
    const ports = make();
    const id = `lead-${crypto.randomUUID()}`;
    expect(await ports.callVars.get(id)).toBeUndefined();
    await ports.callVars.put(id, { first_name: "Jo", email: "jo@example.com" }, 86_400);
    expect(await ports.callVars.get(id)).toEqual({ first_name: "Jo", email: "jo@example.com" });
    await ports.callVars.delete(id);
    expect(await ports.callVars.get(id)).toBeUndefined();
  });
});

describe("the Upstash do-not-call set", () => {
  it("holds the number's hash, never the number, and hashes a plain member on minimise", async () => {
    const redis = createUpstashClient({ url: upstash.url, token: "test-token" });
    const ports = upstashEdgePorts(redis);
    const [added, legacy] = ["+447700900311", "+447700900312"];
    await ports.suppressions.add(added, "call");
    await redis.sadd("suppressions", legacy);
    expect(await ports.suppressions.has(legacy)).toBe(true);
    await ports.suppressions.minimise(legacy);
    const members = await redis.smembers("suppressions");
    expect(members).toEqual(
      expect.arrayContaining([await suppressionHash(added), await suppressionHash(legacy)]),
    );
    expect(members).not.toContain(added);
    expect(members).not.toContain(legacy);
    expect(await ports.suppressions.has(legacy)).toBe(true);
  });
});
