import { afterEach, describe, expect, it } from "vitest";
import { ProviderError } from "../../src/lib/errors";
import { createElevenLabsTts, parseElevenLabsMessage } from "../../src/providers/elevenlabs";
import {
  type ElevenLabsEmulator,
  type ElevenLabsEmulatorOptions,
  startElevenLabsEmulator,
} from "../../src/tooling/emulators/elevenlabs";
import { MS_PER_CHAR, openNodeWebSocket } from "../../src/tooling/emulators/voice-shared";

let emu: ElevenLabsEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function setup(options: ElevenLabsEmulatorOptions = {}, apiKey = "xi-key", stallTimeoutMs = 5000) {
  emu = await startElevenLabsEmulator({ apiKey: "xi-key", ...options });
  const tts = createElevenLabsTts({
    apiKey,
    voiceId: "voice1",
    baseUrl: emu.url,
    openWebSocket: openNodeWebSocket,
    stallTimeoutMs,
  });
  return { emu, tts };
}

async function drain(audio: AsyncIterable<Uint8Array>): Promise<number> {
  let bytes = 0;
  for await (const chunk of audio) bytes += chunk.byteLength;
  return bytes;
}

describe("ElevenLabs message parsing", () => {
  it("accepts both contextId/context_id and isFinal/is_final spellings", () => {
    expect(parseElevenLabsMessage({ isFinal: true, contextId: "a" })).toEqual({
      kind: "final",
      contextId: "a",
    });
    expect(parseElevenLabsMessage({ is_final: true, context_id: "b" })).toEqual({
      kind: "final",
      contextId: "b",
    });
    const audio = parseElevenLabsMessage({ audio: "AAE=", context_id: "c" });
    expect(audio).toMatchObject({ kind: "audio", contextId: "c", final: false });
  });
});

describe("ElevenLabs adapter against the emulator", () => {
  it("streams µ-law audio of a duration proportional to the text and ends on the context final", async () => {
    const { tts, emu } = await setup();
    const session = await tts.openSession();
    const ctx = session.speak("t1");
    ctx.sendText("Thanks, I can book that.");
    ctx.close();
    const bytes = await drain(ctx.audio);
    expect(bytes).toBe("Thanks, I can book that. ".length * MS_PER_CHAR * 8);
    const req = emu.requests()[0];
    expect(req?.query).toMatchObject({ model_id: "eleven_flash_v2_5", output_format: "ulaw_8000" });
    expect(req?.messages[0]).toMatchObject({ text: " ", context_id: "t1" });
    await session.close();
  });

  it("tolerates the isFinal spelling from the server", async () => {
    const { tts } = await setup({ finalKey: "isFinal" });
    const session = await tts.openSession();
    const ctx = session.speak("t1");
    ctx.sendText("Hello.");
    ctx.close();
    expect(await drain(ctx.audio)).toBeGreaterThan(0);
    await session.close();
  });

  it("drops late frames of a cancelled context and keeps serving a fresh one", async () => {
    const { tts, emu } = await setup({ chunkIntervalMs: 5 });
    const session = await tts.openSession();
    const first = session.speak("t1");
    first.sendText("This is a long reply that the caller is going to interrupt halfway through.");
    first.flush();
    const it1 = first.audio[Symbol.asyncIterator]();
    const firstChunk = await it1.next();
    expect(firstChunk.done).toBe(false);
    session.cancel("t1");
    expect((await it1.next()).done).toBe(true);
    const second = session.speak("t2");
    second.sendText("Sorry, go ahead.");
    second.close();
    const bytes = await drain(second.audio);
    expect(bytes).toBe("Sorry, go ahead. ".length * MS_PER_CHAR * 8);
    const msgs = emu.requests()[0]?.messages ?? [];
    expect(msgs).toContainEqual({ context_id: "t1", close_context: true });
    await session.close();
  });

  it("fails a context with a retryable error when the socket drops", async () => {
    const { tts, emu } = await setup();
    emu.setFaults({ disconnectAfterChunks: 2 });
    const session = await tts.openSession();
    const ctx = session.speak("t1");
    ctx.sendText("A reply long enough to need several chunks of audio.");
    ctx.close();
    const err = await drain(ctx.audio).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ retryable: true });
  });

  it("fails a stalled context after the stall timeout", async () => {
    const { tts, emu } = await setup({}, "xi-key", 200);
    emu.setFaults({ stallAfterChunks: 1 });
    const session = await tts.openSession();
    const ctx = session.speak("t1");
    ctx.sendText("A reply long enough to need several chunks of audio.");
    ctx.close();
    const err = await drain(ctx.audio).catch((e: unknown) => e);
    expect(err).toMatchObject({ message: "audio stalled", retryable: true });
    await session.close();
  });

  it("maps a 429 too_many_concurrent_requests handshake to a retryable ProviderError", async () => {
    const { tts, emu } = await setup();
    emu.setFaults({ status: 429, failures: 1 });
    const err = await tts.openSession().catch((e: unknown) => e);
    expect(err).toMatchObject({ provider: "elevenlabs", status: 429, retryable: true });
  });

  it("synthesizes over HTTP streaming and maps 5xx and 401", async () => {
    const { tts, emu } = await setup();
    expect(await drain(tts.synthesize("Hello there."))).toBe("Hello there.".length * MS_PER_CHAR * 8);
    emu.setFaults({ status: 503, failures: 1 });
    await expect(drain(tts.synthesize("Hi"))).rejects.toMatchObject({ status: 503, retryable: true });
    const bad = createElevenLabsTts({
      apiKey: "nope",
      voiceId: "v",
      baseUrl: emu.url,
      openWebSocket: openNodeWebSocket,
    });
    await expect(drain(bad.synthesize("Hi"))).rejects.toMatchObject({
      status: 401,
      retryable: false,
      message: "HTTP 401 invalid_api_key",
    });
  });
});
