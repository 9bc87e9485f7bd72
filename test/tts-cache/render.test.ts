import { describe, expect, it } from "vitest";
import { utteranceKey } from "../../src/call/utterance-key";
import { ProviderError } from "../../src/lib/errors";
import type { TextToSpeech } from "../../src/providers/ports";
import type { CacheableLine } from "../../src/tts-cache/lines";
import { cacheableLines } from "../../src/tts-cache/lines";
import { type RenderProgress, renderMissing, type UtteranceStore } from "../../src/tts-cache/render";
import { loadShipped } from "../flow/helpers";

const VOICE = { voiceId: "voice-1", modelId: "eleven_flash_v2_5" };

class FakeTts implements Pick<TextToSpeech, "synthesize"> {
  readonly calls: string[] = [];
  /** Texts that fail, with how many more times they fail. */
  readonly failing = new Map<string, { times: number; retryable: boolean }>();
  async *synthesize(text: string): AsyncIterable<Uint8Array> {
    this.calls.push(text);
    const f = this.failing.get(text);
    if (f && f.times > 0) {
      f.times--;
      throw new ProviderError("fake", f.retryable ? "busy" : "bad voice", f.retryable ? 503 : 400);
    }
    const bytes = new TextEncoder().encode(text);
    yield bytes.slice(0, 3);
    yield bytes.slice(3);
  }
}

class MemoryStore implements UtteranceStore {
  readonly objects = new Map<string, { audio: Uint8Array; text: string }>();
  async has(key: string) {
    return this.objects.has(key);
  }
  async put(key: string, audio: Uint8Array, meta: { text: string }) {
    this.objects.set(key, { audio, text: meta.text });
  }
}

const line = (lineId: string, text: string): CacheableLine => ({
  stateId: lineId.split(".")[0] ?? "",
  lineId,
  text,
});

describe("renderMissing", () => {
  it("renders a whole shipped flow once; a second run renders nothing", async () => {
    const lines = cacheableLines(loadShipped("inbound-triage"));
    const tts = new FakeTts();
    const store = new MemoryStore();
    const first = await renderMissing({ lines, voice: VOICE, tts, store });
    const distinct = new Set(lines.map((l) => l.text)).size;
    expect(first).toMatchObject({
      total: distinct,
      rendered: distinct,
      cached: 0,
      failed: 0,
      aborted: false,
    });
    expect(tts.calls).toHaveLength(distinct);
    expect(store.objects.size).toBe(distinct);

    const progress: RenderProgress[] = [];
    const second = await renderMissing({
      lines,
      voice: VOICE,
      tts,
      store,
      onProgress: (p) => progress.push(p),
    });
    expect(second).toMatchObject({ rendered: 0, cached: distinct, bytes: 0 });
    expect(tts.calls).toHaveLength(distinct);
    expect(progress.map((p) => p.index)).toEqual(Array.from({ length: distinct }, (_, i) => i + 1));
  });

  it("stores the whole audio under the call-time content key", async () => {
    const tts = new FakeTts();
    const store = new MemoryStore();
    await renderMissing({ lines: [line("close.say", "Goodbye for now.")], voice: VOICE, tts, store });
    const key = await utteranceKey({ ...VOICE, text: "Goodbye for now." });
    const obj = store.objects.get(key);
    expect(new TextDecoder().decode(obj?.audio)).toBe("Goodbye for now.");
    expect(obj?.text).toBe("Goodbye for now.");
  });

  it("renders shared text once and reports every line that speaks it", async () => {
    const tts = new FakeTts();
    const progress: RenderProgress[] = [];
    await renderMissing({
      lines: [line("greeting.ask", "How can we help?"), line("greeting.reprompt", "How can we help?")],
      voice: VOICE,
      tts,
      store: new MemoryStore(),
      onProgress: (p) => progress.push(p),
    });
    expect(tts.calls).toEqual(["How can we help?"]);
    expect(progress).toMatchObject([
      { index: 1, total: 1, status: "rendered", lineIds: ["greeting.ask", "greeting.reprompt"], bytes: 16 },
    ]);
  });

  it("only renders what is missing", async () => {
    const tts = new FakeTts();
    const store = new MemoryStore();
    await store.put(await utteranceKey({ ...VOICE, text: "One." }), new Uint8Array([1]), { text: "One." });
    const summary = await renderMissing({
      lines: [line("a.say", "One."), line("b.say", "Two.")],
      voice: VOICE,
      tts,
      store,
    });
    expect(tts.calls).toEqual(["Two."]);
    expect(summary).toMatchObject({ rendered: 1, cached: 1 });
  });

  it("a different voice is a different key", async () => {
    const tts = new FakeTts();
    const store = new MemoryStore();
    const lines = [line("a.say", "One.")];
    await renderMissing({ lines, voice: VOICE, tts, store });
    await renderMissing({ lines, voice: { ...VOICE, voiceId: "voice-2" }, tts, store });
    expect(tts.calls).toEqual(["One.", "One."]);
  });

  it("retries a retryable error, reports a permanent one, and carries on with the other lines", async () => {
    const tts = new FakeTts();
    tts.failing.set("Busy line.", { times: 1, retryable: true });
    tts.failing.set("Bad line.", { times: 5, retryable: false });
    const store = new MemoryStore();
    const progress: RenderProgress[] = [];
    const summary = await renderMissing({
      lines: [line("a.say", "Busy line."), line("b.say", "Bad line."), line("c.say", "Fine line.")],
      voice: VOICE,
      tts,
      store,
      retryDelayMs: 1,
      onProgress: (p) => progress.push(p),
    });
    expect(summary).toMatchObject({ rendered: 2, failed: 1 });
    expect(progress.find((p) => p.status === "failed")).toMatchObject({
      lineIds: ["b.say"],
      error: "bad voice",
    });
    tts.failing.clear();
    const again = await renderMissing({ lines: [line("b.say", "Bad line.")], voice: VOICE, tts, store });
    expect(again).toMatchObject({ rendered: 1 });
  });

  it("stops taking new lines once aborted", async () => {
    const abort = new AbortController();
    const tts = new FakeTts();
    const summary = await renderMissing({
      lines: [line("a.say", "One."), line("b.say", "Two."), line("c.say", "Three.")],
      voice: VOICE,
      tts,
      store: new MemoryStore(),
      concurrency: 1,
      signal: abort.signal,
      onProgress: () => abort.abort(),
    });
    expect(tts.calls).toEqual(["One."]);
    expect(summary).toMatchObject({ rendered: 1, aborted: true });
  });
});
