/**
 * The agent's voice: plays utterances in order, from the cache when the line is pre-rendered, else
 * streamed from TTS, as 20 ms µ-law frames with a Twilio `mark` after each chunk. Cancels instantly
 * on barge-in and reports timing for the turn's latency record.
 */
import { bytesToBase64, createOutboundChunker, type OutboundChunk, type PlaybackTracker } from "../audio";
import type { Logger } from "../lib/log";
import type { TtsSession } from "../providers/ports";
import type { UtteranceCache } from "./ports";
import type { OutboundFrame } from "./twilio-frames";

/** One line to speak. */
export interface Utterance {
  id: string;
  text: string;
  cacheable: boolean;
}

/** Timing of one spoken line, in epoch ms from the engine's clock. */
export interface SpeakTiming {
  source: "cache" | "tts";
  firstByteAtMs: number | null;
  firstFrameSentAtMs: number | null;
}

export type SpeakOutcome =
  | { status: "sent"; timing: SpeakTiming }
  | { status: "cancelled" | "failed"; timing: SpeakTiming };

export interface SpeakerDeps {
  streamSid: string;
  send(frame: OutboundFrame): void;
  tracker: PlaybackTracker;
  cache: UtteranceCache;
  /** The call's TTS session, opened lazily on the first live line. */
  ttsSession(): Promise<TtsSession>;
  nowMs(): number;
  log: Logger;
  /** Caller still talking: hold the first frame (TTS playback gate). */
  callerSpeaking(): boolean;
  ttsGateMs: number;
  /** Recording hook: each chunk of agent audio as it is sent to Twilio. */
  onAudioSent?: (utteranceId: string, audio: Uint8Array) => void;
  /** Wait on the call's timers (the playback gate polls the caller's VAD). */
  sleep(ms: number): Promise<void>;
}

/**
 * Longest the playback gate holds a line while the caller talks: long enough for a caller's full
 * sentence (a 2 s cap let lines start over callers still talking), bounded so a VAD stuck on line
 * noise cannot silence the agent.
 */
const MAX_GATE_HOLD_MS = 5_000;

export class Speaker {
  private chain: Promise<unknown> = Promise.resolve();
  private generation = 0;
  private current: { contextId: string; session: TtsSession } | null = null;
  private gate: Promise<void> = Promise.resolve();
  private inFlight = 0;

  /** Hold every line not yet started until `until` resolves (a voicemail message waits for the beep). */
  holdUntil(until: Promise<void>): void {
    this.gate = until;
  }

  constructor(private readonly deps: SpeakerDeps) {}

  /** Queue a line; resolves when all its audio has been sent (not yet heard) or it was cancelled. */
  speak(utterance: Utterance): Promise<SpeakOutcome> {
    const generation = this.generation;
    this.inFlight++;
    const run = this.chain.then(() => this.play(utterance, generation)).finally(() => this.inFlight--);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Lines queued or still being produced (their audio not all sent yet). */
  get busy(): boolean {
    return this.inFlight > 0;
  }

  /**
   * Queue a line whose text is still being generated: phrases go to TTS as they arrive and audio goes
   * out as it arrives, so the caller hears the first phrase while the rest is written.
   */
  speakStream(id: string, phrases: AsyncIterable<string>): Promise<SpeakOutcome> {
    const generation = this.generation;
    this.inFlight++;
    const run = this.chain
      .then(() => this.playStream(id, phrases, generation))
      .finally(() => this.inFlight--);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Resolves once every line queued so far has been sent or cancelled. */
  drained(): Promise<void> {
    return this.chain.then(() => undefined);
  }

  /** Stop everything queued or playing (barge-in); queued lines resolve as cancelled. */
  cancel(): void {
    this.generation++;
    const cur = this.current;
    this.current = null;
    if (cur) cur.session.cancel(cur.contextId);
  }

  private async play(u: Utterance, generation: number): Promise<SpeakOutcome> {
    const timing: SpeakTiming = { source: "cache", firstByteAtMs: null, firstFrameSentAtMs: null };
    await this.gate;
    if (generation !== this.generation) return { status: "cancelled", timing };
    const { deps } = this;
    deps.tracker.setText(u.id, u.text);
    const chunker = createOutboundChunker({ utteranceId: u.id });
    const sendChunks = (chunks: OutboundChunk[]) => this.sendChunks(u.id, chunks, timing, generation);

    const cached = await deps.cache.get(u.text).catch(() => null);
    if (cached) {
      timing.firstByteAtMs = deps.nowMs();
      const ok = (await sendChunks(chunker.push(cached))) && (await sendChunks(chunker.flush()));
      deps.tracker.endUtterance(u.id);
      return { status: ok ? "sent" : "cancelled", timing };
    }

    timing.source = "tts";
    for (let attempt = 0; ; attempt++) {
      // A retry is a fresh TTS context (and a fresh chunker: nothing of the failed try was sent).
      const contextId = attempt === 0 ? u.id : `${u.id}.retry`;
      const lineChunker = attempt === 0 ? chunker : createOutboundChunker({ utteranceId: u.id });
      const rendered: Uint8Array[] = [];
      try {
        const session = await deps.ttsSession();
        if (generation !== this.generation) return { status: "cancelled", timing };
        const ctx = session.speak(contextId);
        this.current = { contextId, session };
        ctx.sendText(u.text);
        ctx.close();
        for await (const bytes of ctx.audio) {
          if (generation !== this.generation) break;
          if (timing.firstByteAtMs === null) timing.firstByteAtMs = deps.nowMs();
          if (u.cacheable) rendered.push(bytes);
          if (!(await sendChunks(lineChunker.push(bytes)))) break;
        }
        if (this.current?.contextId === contextId) this.current = null;
        if (generation !== this.generation) {
          deps.tracker.endUtterance(u.id);
          return { status: "cancelled", timing };
        }
        await sendChunks(lineChunker.flush());
        deps.tracker.endUtterance(u.id);
        // Only the main voice goes into the cache: a fallback voice would otherwise be replayed on later calls.
        if (u.cacheable && rendered.length > 0 && ctx.usedFallback?.() !== true) {
          deps.cache.backfill(u.text, concat(rendered));
        }
        return { status: "sent", timing };
      } catch (err) {
        if (this.current?.contextId === contextId) this.current = null;
        const error = err instanceof Error ? err.message : String(err);
        // A line that failed before any of it was sent is tried once more: otherwise the caller hears
        // nothing (an answer to their question, a reprompt) and waits out a no-speech timeout. One that
        // failed part-way is not repeated: the caller heard its start.
        if (attempt === 0 && timing.firstFrameSentAtMs === null && generation === this.generation) {
          deps.log.warn("tts failed before a line started; trying it once more", {
            utteranceId: u.id,
            error,
          });
          continue;
        }
        deps.tracker.endUtterance(u.id);
        deps.log.warn("tts failed for a line", { utteranceId: u.id, error });
        return { status: "failed", timing };
      }
    }
  }

  private async playStream(
    id: string,
    phrases: AsyncIterable<string>,
    generation: number,
  ): Promise<SpeakOutcome> {
    const timing: SpeakTiming = { source: "tts", firstByteAtMs: null, firstFrameSentAtMs: null };
    await this.gate;
    if (generation !== this.generation) return { status: "cancelled", timing };
    const { deps } = this;
    const chunker = createOutboundChunker({ utteranceId: id });
    let text = "";
    try {
      const session = await deps.ttsSession();
      if (generation !== this.generation) return { status: "cancelled", timing };
      const ctx = session.speak(id);
      this.current = { contextId: id, session };
      const feeding = (async () => {
        for await (const phrase of phrases) {
          if (generation !== this.generation) break;
          text += phrase;
          deps.tracker.setText(id, text);
          ctx.sendText(phrase);
          ctx.flush();
        }
        ctx.close();
      })();
      for await (const bytes of ctx.audio) {
        if (generation !== this.generation) break;
        if (timing.firstByteAtMs === null) timing.firstByteAtMs = deps.nowMs();
        if (!(await this.sendChunks(id, chunker.push(bytes), timing, generation))) break;
      }
      await feeding.catch(() => undefined);
      if (this.current?.contextId === id) this.current = null;
      if (generation === this.generation) await this.sendChunks(id, chunker.flush(), timing, generation);
      deps.tracker.endUtterance(id);
      return { status: generation === this.generation ? "sent" : "cancelled", timing };
    } catch (err) {
      if (this.current?.contextId === id) this.current = null;
      deps.tracker.endUtterance(id);
      deps.log.warn("streamed reply failed", {
        utteranceId: id,
        error: err instanceof Error ? err.message : String(err),
      });
      return { status: "failed", timing };
    }
  }

  /**
   * Send chunks in order, each as its frames then one mark. Before the reply's first frame the
   * playback gate holds audio while the caller is still talking. False once the line was cancelled.
   */
  private async sendChunks(
    id: string,
    chunks: OutboundChunk[],
    timing: SpeakTiming,
    generation: number,
  ): Promise<boolean> {
    const { deps } = this;
    for (const chunk of chunks) {
      if (generation !== this.generation) return false;
      if (timing.firstFrameSentAtMs === null) {
        for (let waited = 0; deps.callerSpeaking() && waited < MAX_GATE_HOLD_MS; waited += deps.ttsGateMs) {
          await deps.sleep(deps.ttsGateMs);
          if (generation !== this.generation) return false;
        }
        timing.firstFrameSentAtMs = deps.nowMs();
      }
      deps.send({
        event: "media",
        streamSid: deps.streamSid,
        media: { payload: bytesToBase64(chunk.audio) },
      });
      deps.onAudioSent?.(id, chunk.audio);
      deps.send({ event: "mark", streamSid: deps.streamSid, mark: { name: chunk.markName } });
      deps.tracker.recordSent(
        { utteranceId: id, markName: chunk.markName, byteCount: chunk.byteCount },
        deps.nowMs(),
      );
    }
    return true;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
