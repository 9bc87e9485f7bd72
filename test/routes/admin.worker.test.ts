import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { utteranceKey } from "../../src/call/utterance-key";
import { r2UtteranceCache } from "../../src/call/wiring";
import { app } from "../../src/index";
import { insertEventBatch } from "../../src/store/event-store";
import { neonConnect } from "../../src/store/neon";
import { decodeRenderEvent, type RenderEvent } from "../../src/tts-cache/progress";
import { CallBuilder } from "../qa/call-builder";

const urls = inject("emulatorUrls");
const TOKEN = "test-admin-token-0123456789";
/** A voice only this file uses: its keys and emulator records cannot collide with other test files. */
const VOICE_ID = `admin-test-${crypto.randomUUID().slice(0, 8)}`;
const MODEL_ID = "eleven_flash_v2_5";
const adminEnv = { ...env, ADMIN_TOKEN: TOKEN, ELEVENLABS_VOICE_ID: VOICE_ID };

async function call(path: string, init: RequestInit = {}, bindings: object = adminEnv): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`https://agent.example${path}`, init), bindings, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const auth = { authorization: `Bearer ${TOKEN}` };

async function render(flow: string): Promise<RenderEvent[]> {
  const res = await call(`/admin/utterances/render?flow=${flow}`, { method: "POST", headers: auth });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/application\/x-ndjson/);
  const events: RenderEvent[] = [];
  for (const line of new TextDecoder().decode(await res.arrayBuffer()).split("\n")) {
    const e = decodeRenderEvent(line);
    if (e instanceof Error) throw e;
    if (e !== null) events.push(e);
  }
  return events;
}

async function emulatorRenders(): Promise<number> {
  const res = await fetch(`${urls.elevenlabs}/__emulator/requests`);
  const body = (await res.json()) as { requests: { kind: string; path: string }[] };
  return body.requests.filter((r) => r.kind === "http" && r.path.includes(VOICE_ID)).length;
}

interface Listing {
  voice: { voiceId: string; modelId: string };
  lines: { lineId: string; text: string; key: string; cached: boolean }[];
  keys: number;
  cachedKeys: number;
}

describe("admin utterance routes", () => {
  it("refuse with 403 when ADMIN_TOKEN is not configured", async () => {
    const res = await SELF.fetch("https://agent.example/admin/utterances/render?flow=inbound-triage", {
      method: "POST",
      headers: auth,
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: "admin_disabled" } });
  });

  it("refuse a missing or wrong bearer token with 401 and render nothing", async () => {
    const none = await call("/admin/utterances/render?flow=inbound-triage", { method: "POST" });
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const wrong = await call("/admin/utterances?flow=inbound-triage", {
      headers: { authorization: `Bearer ${TOKEN}x` },
    });
    expect(wrong.status).toBe(401);
    expect(await emulatorRenders()).toBe(0);
  });

  it("answer 404 for an unknown flow and 400 for a malformed id", async () => {
    const unknown = await call("/admin/utterances?flow=no-such-flow", { headers: auth });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: "flow_not_found" } });
    const bad = await call("/admin/utterances?flow=../../etc", { headers: auth });
    expect(bad.status).toBe(400);
  });

  it("render a flow's missing lines into R2 through the ElevenLabs emulator, which calls then hit", async () => {
    const before = (await (
      await call("/admin/utterances?flow=inbound-triage", { headers: auth })
    ).json()) as Listing;
    expect(before.voice).toEqual({ voiceId: VOICE_ID, modelId: MODEL_ID });
    expect(before.cachedKeys).toBe(0);
    expect(before.lines.every((l) => !l.cached)).toBe(true);

    const events = await render("inbound-triage");
    const start = events[0];
    const done = events.at(-1);
    const lines = events.filter((e) => e.type === "line");
    expect(start).toMatchObject({ type: "start", flow: "inbound-triage", keys: before.keys });
    expect(lines).toHaveLength(before.keys);
    expect(lines.every((l) => l.status === "rendered" && l.bytes > 0)).toBe(true);
    expect(done).toMatchObject({ type: "done", rendered: before.keys, cached: 0, failed: 0, aborted: false });
    expect(await emulatorRenders()).toBe(before.keys);

    // The call-time cache finds the rendered bytes under the same content key.
    const close = before.lines.find((l) => l.lineId === "close.say");
    expect(close).toBeDefined();
    const text = close?.text ?? "";
    const key = await utteranceKey({ voiceId: VOICE_ID, modelId: MODEL_ID, text });
    const stored = await env.MEDIA.get(key);
    expect(stored?.httpMetadata?.contentType).toBe("audio/basic");
    const storedBytes = new Uint8Array((await stored?.arrayBuffer()) ?? new ArrayBuffer(0));
    const rendered = lines.find((l) => l.key === key);
    expect(storedBytes.byteLength).toBe(rendered?.bytes);
    const cache = r2UtteranceCache(
      env.MEDIA,
      { voiceId: VOICE_ID, modelId: MODEL_ID },
      () => undefined,
      new Map(),
    );
    expect(await cache.get(text)).toEqual(storedBytes);

    // Listing shows everything cached; a second run renders nothing and calls the provider no more.
    const after = (await (
      await call("/admin/utterances?flow=inbound-triage", { headers: auth })
    ).json()) as Listing;
    expect(after.cachedKeys).toBe(before.keys);
    expect(after.lines.every((l) => l.cached)).toBe(true);
    const again = await render("inbound-triage");
    expect(again.at(-1)).toMatchObject({ type: "done", rendered: 0, cached: before.keys, failed: 0 });
    expect(await emulatorRenders()).toBe(before.keys);
  });
});

describe("admin call events route", () => {
  it("returns a call's audit events in order, agent lines with their words, behind the token", async () => {
    const sid = `CA${crypto.randomUUID().replace(/-/g, "")}`;
    const b = new CallBuilder(sid).start().greet().line("u1", "Hello, is that Jo?").bargeIn(1);
    const e = env as unknown as { DATABASE_URL: string; NEON_WS_PROXY: string };
    const { session, release } = await neonConnect({
      databaseUrl: e.DATABASE_URL,
      wsProxyUrl: e.NEON_WS_PROXY,
    })();
    try {
      await insertEventBatch(session, [...b.events].reverse());
    } finally {
      await release();
    }
    expect((await call(`/admin/calls/${sid}/events`)).status).toBe(401);
    expect((await call("/admin/calls/not-a-sid/events", { headers: auth })).status).toBe(400);
    const res = await call(`/admin/calls/${sid}/events`, { headers: auth });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      events: { seq: number; type: string; payload: Record<string, unknown> }[];
    };
    expect(body.events.map((x) => x.seq)).toEqual(b.events.map((x) => x.seq));
    expect(body.events.find((x) => x.type === "agent.line")?.payload).toMatchObject({
      utteranceId: "u1",
      text: "Hello, is that Jo?",
    });
  });
});
