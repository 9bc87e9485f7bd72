/**
 * Fake speech and language providers on a virtual clock, for whole-call property tests: an STT stream
 * the world scripts message by message, a TTS whose audio names the line it speaks (so the phone knows
 * what was played), and an LLM that classifies by a table and fails on request (429, 5xx, hang).
 * They implement the same ports the real adapters do; nothing here talks to a network.
 */
import { FRAME_BYTES } from "../../../audio/mulaw";
import { ProviderError } from "../../../lib/errors";
import type {
  Decision,
  DecisionRequest,
  DecisionStream,
  LanguageModel,
  SpeechToText,
  SttConnectOptions,
  SttEvent,
  SttStream,
  TextToSpeech,
  TtsContext,
  TtsSession,
} from "../../../providers/ports";
import type { VirtualClock } from "./clock";

/** Audio the fake TTS renders per character of text (close to a real voice's pace). */
export const AGENT_MS_PER_CHAR = 60;
const BYTES_PER_MS = 8;

/**
 * Which line a piece of agent audio speaks: every byte of a line's audio is its code, so the phone can
 * tell lines apart from audio alone (cached or live). Codes avoid µ-law silence (0xFF / 0x7F).
 */
export class LineCodes {
  private readonly byText = new Map<string, number>();
  private readonly byCode = new Map<number, string>();

  code(text: string): number {
    let c = this.byText.get(text);
    if (c === undefined) {
      c = 1 + (this.byText.size % 120);
      this.byText.set(text, c);
      this.byCode.set(c, text);
    }
    return c;
  }

  text(code: number): string | undefined {
    return this.byCode.get(code);
  }

  /** The whole audio of a line. */
  audio(text: string): Uint8Array {
    const ms = Math.max(200, text.length * AGENT_MS_PER_CHAR);
    const bytes = Math.ceil((ms * BYTES_PER_MS) / FRAME_BYTES) * FRAME_BYTES;
    return new Uint8Array(bytes).fill(this.code(text));
  }
}

/** One STT stream the world drives: it sees the audio sent and emits Deepgram-shaped events. */
export class VirtualSttStream implements SttStream {
  bytesReceived = 0;
  finalizes = 0;
  closed = false;
  private readonly listeners = new Set<(e: SttEvent) => void>();

  constructor(readonly options: SttConnectOptions) {}

  sendAudio(mulaw: Uint8Array): void {
    if (!this.closed) this.bytesReceived += mulaw.length;
  }

  finalize(): void {
    this.finalizes++;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  onEvent(cb: (e: SttEvent) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  emit(e: SttEvent): void {
    if (this.closed) return;
    if (e.type === "closed") this.closed = true;
    for (const l of [...this.listeners]) l(e);
  }
}

/** Speech-to-text port whose streams the world scripts. */
export class VirtualStt implements SpeechToText {
  readonly provider = "virtual-stt";
  readonly streams: VirtualSttStream[] = [];

  constructor(
    private readonly clock: VirtualClock,
    private readonly connectMs = 40,
  ) {}

  async connect(options: SttConnectOptions): Promise<SttStream> {
    await this.clock.sleep(this.connectMs);
    const s = new VirtualSttStream(options);
    this.streams.push(s);
    return s;
  }

  /** The stream in use (the newest open one). */
  get current(): VirtualSttStream | undefined {
    const s = this.streams[this.streams.length - 1];
    return s && !s.closed ? s : undefined;
  }
}

/** How one TTS line behaves. */
export type TtsFault = "ok" | "slow" | "cut" | "fail";

/** Text-to-speech port: audio in 100 ms chunks after a first-chunk delay, faults per line in order. */
export class VirtualTts implements TextToSpeech {
  readonly provider = "virtual-tts";
  /** Characters of text whose synthesis started (live lines). */
  charsStarted = 0;
  private line = 0;

  constructor(
    private readonly clock: VirtualClock,
    readonly codes: LineCodes,
    private readonly faults: readonly TtsFault[] = [],
    private readonly firstChunkMs = 150,
  ) {}

  async openSession(): Promise<TtsSession> {
    await this.clock.sleep(30);
    const contexts = new Map<string, { cancelled: boolean; wake: () => void }>();
    return {
      speak: (contextId) => {
        const fault = this.faults[this.line++] ?? "ok";
        const state = { cancelled: false, wake: () => undefined };
        contexts.set(contextId, state);
        let text = "";
        let closed = false;
        let inputDone: () => void = () => undefined;
        const input = new Promise<void>((r) => {
          inputDone = r;
        });
        const clock = this.clock;
        const codes = this.codes;
        const firstMs = fault === "slow" ? this.firstChunkMs * 8 : this.firstChunkMs;
        const tts = this;
        async function* audio(): AsyncGenerator<Uint8Array> {
          await input;
          if (state.cancelled) return;
          tts.charsStarted += text.length;
          await clock.sleep(firstMs);
          if (fault === "fail") throw new ProviderError("virtual-tts", "synthesis failed", 503);
          const all = codes.audio(text);
          const chunk = 100 * BYTES_PER_MS;
          for (let o = 0; o < all.length; o += chunk) {
            if (state.cancelled) return;
            if (fault === "cut" && o >= all.length / 2)
              throw new ProviderError("virtual-tts", "stream cut", undefined);
            yield all.subarray(o, Math.min(all.length, o + chunk));
            await clock.sleep(20);
          }
        }
        const ctx: TtsContext = {
          contextId,
          sendText: (t) => {
            if (!closed) text += t;
          },
          flush: () => undefined,
          close: () => {
            closed = true;
            inputDone();
          },
          audio: audio(),
        };
        return ctx;
      },
      cancel: (contextId) => {
        const c = contexts.get(contextId);
        if (c) c.cancelled = true;
      },
      close: async () => undefined,
    };
  }

  async *synthesize(text: string): AsyncIterable<Uint8Array> {
    yield this.codes.audio(text);
  }
}

/** How one LLM request behaves. */
export type LlmFault = "ok" | "429" | "500" | "hang" | "slow";

/** Branch the fake model picks for a caller's words in a state, or undefined for its default. */
export type Classify = (text: string, request: DecisionRequest) => { branch: string; reply?: string };

/** Language-model port: classifies with `classify` after a delay; faults per request in order. */
export class VirtualLlm implements LanguageModel {
  readonly provider = "virtual-llm";
  requests = 0;
  aborted = 0;

  constructor(
    private readonly clock: VirtualClock,
    private readonly classify: Classify,
    private readonly faults: readonly LlmFault[] = [],
    private readonly firstTokenMs = 350,
  ) {}

  async decide(request: DecisionRequest): Promise<Decision> {
    const fault = this.faults[this.requests++] ?? "ok";
    const signal = request.signal;
    const wait = (ms: number) =>
      new Promise<void>((resolve, reject) => {
        const cancel = this.clock.after(ms, resolve);
        signal?.addEventListener(
          "abort",
          () => {
            cancel();
            this.aborted++;
            reject(new ProviderError("virtual-llm", "request aborted", undefined, { retryable: false }));
          },
          { once: true },
        );
      });
    if (signal?.aborted) throw new ProviderError("virtual-llm", "request aborted", undefined);
    if (fault === "hang") await wait(3_600_000);
    await wait(fault === "slow" ? this.firstTokenMs * 6 : this.firstTokenMs);
    if (fault === "429") throw new ProviderError("virtual-llm", "rate limited", 429);
    if (fault === "500") throw new ProviderError("virtual-llm", "server error", 500);
    const last = [...request.history].reverse().find((h) => h.role === "user")?.text ?? "";
    const picked = this.classify(last, request);
    return {
      branch: picked.branch,
      captures: {},
      ...(request.state.wantsReply && picked.reply ? { reply: picked.reply } : {}),
      firstTokenMs: this.firstTokenMs,
      model: request.model ?? "virtual",
    };
  }

  decideStream(request: DecisionRequest): DecisionStream {
    const result = this.decide(request);
    async function* replyDeltas(): AsyncGenerator<string> {
      const d = await result.catch(() => null);
      if (d?.reply) yield d.reply;
    }
    return { replyDeltas: replyDeltas(), result };
  }
}
