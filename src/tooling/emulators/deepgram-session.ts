/**
 * One Deepgram `/v1/listen` connection in the emulator: energy segmentation of the caller's audio into
 * scripted utterances, and the results Deepgram sends for them, including the awkward-but-legal ones
 * real Deepgram produces (protocols.md §5): SpeechStarted and an empty final for noise with no words,
 * UtteranceEnd after a speech_final, finals without speech_final, split finals, interim-only
 * stretches, late finals, empty finals in long silence, and a server-side close on request.
 */
import type { WebSocket } from "ws";
import { EnergySegmenter } from "../../providers/mulaw-energy";
import { delay, MS_PER_CHAR, parseJson } from "./voice-shared";

/** How one scripted utterance comes back; every field defaults to Deepgram's plain behaviour. */
export interface ScriptedUtterance {
  text: string;
  /** false: the endpoint final carries `speech_final:false` (noise kept the endpointer from firing). */
  speechFinal?: boolean;
  /** The words are finalised in two `is_final` results, the first without `speech_final`. */
  splitFinal?: boolean;
  /** An empty `is_final` result (transcript "") comes first. */
  emptyFinalBefore?: boolean;
  /** After the endpoint, only interim results for this long, then the final. */
  interimOnlyMs?: number;
  /** This utterance's final leaves this much later (it lands after the caller's next words began). */
  finalDelayMs?: number;
}

/** Awkward messages injected into a live connection through the control API. */
export const INJECT_KINDS = ["noise", "empty_final", "utterance_end", "close"] as const;
export type InjectKind = (typeof INJECT_KINDS)[number];

/** What one connection did, for test assertions. */
export interface DeepgramConnectionRecord {
  requestId: string;
  query: Record<string, string>;
  authorization: string;
  audioBytes: number;
  controlMessages: string[];
  sent: unknown[];
  /** Every final result of an utterance: the audio time that triggered it and when it left (load tests). */
  finals: EmittedFinal[];
  closeCode?: number;
}

/** A final result as the emulator emitted it. */
export interface EmittedFinal {
  /** Audio time (ms since the stream's first byte) at which the final was decided. */
  audioMs: number;
  /** Wall clock (epoch ms) when the message was written to the socket. */
  sentAtMs: number;
  speechFinal: boolean;
}

/** Settings every connection reads live. */
export interface SessionSettings {
  scripts: Map<string, ScriptedUtterance[]>;
  finalDelayMs: number;
  idleTimeoutMs: number;
  /** In silence with nothing open, an empty final every this many ms of audio (0 = never). */
  silenceFinalEveryMs: number;
}

interface Segment {
  startMs: number;
  endMs: number;
  words: string[];
  shape: ScriptedUtterance;
  expectedMs: number;
  lastInterimMs: number;
  shown: number;
  finalized: boolean;
}

const INTERIM_EVERY_MS = 250;
const CHANNEL = [0, 1];

function wordsPayload(seg: Segment, from: number, count: number, endMs: number) {
  const span = Math.max(1, endMs - seg.startMs);
  const per = span / Math.max(1, count);
  return seg.words.slice(from, count).map((w, j) => {
    const i = from + j;
    return {
      word: w.toLowerCase().replace(/[^\p{L}\p{N}'@.:-]/gu, ""),
      start: (seg.startMs + i * per) / 1000,
      end: (seg.startMs + (i + 1) * per) / 1000,
      confidence: 0.98,
      punctuated_word: w,
    };
  });
}

/** One `/v1/listen` connection: segmentation, results, timers. */
export class ListenSession {
  private readonly seg = new EnergySegmenter();
  private segment: Segment | undefined;
  private lastFinalEndMs = 0;
  private pendingUtteranceEndMs: number | undefined;
  private outbox: Promise<void> = Promise.resolve();
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private readonly endpointingMs: number | false;
  private readonly utteranceEndMs: number | undefined;
  private readonly interim: boolean;
  private readonly vadEvents: boolean;

  constructor(
    private readonly ws: WebSocket,
    readonly record: DeepgramConnectionRecord,
    private readonly state: SessionSettings,
  ) {
    const q = record.query;
    this.endpointingMs = q.endpointing === "false" ? false : Number(q.endpointing ?? "10");
    this.utteranceEndMs = q.utterance_end_ms === undefined ? undefined : Number(q.utterance_end_ms);
    this.interim = q.interim_results === "true";
    this.vadEvents = q.vad_events === "true";
    ws.on("message", (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on("close", (code) => {
      this.closed = true;
      record.closeCode = code;
      clearTimeout(this.idleTimer);
    });
    this.touch();
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Send an awkward message now (control API), at the connection's current audio time. */
  inject(kind: InjectKind): void {
    const now = this.seg.audioMs;
    if (kind === "noise") {
      // Noise trips the VAD (SpeechStarted) but holds no words: an empty final follows.
      if (this.vadEvents) this.send({ type: "SpeechStarted", channel: CHANNEL, timestamp: now / 1000 });
      this.send(this.results(now, now + 400, [], { is_final: true, speech_final: false }), 400);
    } else if (kind === "empty_final") {
      this.send(this.results(this.lastFinalEndMs, now, [], { is_final: true, speech_final: false }));
    } else if (kind === "utterance_end") {
      this.send({ type: "UtteranceEnd", channel: CHANNEL, last_word_end: this.lastFinalEndMs / 1000 });
    } else {
      this.closeWith(1011, "NET-0000");
    }
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.closeWith(1011, "NET-0001"), this.state.idleTimeoutMs);
  }

  private send(msg: Record<string, unknown>, delayMs = 0, final?: Omit<EmittedFinal, "sentAtMs">): void {
    this.outbox = this.outbox.then(async () => {
      await delay(delayMs);
      if (this.closed) return;
      this.record.sent.push(msg);
      this.ws.send(JSON.stringify(msg));
      if (final) this.record.finals.push({ ...final, sentAtMs: Date.now() });
    });
  }

  private closeWith(code: number, reason: string): void {
    this.outbox = this.outbox.then(() => {
      if (!this.closed) this.ws.close(code, reason);
    });
  }

  private results(
    fromMs: number,
    toMs: number,
    words: ReturnType<typeof wordsPayload>,
    flags: Record<string, boolean>,
  ): Record<string, unknown> {
    const transcript = words.map((w) => w.punctuated_word).join(" ");
    if (words.length > 0) this.pendingUtteranceEndMs = toMs;
    return {
      type: "Results",
      channel_index: CHANNEL,
      duration: Math.max(0, toMs - fromMs) / 1000,
      start: fromMs / 1000,
      ...flags,
      channel: { alternatives: [{ transcript, confidence: words.length > 0 ? 0.97 : 0, words }] },
      metadata: {
        request_id: this.record.requestId,
        model_info: { name: this.record.query.model ?? "nova-3", version: "emulator", arch: "emulator" },
        model_uuid: "00000000-0000-0000-0000-000000000000",
      },
    };
  }

  /** Finalise the open segment (or an empty span) in the shape its script asks for. */
  private emitFinal(speechFinal: boolean, fromFinalize: boolean, nowMs: number): void {
    const seg = this.segment !== undefined && !this.segment.finalized ? this.segment : undefined;
    const endMs = seg ? seg.endMs : nowMs;
    const startMs = seg?.startMs ?? this.lastFinalEndMs;
    const shape = seg?.shape ?? { text: "" };
    const n = seg?.words.length ?? 0;
    const flags = (sf: boolean) => ({ is_final: true, speech_final: sf, from_finalize: fromFinalize });
    let wait = this.state.finalDelayMs + (shape.finalDelayMs ?? 0);
    if (seg && shape.interimOnlyMs !== undefined && this.interim) {
      // An interim-only stretch: the whole text keeps coming back as interim before any final.
      for (let t = 0; t < shape.interimOnlyMs; t += INTERIM_EVERY_MS) {
        this.send(
          this.results(startMs, endMs, wordsPayload(seg, 0, n, endMs), {
            is_final: false,
            speech_final: false,
          }),
          t === 0 ? wait : INTERIM_EVERY_MS,
        );
        wait = 0;
      }
      wait += INTERIM_EVERY_MS;
    }
    if (shape.emptyFinalBefore) {
      this.send(this.results(this.lastFinalEndMs, startMs, [], flags(false)), wait);
      wait = 0;
    }
    const sf = speechFinal && shape.speechFinal !== false;
    if (seg && shape.splitFinal && n > 1) {
      const half = Math.ceil(n / 2);
      const midMs = startMs + ((endMs - startMs) * half) / n;
      this.send(this.results(startMs, midMs, wordsPayload(seg, 0, half, endMs), flags(false)), wait);
      this.send(this.results(midMs, endMs, wordsPayload(seg, half, n, endMs), flags(sf)), 0, {
        audioMs: nowMs,
        speechFinal: sf,
      });
    } else {
      const words = seg ? wordsPayload(seg, 0, n, endMs) : [];
      this.send(this.results(startMs, endMs, words, flags(sf)), wait, { audioMs: nowMs, speechFinal: sf });
    }
    this.lastFinalEndMs = endMs;
    if (seg) seg.finalized = true;
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    this.touch();
    if (isBinary) {
      this.record.audioBytes += data.byteLength;
      this.onAudio(new Uint8Array(data));
      return;
    }
    const text = data.toString("utf8");
    this.record.controlMessages.push(text);
    const msg = parseJson(text);
    const type = typeof msg === "object" && msg !== null ? (msg as Record<string, unknown>).type : undefined;
    const now = this.seg.audioMs;
    if (type === "Finalize") {
      this.emitFinal(false, true, now);
    } else if (type === "CloseStream") {
      if (this.segment !== undefined && !this.segment.finalized) this.emitFinal(false, false, now);
      this.send({
        type: "Metadata",
        transaction_key: "deprecated",
        request_id: this.record.requestId,
        sha256: "0".repeat(64),
        created: new Date().toISOString(),
        duration: now / 1000,
        channels: 1,
      });
      this.closeWith(1000, "");
    }
  }

  private onAudio(bytes: Uint8Array): void {
    for (const ev of this.seg.push(bytes)) {
      if (ev.type === "speech_start") {
        const shape = this.state.scripts.get(this.record.query.tag ?? "")?.shift() ?? { text: "" };
        this.segment = {
          startMs: ev.atMs,
          endMs: ev.atMs,
          words: shape.text.split(/\s+/).filter((w) => w.length > 0),
          shape,
          expectedMs: Math.max(1, shape.text.length * MS_PER_CHAR),
          lastInterimMs: ev.atMs,
          shown: 0,
          finalized: false,
        };
        // The VAD event fires on any energy, words or not (noise on the line included).
        if (this.vadEvents) this.send({ type: "SpeechStarted", channel: CHANNEL, timestamp: ev.atMs / 1000 });
      } else if (ev.type === "speech_frame") {
        const seg = this.segment;
        if (seg === undefined || seg.finalized) continue;
        seg.endMs = ev.atMs;
        if (this.interim && ev.atMs - seg.lastInterimMs >= INTERIM_EVERY_MS && seg.words.length > 0) {
          seg.lastInterimMs = ev.atMs;
          const progress = (ev.atMs - seg.startMs) / seg.expectedMs;
          const shown = Math.min(seg.words.length, Math.max(1, Math.floor(seg.words.length * progress)));
          if (shown > seg.shown) {
            seg.shown = shown;
            this.send(
              this.results(seg.startMs, ev.atMs, wordsPayload(seg, 0, shown, ev.atMs), {
                is_final: false,
                speech_final: false,
              }),
            );
          }
        }
      } else {
        this.onSilence(ev.atMs, ev.silenceMs);
      }
    }
  }

  private onSilence(nowMs: number, silenceMs: number): void {
    const seg = this.segment;
    if (seg !== undefined && !seg.finalized) {
      const endpoint =
        this.endpointingMs === false ? Math.max(this.utteranceEndMs ?? 0, 500) : this.endpointingMs;
      if (silenceMs >= endpoint) {
        this.emitFinal(this.endpointingMs !== false, false, nowMs);
        this.seg.endSegment();
      }
    } else if (seg?.finalized === true && silenceMs >= 100) {
      this.seg.endSegment();
      this.segment = undefined;
    }
    const ue = this.pendingUtteranceEndMs;
    if (
      this.interim &&
      this.utteranceEndMs !== undefined &&
      ue !== undefined &&
      nowMs - ue >= this.utteranceEndMs
    ) {
      if (this.segment !== undefined && !this.segment.finalized) {
        this.emitFinal(false, false, nowMs);
        this.seg.endSegment();
      }
      this.pendingUtteranceEndMs = undefined;
      this.send({ type: "UtteranceEnd", channel: CHANNEL, last_word_end: ue / 1000 });
    }
    // Deepgram keeps finalising the audio it is sent: a long silence comes back as empty finals.
    const every = this.state.silenceFinalEveryMs;
    if (
      every > 0 &&
      this.segment === undefined &&
      nowMs - this.lastFinalEndMs >= every &&
      silenceMs >= every
    ) {
      this.send(this.results(this.lastFinalEndMs, nowMs, [], { is_final: true, speech_final: false }));
      this.lastFinalEndMs = nowMs;
    }
  }
}
