import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { encodeMulawSample } from "../../../src/audio/mulaw";
import { type DeepgramEmulator, startDeepgramEmulator } from "../../../src/tooling/emulators/deepgram";
import { silence, synthesizeSpeech } from "../../../src/tooling/emulators/voice-shared";

let emu: DeepgramEmulator;
beforeEach(async () => {
  emu = await startDeepgramEmulator({ idleTimeoutMs: 2_000 });
});
afterEach(async () => {
  await emu.close();
});

const LIVE = "encoding=mulaw&sample_rate=8000&interim_results=true&vad_events=true";

function open(query: string) {
  const ws = new WebSocket(`${emu.wsUrl}/v1/listen?${query}`, { headers: { Authorization: "Token k" } });
  ws.on("error", () => undefined);
  const messages: Record<string, unknown>[] = [];
  ws.on("message", (d) => messages.push(JSON.parse(d.toString()) as Record<string, unknown>));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, r) => resolve({ code, reason: r.toString() })),
  );
  return { ws, messages, closed, opened: new Promise((r) => ws.on("open", r)) };
}

/** Broadband noise: trips an energy VAD, holds no words. */
function noise(ms: number): Uint8Array {
  const out = new Uint8Array(ms * 8);
  let x = 12345;
  for (let i = 0; i < out.length; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = encodeMulawSample(((x % 16000) - 8000) * 0.8);
  }
  return out;
}

/** Each message as a short tag: SS, I:text, F:text, FS:text, UE, M. */
function shape(messages: Record<string, unknown>[]): string[] {
  return messages.map((m) => {
    if (m.type === "SpeechStarted") return "SS";
    if (m.type === "UtteranceEnd") return "UE";
    if (m.type === "Metadata") return "M";
    const r = m as {
      is_final?: boolean;
      speech_final?: boolean;
      channel: { alternatives: { transcript: string }[] };
    };
    const text = r.channel.alternatives[0]?.transcript ?? "";
    return `${r.is_final ? (r.speech_final ? "FS" : "F") : "I"}:${text}`;
  });
}

async function script(tag: string, utterances: unknown[]): Promise<void> {
  const res = await fetch(`${emu.url}/__emulator/scripts`, {
    method: "POST",
    body: JSON.stringify({ tag, utterances }),
  });
  expect(res.ok).toBe(true);
}

async function speakAndClose(query: string, parts: Uint8Array[]) {
  const c = open(query);
  await c.opened;
  for (const p of parts) c.ws.send(p);
  c.ws.send(JSON.stringify({ type: "CloseStream" }));
  await c.closed;
  return shape(c.messages);
}

describe("Deepgram emulator: awkward but legal messages", () => {
  it("by default sends SpeechStarted and an empty final for noise with no words", async () => {
    const got = await speakAndClose(`${LIVE}&endpointing=200&tag=n1`, [
      silence(100),
      noise(600),
      silence(400),
    ]);
    expect(got[0]).toBe("SS");
    expect(got).toContain("FS:");
    expect(got.filter((m) => m.startsWith("I:") || /^FS?:.+/.test(m))).toEqual([]);
  });

  it("by default follows a speech_final with UtteranceEnd when utterance_end_ms is set", async () => {
    await script("u1", ["book me in"]);
    const got = await speakAndClose(`${LIVE}&endpointing=200&utterance_end_ms=1000&tag=u1`, [
      silence(100),
      synthesizeSpeech("book me in"),
      silence(1_400),
    ]);
    const fs = got.indexOf("FS:book me in");
    expect(fs).toBeGreaterThan(0);
    expect(got.indexOf("UE")).toBeGreaterThan(fs);
  });

  it("by default sends empty finals through a long silence after speech", async () => {
    await script("s1", ["hi"]);
    const got = await speakAndClose(`${LIVE}&endpointing=200&tag=s1`, [
      silence(100),
      synthesizeSpeech("hi"),
      silence(7_000),
    ]);
    expect(got.filter((m) => m.startsWith("F"))).toEqual(["FS:hi", "F:", "F:"]);
  });

  it("on request: a final without speech_final, the turn end left to UtteranceEnd", async () => {
    await script("u2", [{ text: "yes speaking", speechFinal: false }]);
    const got = await speakAndClose(`${LIVE}&endpointing=200&utterance_end_ms=1000&tag=u2`, [
      silence(100),
      synthesizeSpeech("yes speaking"),
      silence(1_400),
    ]);
    expect(got).toContain("F:yes speaking");
    expect(got.some((m) => m.startsWith("FS:"))).toBe(false);
    expect(got.indexOf("UE")).toBeGreaterThan(got.indexOf("F:yes speaking"));
  });

  it("on request: split finals, an empty final first, an interim-only stretch", async () => {
    await script("u3", [
      { text: "the first one please", splitFinal: true, emptyFinalBefore: true, interimOnlyMs: 500 },
    ]);
    const got = await speakAndClose(`${LIVE}&endpointing=200&tag=u3`, [
      silence(100),
      synthesizeSpeech("the first one please"),
      silence(400),
    ]);
    const finals = got.filter((m) => m.startsWith("F"));
    expect(finals).toEqual(["F:", "F:the first", "FS:one please"]);
    const firstFinal = got.indexOf("F:");
    const stretch = got.slice(0, firstFinal).filter((m) => m === "I:the first one please");
    expect(stretch.length).toBeGreaterThanOrEqual(2);
  });

  it("on request: a late final arrives after the caller's next words began", async () => {
    await script("u4", [{ text: "yes", finalDelayMs: 600 }, "tuesday"]);
    const c = open(`${LIVE}&endpointing=200&tag=u4`);
    await c.opened;
    c.ws.send(silence(100));
    c.ws.send(synthesizeSpeech("yes"));
    c.ws.send(silence(300));
    const sentNextAt = Date.now();
    c.ws.send(synthesizeSpeech("tuesday"));
    const arrived = await new Promise<number>((resolve) => {
      const check = setInterval(() => {
        if (shape(c.messages).includes("FS:yes")) {
          clearInterval(check);
          resolve(Date.now());
        }
      }, 10);
    });
    expect(arrived - sentNextAt).toBeGreaterThanOrEqual(450);
    c.ws.send(silence(400));
    c.ws.send(JSON.stringify({ type: "CloseStream" }));
    await c.closed;
    expect(shape(c.messages).filter((m) => m.startsWith("FS:"))).toEqual(["FS:yes", "FS:tuesday"]);
  });

  it("injects noise, a stray UtteranceEnd and a server-side close into a live connection", async () => {
    const c = open(`${LIVE}&endpointing=200&tag=live`);
    await c.opened;
    c.ws.send(silence(200));
    const inject = async (kind: string) =>
      (await (
        await fetch(`${emu.url}/__emulator/inject`, {
          method: "POST",
          body: JSON.stringify({ tag: "live", kind }),
        })
      ).json()) as { connections: number };
    await new Promise((r) => setTimeout(r, 50));
    expect(await inject("noise")).toEqual({ connections: 1 });
    expect(await inject("utterance_end")).toEqual({ connections: 1 });
    expect(await inject("close")).toEqual({ connections: 1 });
    expect(await c.closed).toEqual({ code: 1011, reason: "NET-0000" });
    expect(shape(c.messages)).toEqual(["SS", "F:", "UE"]);
    const bad = await fetch(`${emu.url}/__emulator/inject`, {
      method: "POST",
      body: JSON.stringify({ tag: "live", kind: "nonsense" }),
    });
    expect(bad.status).toBe(400);
  });
});
