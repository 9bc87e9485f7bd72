import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type DeepgramEmulator, startDeepgramEmulator } from "../../../src/tooling/emulators/deepgram";
import { silence, synthesizeSpeech } from "../../../src/tooling/emulators/voice-shared";

let emu: DeepgramEmulator;
beforeEach(async () => {
  emu = await startDeepgramEmulator({ idleTimeoutMs: 300 });
});
afterEach(async () => {
  await emu.close();
});

function open(query: string, headers: Record<string, string> = { Authorization: "Token k" }) {
  const ws = new WebSocket(`${emu.wsUrl}/v1/listen?${query}`, { headers });
  ws.on("error", () => undefined);
  const messages: Record<string, unknown>[] = [];
  ws.on("message", (d) => messages.push(JSON.parse(d.toString()) as Record<string, unknown>));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, r) => resolve({ code, reason: r.toString() })),
  );
  return { ws, messages, closed, opened: new Promise((r) => ws.on("open", r)) };
}

describe("Deepgram emulator wire protocol", () => {
  it("answers CloseStream with the pending final, then Metadata, then a normal close", async () => {
    await fetch(`${emu.url}/__emulator/scripts`, {
      method: "POST",
      body: JSON.stringify({ tag: "t", utterances: ["hello there"] }),
    });
    const c = open("encoding=mulaw&sample_rate=8000&interim_results=false&endpointing=2000&tag=t");
    await c.opened;
    c.ws.send(silence(100));
    c.ws.send(synthesizeSpeech("hello there"));
    c.ws.send(JSON.stringify({ type: "CloseStream" }));
    expect((await c.closed).code).toBe(1000);
    expect(c.messages.map((m) => m.type)).toEqual(["Results", "Metadata"]);
    expect(c.messages[0]).toMatchObject({
      is_final: true,
      channel: { alternatives: [{ transcript: "hello there" }] },
    });
  });

  it("gates SpeechStarted on vad_events", async () => {
    const c = open("encoding=mulaw&sample_rate=8000&endpointing=100");
    await c.opened;
    c.ws.send(silence(100));
    c.ws.send(synthesizeSpeech("hi"));
    c.ws.send(silence(300));
    c.ws.send(JSON.stringify({ type: "CloseStream" }));
    await c.closed;
    expect(c.messages.some((m) => m.type === "SpeechStarted")).toBe(false);
    expect(c.messages.find((m) => m.type === "Results")).toMatchObject({ speech_final: true });
  });

  it("tells a load test when each final left and at what audio time it was decided", async () => {
    const c = open("encoding=mulaw&sample_rate=8000&endpointing=300&tag=load-1");
    await c.opened;
    const before = Date.now();
    c.ws.send(silence(100));
    const speech = synthesizeSpeech("hi there");
    c.ws.send(speech);
    c.ws.send(silence(400));
    c.ws.send(JSON.stringify({ type: "CloseStream" }));
    await c.closed;
    const other = await (await fetch(`${emu.url}/__emulator/finals?tag=other`)).json();
    expect(other).toEqual({ finals: [] });
    const { finals } = (await (await fetch(`${emu.url}/__emulator/finals?tag=load-1`)).json()) as {
      finals: { audioMs: number; sentAtMs: number; speechFinal: boolean }[];
    };
    expect(finals).toHaveLength(1);
    const [f] = finals;
    expect(f?.speechFinal).toBe(true);
    // Decided once 300 ms of silence followed the speech: after it, before the audio ran out.
    const speechEndMs = 100 + speech.length / 8;
    expect(f?.audioMs).toBeGreaterThanOrEqual(speechEndMs + 300 - 40);
    expect(f?.audioMs).toBeLessThanOrEqual(speechEndMs + 400);
    expect(f?.sentAtMs).toBeGreaterThanOrEqual(before);
  });

  it("remembers only the newest connections", async () => {
    const small = await startDeepgramEmulator({ idleTimeoutMs: 300, maxRecords: 2 });
    try {
      for (const tag of ["a", "b", "c"]) {
        const ws = new WebSocket(`${small.wsUrl}/v1/listen?encoding=mulaw&sample_rate=8000&tag=${tag}`, {
          headers: { Authorization: "Token k" },
        });
        await new Promise((r) => ws.on("open", r));
        ws.close();
      }
      const { connections } = (await (await fetch(`${small.url}/__emulator/requests`)).json()) as {
        connections: { query: { tag: string } }[];
      };
      expect(connections.map((c) => c.query.tag)).toEqual(["b", "c"]);
    } finally {
      await small.close();
    }
  });

  it("closes an idle stream with 1011 NET-0001", async () => {
    const c = open("encoding=mulaw&sample_rate=8000");
    await c.opened;
    expect(await c.closed).toEqual({ code: 1011, reason: "NET-0001" });
  });

  it("rejects a missing key and mulaw without sample_rate", async () => {
    const noKey = open("encoding=mulaw&sample_rate=8000", {});
    const status = await new Promise((r) =>
      noKey.ws.on("unexpected-response", (_q, res) => r(res.statusCode)),
    );
    expect(status).toBe(401);
    noKey.ws.terminate();
    const noRate = open("encoding=mulaw");
    expect(
      await new Promise((r) => noRate.ws.on("unexpected-response", (_q, res) => r(res.statusCode))),
    ).toBe(400);
    noRate.ws.terminate();
  });
});
