import { describe, expect, it } from "vitest";
import {
  DEFAULT_VAD_CONFIG,
  FRAME_BYTES,
  type FrameClassifier,
  MULAW_SILENCE,
  mergeVadConfig,
} from "../../src/audio";
import { type CallerTurn, Listener, ORPHAN_END_SILENCE_MS } from "../../src/call/listener";
import type { SttEvent, SttStream } from "../../src/providers/ports";

class FakeStt implements SttStream {
  sent = 0;
  finalized = 0;
  closed = false;
  private listeners: ((e: SttEvent) => void)[] = [];
  sendAudio(mulaw: Uint8Array): void {
    this.sent += mulaw.length;
  }
  finalize(): void {
    this.finalized++;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  onEvent(cb: (e: SttEvent) => void): () => void {
    this.listeners.push(cb);
    return () => undefined;
  }
  emit(e: SttEvent): void {
    for (const l of this.listeners) l(e);
  }
}

function listener(overrides: Partial<{ onTurn: (t: CallerTurn) => void; onSttClosed: () => void }> = {}) {
  let now = 1_000;
  const l = new Listener(DEFAULT_VAD_CONFIG, {
    agentSpeaking: () => false,
    onBargeIn: () => undefined,
    onTurn: overrides.onTurn ?? (() => undefined),
    onInterim: () => undefined,
    onSttError: () => undefined,
    onSttClosed: overrides.onSttClosed ?? (() => undefined),
    nowMs: () => now++,
  });
  return l;
}

const final = (text: string, speechFinal: boolean): SttEvent => ({
  type: "final",
  text,
  confidence: 0.9,
  speechFinal,
  fromFinalize: false,
  startMs: 0,
  endMs: 100,
});

describe("Listener", () => {
  it("assembles finals into one turn ended by speech_final", () => {
    const turns: CallerTurn[] = [];
    const l = listener({ onTurn: (t) => turns.push(t) });
    const stt = new FakeStt();
    l.attach(stt);
    stt.emit({ type: "interim", text: "the first", startMs: 0, endMs: 50 });
    expect(l.turnInProgress).toBe(true);
    stt.emit(final("the first", false));
    stt.emit(final("one please", true));
    expect(turns.map((t) => t.text)).toEqual(["the first one please"]);
    expect(l.turnInProgress).toBe(false);
  });

  it("ends a turn on UtteranceEnd when speech_final never comes (noisy line)", () => {
    const turns: CallerTurn[] = [];
    const l = listener({ onTurn: (t) => turns.push(t) });
    const stt = new FakeStt();
    l.attach(stt);
    stt.emit(final("yes", false));
    stt.emit({ type: "utterance_end", lastWordEndMs: 400 });
    stt.emit({ type: "utterance_end", lastWordEndMs: 900 });
    expect(turns.map((t) => t.text)).toEqual(["yes"]);
  });

  it("forwards every inbound frame to STT and reports an unexpected close once", () => {
    let closes = 0;
    const l = listener({ onSttClosed: () => closes++ });
    const stt = new FakeStt();
    l.attach(stt);
    l.pushFrame(new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE), 0);
    expect(stt.sent).toBe(FRAME_BYTES);
    stt.emit({ type: "closed" });
    stt.emit({ type: "closed" });
    expect(closes).toBe(1);
    l.pushFrame(new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE), 20);
    expect(stt.sent).toBe(FRAME_BYTES);
  });

  it("takes a state's VAD settings between speech runs", () => {
    const l = listener();
    const stricter = mergeVadConfig(DEFAULT_VAD_CONFIG, { vad: { minSpeechMs: 400, bargeIn: false } });
    expect(() => l.reconfigure(stricter)).not.toThrow();
    expect(l.speaking).toBe(false);
  });
});

/** A listener that ignores its hooks, built over `classifier`. */
function listenerWith(classifier: FrameClassifier): Listener {
  return new Listener(
    DEFAULT_VAD_CONFIG,
    {
      agentSpeaking: () => false,
      onBargeIn: () => undefined,
      onTurn: () => undefined,
      onInterim: () => undefined,
      onSttError: () => undefined,
      onSttClosed: () => undefined,
      nowMs: () => 0,
    },
    classifier,
  );
}

describe("Listener with an injected frame classifier", () => {
  it("keeps classifying frames after a state reconfigures the VAD (the classifier is the call's, not the VAD's)", () => {
    let disposed = false;
    const classifier = {
      isSpeech: () => {
        if (disposed) throw new Error("classifier disposed");
        return false;
      },
      reset: () => undefined,
      dispose: () => {
        disposed = true;
      },
    };
    const l = listenerWith(classifier);
    l.pushFrame(new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE), 0);
    l.reconfigure(mergeVadConfig(DEFAULT_VAD_CONFIG, { vad: { minSpeechMs: 400 } }));
    expect(() => l.pushFrame(new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE), 20)).not.toThrow();
    expect(disposed).toBe(false);
  });

  it("frees the classifier when the call's listener is disposed", async () => {
    let disposed = false;
    const classifier = {
      isSpeech: () => false,
      reset: () => undefined,
      dispose: () => {
        disposed = true;
      },
    };
    const l = listenerWith(classifier);
    await l.dispose();
    expect(disposed).toBe(true);
  });
});

describe("Listener when the STT stream drops", () => {
  it("ends the turn with the words already final once the caller is silent, instead of waiting for an end that cannot come", () => {
    const turns: CallerTurn[] = [];
    const l = listener({ onTurn: (t) => turns.push(t) });
    const stt = new FakeStt();
    l.attach(stt);
    stt.emit(final("yes speaking", false));
    stt.emit({ type: "closed" });
    const silence = new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE);
    for (let ms = 0; ms < ORPHAN_END_SILENCE_MS - 20; ms += 20) l.pushFrame(silence, ms);
    expect(turns).toEqual([]);
    l.pushFrame(silence, ORPHAN_END_SILENCE_MS);
    expect(turns.map((t) => t.text)).toEqual(["yes speaking"]);
    expect(l.turnInProgress).toBe(false);
  });

  it("joins the words of a stream that closed mid-sentence with the next stream's, as one turn", () => {
    const turns: CallerTurn[] = [];
    const l = listener({ onTurn: (t) => turns.push(t) });
    const first = new FakeStt();
    l.attach(first);
    first.emit(final("stop", false));
    first.emit({ type: "closed" });
    const next = new FakeStt();
    l.attach(next);
    next.emit(final("calling me", true));
    expect(turns.map((t) => t.text)).toEqual(["stop calling me"]);
  });
});
