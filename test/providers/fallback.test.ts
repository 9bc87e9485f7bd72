import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ProviderError } from "../../src/lib/errors";
import { AsyncQueue } from "../../src/providers/async-queue";
import { createAzureTts } from "../../src/providers/azure-tts";
import { createDeepgramStt } from "../../src/providers/deepgram";
import { createElevenLabsTts } from "../../src/providers/elevenlabs";
import { type FallbackSwitch, withSttFallback, withTtsFallback } from "../../src/providers/fallback";
import type {
  SpeechToText,
  SttConnectOptions,
  SttEvent,
  SttStream,
  TextToSpeech,
  TtsContext,
  TtsSession,
} from "../../src/providers/ports";
import { type DeepgramEmulator, startDeepgramEmulator } from "../../src/tooling/emulators/deepgram";
import { type ElevenLabsEmulator, startElevenLabsEmulator } from "../../src/tooling/emulators/elevenlabs";
import { openNodeWebSocket } from "../../src/tooling/emulators/voice-shared";

const OPTS: SttConnectOptions = { language: "en-GB", endpointing: { silenceMs: 300, utteranceEndMs: 1000 } };

class FakeSttStream implements SttStream {
  readonly audio: Uint8Array[] = [];
  finalized = 0;
  closed = false;
  private readonly listeners = new Set<(e: SttEvent) => void>();
  sendAudio(mulaw: Uint8Array): void {
    this.audio.push(mulaw);
  }
  finalize(): void {
    this.finalized++;
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.emit({ type: "closed" });
  }
  onEvent(cb: (event: SttEvent) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }
  emit(e: SttEvent): void {
    for (const l of this.listeners) l(e);
  }
  get bytes(): number {
    return this.audio.reduce((n, a) => n + a.byteLength, 0);
  }
}

class FakeStt implements SpeechToText {
  readonly streams: FakeSttStream[] = [];
  connects = 0;
  failConnect: ProviderError | null = null;
  /** Resolve connects only when released (to observe buffering while the fallback connects). */
  gate: Promise<void> = Promise.resolve();
  constructor(readonly provider: string) {}
  async connect(): Promise<SttStream> {
    this.connects++;
    await this.gate;
    if (this.failConnect) throw this.failConnect;
    const s = new FakeSttStream();
    this.streams.push(s);
    return s;
  }
}

interface FakeLine {
  contextId: string;
  text: string;
  flushes: number;
  closed: boolean;
  queue: AsyncQueue<Uint8Array>;
}

class FakeTtsSession implements TtsSession {
  readonly lines: FakeLine[] = [];
  readonly cancelled: string[] = [];
  closed = false;
  constructor(private readonly tts: FakeTts) {}
  speak(contextId: string): TtsContext {
    if (this.closed) throw new ProviderError(this.tts.provider, "session closed", undefined);
    const line: FakeLine = { contextId, text: "", flushes: 0, closed: false, queue: new AsyncQueue() };
    this.lines.push(line);
    this.tts.spoken.push(line);
    const behaviour = this.tts.behaviour;
    queueMicrotask(() => {
      if (behaviour === "fail-before-audio")
        line.queue.fail(new ProviderError(this.tts.provider, "5xx", 503));
      if (behaviour === "fail-after-audio") {
        line.queue.push(new Uint8Array([1]));
        line.queue.fail(new ProviderError(this.tts.provider, "dropped", undefined));
      }
      if (behaviour === "non-provider-error") line.queue.fail(new TypeError("bug"));
    });
    return {
      contextId,
      sendText: (t) => {
        line.text += t;
      },
      flush: () => {
        line.flushes++;
      },
      close: () => {
        line.closed = true;
        if (behaviour === "ok") {
          line.queue.push(this.tts.byte);
          line.queue.end();
        }
      },
      audio: line.queue,
    };
  }
  cancel(contextId: string): void {
    this.cancelled.push(contextId);
    for (const l of this.lines) if (l.contextId === contextId) l.queue.discard();
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

class FakeTts implements TextToSpeech {
  readonly sessions: FakeTtsSession[] = [];
  readonly spoken: FakeLine[] = [];
  behaviour: "ok" | "fail-before-audio" | "fail-after-audio" | "non-provider-error" | "silent" = "ok";
  failOpen: ProviderError | null = null;
  opens = 0;
  readonly byte: Uint8Array;
  constructor(
    readonly provider: string,
    marker: number,
  ) {
    this.byte = new Uint8Array([marker, marker]);
  }
  async openSession(): Promise<TtsSession> {
    this.opens++;
    if (this.failOpen) throw this.failOpen;
    const s = new FakeTtsSession(this);
    this.sessions.push(s);
    return s;
  }
  async *synthesize(text: string): AsyncIterable<Uint8Array> {
    if (this.behaviour !== "ok") throw new ProviderError(this.provider, "5xx", 503);
    yield new TextEncoder().encode(text);
  }
}

async function collect(audio: AsyncIterable<Uint8Array>): Promise<number[]> {
  const out: number[] = [];
  for await (const b of audio) out.push(...b);
  return out;
}

async function sayLine(session: TtsSession, id: string, text: string): Promise<number[]> {
  const ctx = session.speak(id);
  ctx.sendText(text);
  ctx.close();
  return collect(ctx.audio);
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("withTtsFallback", () => {
  function setup(coolDownMs = 1000) {
    const primary = new FakeTts("elevenlabs", 1);
    const fallback = new FakeTts("azure-tts", 2);
    let now = 0;
    const switches: FallbackSwitch[] = [];
    const tts = withTtsFallback(primary, fallback, {
      coolDownMs,
      nowMs: () => now,
      onFallback: (e) => switches.push(e),
    });
    return { primary, fallback, tts, switches, advance: (ms: number) => (now += ms) };
  }

  it("speaks on the primary while it is healthy and never opens the fallback", async () => {
    const { primary, fallback, tts } = setup();
    const session = await tts.openSession();
    expect(await sayLine(session, "u1", "Hello there.")).toEqual([1, 1]);
    expect(primary.spoken[0]?.text).toBe("Hello there.");
    expect(fallback.opens).toBe(0);
  });

  it("opens the fallback's session when the primary cannot be opened, and rejects only when both fail", async () => {
    const { primary, tts, switches } = setup();
    primary.failOpen = new ProviderError("elevenlabs", "401", 401);
    const session = await tts.openSession();
    expect(await sayLine(session, "u1", "Hi.")).toEqual([2, 2]);
    expect(switches).toMatchObject([{ port: "tts", from: "elevenlabs", to: "azure-tts", stage: "open" }]);

    const { tts: both, primary: p2, fallback: f2 } = setup();
    p2.failOpen = new ProviderError("elevenlabs", "down", 503);
    f2.failOpen = new ProviderError("azure-tts", "down", 503);
    await expect(both.openSession()).rejects.toMatchObject({ provider: "azure-tts" });
  });

  it("replays the whole line on the fallback when the primary's audio fails before the first byte", async () => {
    const { primary, fallback, tts, switches } = setup();
    primary.behaviour = "fail-before-audio";
    const session = await tts.openSession();
    const ctx = session.speak("u1");
    ctx.sendText("Thanks, ");
    ctx.flush();
    ctx.sendText("goodbye.");
    ctx.close();
    expect(ctx.usedFallback?.()).toBe(false);
    expect(await collect(ctx.audio)).toEqual([2, 2]);
    // The caller heard the fallback voice: the engine must not cache this audio under the main voice.
    expect(ctx.usedFallback?.()).toBe(true);
    expect(fallback.spoken[0]).toMatchObject({
      contextId: "u1",
      text: "Thanks, goodbye.",
      flushes: 1,
      closed: true,
    });
    expect(switches).toMatchObject([{ stage: "stream", error: "5xx" }]);
  });

  it("keeps later lines on the fallback during the cool-down, then retries the primary with a fresh session", async () => {
    const { primary, fallback, tts, advance } = setup(1000);
    primary.behaviour = "fail-before-audio";
    const session = await tts.openSession();
    expect(await sayLine(session, "u1", "One.")).toEqual([2, 2]);
    primary.behaviour = "ok";
    advance(999);
    expect(await sayLine(session, "u2", "Two.")).toEqual([2, 2]);
    expect(primary.spoken).toHaveLength(1);
    advance(1);
    expect(await sayLine(session, "u3", "Three.")).toEqual([1, 1]);
    expect(primary.opens).toBe(2);
    expect(primary.sessions[0]?.closed).toBe(true);
    expect(fallback.spoken.map((l) => l.text)).toEqual(["One.", "Two."]);
  });

  it("does not hide a failure after the first byte: the line fails, no second voice", async () => {
    const { primary, fallback, tts } = setup();
    primary.behaviour = "fail-after-audio";
    const session = await tts.openSession();
    const ctx = session.speak("u1");
    ctx.close();
    const got: number[] = [];
    await expect(
      (async () => {
        for await (const b of ctx.audio) got.push(...b);
      })(),
    ).rejects.toMatchObject({ message: "dropped" });
    expect(got).toEqual([1]);
    expect(fallback.spoken).toHaveLength(0);
  });

  it("does not treat a programming error as a provider outage", async () => {
    const { primary, fallback, tts } = setup();
    primary.behaviour = "non-provider-error";
    const session = await tts.openSession();
    await expect(sayLine(session, "u1", "x")).rejects.toBeInstanceOf(TypeError);
    expect(fallback.opens).toBe(0);
  });

  it("falls back when the primary session is dead (speak throws)", async () => {
    const { primary, tts } = setup();
    const session = await tts.openSession();
    await primary.sessions[0]?.close();
    expect(await sayLine(session, "u1", "Hello.")).toEqual([2, 2]);
  });

  it("cancel ends the line at whichever provider speaks it and nothing more is yielded", async () => {
    const { primary, fallback, tts } = setup();
    primary.behaviour = "fail-before-audio";
    fallback.behaviour = "silent";
    const session = await tts.openSession();
    const ctx = session.speak("u1");
    ctx.sendText("A long line");
    const done = collect(ctx.audio);
    await tick();
    await tick();
    session.cancel("u1");
    expect(await done).toEqual([]);
    expect(fallback.sessions[0]?.cancelled).toEqual(["u1"]);
  });

  it("synthesize (cache renders) stays on the primary voice", async () => {
    const { primary, tts } = setup();
    primary.behaviour = "fail-before-audio";
    await expect(collect(tts.synthesize("Hi."))).rejects.toMatchObject({ provider: "elevenlabs" });
  });
});

describe("withSttFallback", () => {
  function setup() {
    const primary = new FakeStt("deepgram");
    const fallback = new FakeStt("google-stt");
    const switches: FallbackSwitch[] = [];
    const stt = withSttFallback(primary, fallback, { onFallback: (e) => switches.push(e), nowMs: () => 0 });
    return { primary, fallback, stt, switches };
  }

  it("uses the fallback when the primary cannot connect", async () => {
    const { primary, fallback, stt, switches } = setup();
    primary.failConnect = new ProviderError("deepgram", "401", 401);
    await stt.connect(OPTS);
    expect(fallback.connects).toBe(1);
    expect(switches).toMatchObject([{ port: "stt", stage: "connect", from: "deepgram", to: "google-stt" }]);
  });

  it("moves a live stream to the fallback on a mid-call error; the same listeners get its events", async () => {
    const { primary, fallback, stt, switches } = setup();
    const stream = await stt.connect(OPTS);
    const events: SttEvent[] = [];
    stream.onEvent((e) => events.push(e));
    stream.sendAudio(new Uint8Array(8_000));
    primary.streams[0]?.emit({ type: "interim", text: "hello", startMs: 0, endMs: 500 });

    let release: () => void = () => undefined;
    fallback.gate = new Promise<void>((r) => {
      release = r;
    });
    primary.streams[0]?.emit({
      type: "error",
      error: new ProviderError("deepgram", "socket closed 1011", undefined),
    });
    primary.streams[0]?.emit({ type: "closed" });
    stream.sendAudio(new Uint8Array(160));
    stream.sendAudio(new Uint8Array(160));
    release();
    await tick();

    const next = fallback.streams[0];
    expect(next?.bytes).toBe(320);
    stream.sendAudio(new Uint8Array(160));
    expect(next?.bytes).toBe(480);
    expect(primary.streams[0]?.bytes).toBe(8_000);
    next?.emit({
      type: "final",
      text: "book tuesday",
      confidence: 0.9,
      speechFinal: true,
      fromFinalize: false,
      startMs: 100,
      endMs: 900,
    });
    expect(events.map((e) => e.type)).toEqual(["interim", "final"]);
    expect(events[1]).toMatchObject({ startMs: 1_100, endMs: 1_900 });
    expect(switches).toMatchObject([{ stage: "stream", error: "socket closed 1011" }]);
    stream.finalize();
    expect(next?.finalized).toBe(1);
  });

  it("treats an unrequested close of the primary as a failure", async () => {
    const { primary, fallback, stt } = setup();
    const stream = await stt.connect(OPTS);
    const events: SttEvent[] = [];
    stream.onEvent((e) => events.push(e));
    primary.streams[0]?.emit({ type: "closed" });
    await tick();
    expect(fallback.streams).toHaveLength(1);
    expect(events).toEqual([]);
  });

  it("closes once, with one closed event, when the engine closes it", async () => {
    const { primary, fallback, stt } = setup();
    const stream = await stt.connect(OPTS);
    const events: SttEvent[] = [];
    stream.onEvent((e) => events.push(e));
    await stream.close();
    expect(primary.streams[0]?.closed).toBe(true);
    expect(fallback.connects).toBe(0);
    expect(events).toEqual([{ type: "closed" }]);
  });

  it("reports the fallback's error and closes when both providers fail", async () => {
    const { primary, fallback, stt } = setup();
    const stream = await stt.connect(OPTS);
    const events: SttEvent[] = [];
    stream.onEvent((e) => events.push(e));
    fallback.failConnect = new ProviderError("google-stt", "403", 403);
    primary.streams[0]?.emit({ type: "error", error: new ProviderError("deepgram", "down", undefined) });
    await tick();
    expect(events.map((e) => e.type)).toEqual(["error", "closed"]);
    expect(events[0]).toMatchObject({ error: { provider: "google-stt" } });
  });

  it("skips the primary on the next connect while it cools down", async () => {
    const { primary, fallback, stt } = setup();
    primary.failConnect = new ProviderError("deepgram", "down", 503);
    await stt.connect(OPTS);
    primary.failConnect = null;
    await stt.connect(OPTS);
    expect(primary.connects).toBe(1);
    expect(fallback.connects).toBe(2);
  });
});

describe("fallbacks with the real adapters", () => {
  let eleven: ElevenLabsEmulator | undefined;
  let deepgram: DeepgramEmulator | undefined;
  let azure: Server | undefined;
  afterEach(async () => {
    await eleven?.close();
    await deepgram?.close();
    azure?.closeAllConnections();
    await new Promise<void>((r) => (azure ? azure.close(() => r()) : r()));
    eleven = undefined;
    deepgram = undefined;
    azure = undefined;
  });

  /** A stand-in Azure endpoint answering every SSML request with 0x7f bytes; counts requests. */
  async function fakeAzure(): Promise<{ url: string; requests: () => number }> {
    let n = 0;
    const srv = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        n++;
        res.writeHead(200, { "content-type": "audio/basic" });
        res.end(Buffer.alloc(400, 0x7f));
      });
    });
    azure = srv;
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, requests: () => n };
  }

  async function ttsPair(now: () => number) {
    eleven = await startElevenLabsEmulator({ apiKey: "xi" });
    const az = await fakeAzure();
    const primary = createElevenLabsTts({
      apiKey: "xi",
      voiceId: "v1",
      baseUrl: eleven.url,
      openWebSocket: openNodeWebSocket,
    });
    const switches: FallbackSwitch[] = [];
    const tts = withTtsFallback(primary, createAzureTts({ apiKey: "az", baseUrl: az.url }), {
      coolDownMs: 10_000,
      nowMs: now,
      onFallback: (e) => switches.push(e),
    });
    return { emu: eleven, az, tts, switches };
  }

  const bytesOf = (audio: number[]) => ({ len: audio.length, azure: audio.every((b) => b === 0x7f) });

  it("an ElevenLabs 5xx on connect speaks the line with Azure, and ElevenLabs is back after the cool-down", async () => {
    let now = 0;
    const { emu, az, tts, switches } = await ttsPair(() => now);
    emu.setFaults({ status: 503, failures: 1 });
    const session = await tts.openSession();
    expect(bytesOf(await sayLine(session, "u1", "Hello there."))).toEqual({ len: 400, azure: true });
    expect(switches).toMatchObject([{ from: "elevenlabs", to: "azure-tts", stage: "open" }]);
    now += 10_000;
    const back = await sayLine(session, "u2", "Hello again.");
    expect(bytesOf(back).azure).toBe(false);
    expect(back.length).toBeGreaterThan(0);
    expect(az.requests()).toBe(1);
    await session.close();
  });

  it("a socket dropped before the first audio byte moves that line to Azure", async () => {
    const { emu, az, tts, switches } = await ttsPair(() => 0);
    const session = await tts.openSession();
    emu.setFaults({ disconnectAfterChunks: 0 });
    expect(bytesOf(await sayLine(session, "u1", "Your booking is confirmed."))).toEqual({
      len: 400,
      azure: true,
    });
    expect(switches).toMatchObject([{ stage: "stream" }]);
    expect(az.requests()).toBe(1);
    await session.close();
  });

  it("a Deepgram handshake failure connects the fallback stream instead", async () => {
    deepgram = await startDeepgramEmulator({ apiKey: "dg" });
    deepgram.setFaults({ handshakeStatus: 503, handshakeFailures: 1 });
    const primary = createDeepgramStt({
      apiKey: "dg",
      baseUrl: deepgram.wsUrl,
      openWebSocket: openNodeWebSocket,
    });
    const fallback = new FakeStt("google-stt");
    const switches: FallbackSwitch[] = [];
    const stt = withSttFallback(primary, fallback, { onFallback: (e) => switches.push(e) });
    const stream = await stt.connect(OPTS);
    stream.sendAudio(new Uint8Array(160));
    expect(fallback.streams[0]?.bytes).toBe(160);
    expect(switches).toMatchObject([{ port: "stt", stage: "connect", from: "deepgram" }]);
    await stream.close();
  });
});
