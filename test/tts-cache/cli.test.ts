// The tts:cache CLI (src/tooling/cli/tts-cache.ts) against a stand-in admin endpoint speaking the NDJSON protocol.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main, parseTtsCacheArgs } from "../../src/tooling/cli/tts-cache";
import { encodeRenderEvent, type RenderEvent } from "../../src/tts-cache/progress";

let server: Server | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

const EVENTS: RenderEvent[] = [
  { type: "start", flow: "inbound-triage", voice: { voiceId: "v", modelId: "m" }, lines: 3, keys: 2 },
  {
    type: "line",
    index: 1,
    total: 2,
    key: "utterances/a.ulaw",
    text: "Hello.",
    lineIds: ["greeting.say"],
    status: "rendered",
    bytes: 1843,
  },
  {
    type: "line",
    index: 2,
    total: 2,
    key: "utterances/b.ulaw",
    text: "Bye.",
    lineIds: ["close.say", "x.say"],
    status: "cached",
    bytes: 0,
  },
  { type: "done", total: 2, rendered: 1, cached: 1, failed: 0, bytes: 1843, aborted: false, elapsedMs: 1200 },
];

/** Serves the events split at awkward byte boundaries, after checking the bearer token. */
async function fakeApp(events: RenderEvent[]): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const srv = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ""}`);
    if (req.headers.authorization !== "Bearer secret") {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ error: { code: "unauthorized", message: "A valid bearer token is required" } }),
      );
      return;
    }
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    const text = events.map(encodeRenderEvent).join("");
    for (let i = 0; i < text.length; i += 37) res.write(text.slice(i, i + 37));
    res.end();
  });
  server = srv;
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, seen };
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  return { out, err };
}

describe("npm run tts:cache", () => {
  it("parses FLOW and options, rejecting anything else", () => {
    expect(parseTtsCacheArgs(["outbound-booking", "--url", "https://x.example", "--token", "t"])).toEqual({
      flow: "outbound-booking",
      url: "https://x.example",
      token: "t",
      list: false,
    });
    expect(() => parseTtsCacheArgs([])).toThrow(/usage/);
    expect(() => parseTtsCacheArgs(["../etc"])).toThrow(/not a flow id/);
  });

  it("prints progress per line and a summary, and exits 0 when nothing failed", async () => {
    const app = await fakeApp(EVENTS);
    const { out } = capture();
    const code = await main(["inbound-triage", "--url", app.url, "--token", "secret"]);
    expect(code).toBe(0);
    expect(app.seen).toEqual(["POST /admin/utterances/render?flow=inbound-triage Bearer secret"]);
    expect(out).toContain("[1/2] rendered greeting.say (1.8 KB)");
    expect(out).toContain("[2/2] cached   close.say (+1 more)");
    expect(out.at(-1)).toBe("Done. 1 rendered (1.8 KB), 1 already cached, 0 failed, in 1.2 s");
  });

  it("exits non-zero on a failed line, a refused token, or a stream cut before the summary", async () => {
    const failed = await fakeApp([
      ...EVENTS.slice(0, 3),
      { type: "done", total: 2, rendered: 0, cached: 1, failed: 1, bytes: 0, aborted: false, elapsedMs: 5 },
    ]);
    capture();
    expect(await main(["inbound-triage", "--url", failed.url, "--token", "secret"])).toBe(1);
    const { err } = capture();
    expect(await main(["inbound-triage", "--url", failed.url, "--token", "wrong"])).toBe(1);
    expect(err.join("\n")).toMatch(/401 unauthorized/);
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    const cut = await fakeApp(EVENTS.slice(0, 2));
    const cutErr = capture().err;
    expect(await main(["inbound-triage", "--url", cut.url, "--token", "secret"])).toBe(1);
    expect(cutErr.join("\n")).toMatch(/ended before the summary/);
  });
});
