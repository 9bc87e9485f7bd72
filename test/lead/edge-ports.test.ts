/**
 * One contract for the edge ports the dashboard relies on (resettable windows, session epochs), run
 * against both adapters: Upstash (the local REST endpoint over a real redis-server) and the EdgeState
 * logic behind its namespace (in memory here; workerd tests drive the Durable Object itself).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServer, startRedisServer } from "../../src/dev/redis";
import { startUpstashEmulator, type UpstashEmulator } from "../../src/emulators/upstash";
import {
  durableObjectEdgePorts,
  type EdgePorts,
  memoryEdgeNamespace,
  upstashEdgePorts,
} from "../../src/lead/edge-ports";
import { createUpstashClient } from "../../src/store/upstash-state";

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
});
