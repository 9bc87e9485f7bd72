import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createUpstashClient, StateStoreUnavailableError } from "../../src/store/upstash-state";

let server: Server | undefined;

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((r) => server?.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

describe("Upstash client", () => {
  it("gives up on a Redis that never answers within its timeout, as StateStoreUnavailableError", async () => {
    const url = await listen(() => undefined);
    const redis = createUpstashClient({ url, token: "t" }, 200);
    const t0 = performance.now();
    await expect(redis.set("k", "1", { nx: true })).rejects.toBeInstanceOf(StateStoreUnavailableError);
    expect(performance.now() - t0).toBeLessThan(1_500);
  });

  it("surfaces a Redis error answer and a refused connection as StateStoreUnavailableError", async () => {
    const url = await listen((_req, res) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "ERR internal" }));
    });
    await expect(createUpstashClient({ url, token: "t" }).get("k")).rejects.toBeInstanceOf(
      StateStoreUnavailableError,
    );
    const closed = createUpstashClient({ url: "http://127.0.0.1:9", token: "t" });
    await expect(closed.get("k")).rejects.toBeInstanceOf(StateStoreUnavailableError);
  });
});
