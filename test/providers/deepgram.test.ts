import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ProviderError } from "../../src/lib/errors";
import { createDeepgramStt, deepgramListenUrl } from "../../src/providers/deepgram";
import type { SttEvent, SttStream } from "../../src/providers/ports";
import { type DeepgramEmulator, startDeepgramEmulator } from "../../src/tooling/emulators/deepgram";
import { openNodeWebSocket, silence, synthesizeSpeech } from "../../src/tooling/emulators/voice-shared";

let emu: DeepgramEmulator;
beforeEach(async () => {
  emu = await startDeepgramEmulator({ apiKey: "dg-key" });
});
afterEach(async () => {
  await emu.close();
});

const endpointing = { silenceMs: 300, utteranceEndMs: 1000 };

function stt(apiKey = "dg-key") {
  return createDeepgramStt({
    apiKey,
    baseUrl: emu.wsUrl,
    openWebSocket: openNodeWebSocket,
    keepAliveMs: 300,
  });
}

function collect(stream: SttStream): SttEvent[] {
  const events: SttEvent[] = [];
  stream.onEvent((e) => events.push(e));
  return events;
}

async function waitFor(pred: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > timeoutMs) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}

function sendInFrames(stream: SttStream, audio: Uint8Array): void {
  for (let i = 0; i < audio.length; i += 160) stream.sendAudio(audio.subarray(i, i + 160));
}

describe("Deepgram adapter against the emulator", () => {
  it("builds the listen URL from config and the call's endpointing", () => {
    const url = new URL(
      deepgramListenUrl({ baseUrl: "wss://x" }, { language: "en-GB", endpointing, tag: "c1" }),
    );
    expect(url.pathname).toBe("/v1/listen");
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      model: "nova-2",
      encoding: "mulaw",
      sample_rate: "8000",
      language: "en-GB",
      interim_results: "true",
      vad_events: "true",
      endpointing: "300",
      utterance_end_ms: "1000",
      tag: "c1",
    });
  });

  it("turns a scripted utterance into speech_started, growing interims, a speech_final and utterance_end", async () => {
    emu.addScript("call-1", ["book me in for Tuesday"]);
    const stream = await stt().connect({ language: "en-GB", endpointing, tag: "call-1" });
    const events = collect(stream);
    sendInFrames(stream, silence(200));
    sendInFrames(stream, synthesizeSpeech("book me in for Tuesday"));
    sendInFrames(stream, silence(1300));
    await waitFor(() => events.some((e) => e.type === "utterance_end"));
    const types = events.map((e) => e.type);
    expect(types[0]).toBe("speech_started");
    const interims = events.filter((e) => e.type === "interim");
    expect(interims.length).toBeGreaterThan(1);
    const final = events.find((e) => e.type === "final");
    expect(final).toMatchObject({
      type: "final",
      text: "book me in for Tuesday",
      speechFinal: true,
      fromFinalize: false,
    });
    expect(types.indexOf("final")).toBeLessThan(types.indexOf("utterance_end"));
    expect(emu.connections()[0]?.authorization).toBe("Token dg-key");
    await stream.close();
    expect(events.at(-1)?.type).toBe("closed");
    expect(emu.connections()[0]?.sent.at(-1)).toMatchObject({ type: "Metadata" });
  });

  it("flushes a from_finalize final when asked mid-utterance", async () => {
    emu.addScript("call-2", ["stop calling me"]);
    const stream = await stt().connect({ language: "en-GB", endpointing, tag: "call-2" });
    const events = collect(stream);
    sendInFrames(stream, silence(100));
    sendInFrames(stream, synthesizeSpeech("stop calling"));
    stream.finalize();
    await waitFor(() => events.some((e) => e.type === "final"));
    expect(events.find((e) => e.type === "final")).toMatchObject({
      fromFinalize: true,
      text: "stop calling me",
    });
    await stream.close();
  });

  it("sends KeepAlive text frames while no audio flows", async () => {
    const stream = await stt().connect({ language: "en-GB", endpointing });
    await new Promise((r) => setTimeout(r, 800));
    expect(emu.connections()[0]?.controlMessages).toContain(JSON.stringify({ type: "KeepAlive" }));
    await stream.close();
  });

  it("rejects a bad key with a non-retryable ProviderError", async () => {
    const err = await stt("wrong")
      .connect({ language: "en-GB", endpointing })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ provider: "deepgram", status: 401, retryable: false });
  });

  it("maps a 503 handshake to a retryable ProviderError", async () => {
    emu.setFaults({ handshakeStatus: 503, handshakeFailures: 1 });
    const err = await stt()
      .connect({ language: "en-GB", endpointing })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, retryable: true });
    const ok = await stt().connect({ language: "en-GB", endpointing });
    await ok.close();
  });

  it("reports a mid-call disconnect as a retryable error then closed", async () => {
    emu.setFaults({ disconnectAfterMs: 100 });
    const stream = await stt().connect({ language: "en-GB", endpointing });
    const events = collect(stream);
    await waitFor(() => events.some((e) => e.type === "closed"));
    const err = events.find((e) => e.type === "error");
    expect(err?.type === "error" && err.error.retryable).toBe(true);
  });
});
