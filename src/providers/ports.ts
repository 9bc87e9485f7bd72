/** Ports for the three voice providers (speech-to-text, text-to-speech, LLM): the only shapes the turn pipeline sees. */
import type { ProviderError } from "../lib/errors";

/** Endpointing settings taken from the call's VAD config. */
export interface EndpointingConfig {
  /** Silence after speech before the provider marks `speechFinal` (Deepgram `endpointing`). */
  silenceMs: number;
  /** Word-timing gap after the last word before an `utterance_end` (Deepgram `utterance_end_ms`). */
  utteranceEndMs: number;
}

/** Options for one STT stream (one per call). */
export interface SttConnectOptions {
  language: string;
  model?: string;
  endpointing: EndpointingConfig;
  /** Free-form tag the provider attaches to usage (the emulator matches scripts by it). */
  tag?: string;
  signal?: AbortSignal;
}

/** Events a live STT stream emits. Times are milliseconds from stream start. */
export type SttEvent =
  | { type: "interim"; text: string; startMs: number; endMs: number }
  | {
      type: "final";
      text: string;
      confidence: number;
      speechFinal: boolean;
      fromFinalize: boolean;
      startMs: number;
      endMs: number;
    }
  | { type: "speech_started"; atMs: number }
  | { type: "utterance_end"; lastWordEndMs: number }
  | { type: "error"; error: ProviderError }
  | { type: "closed" };

/** A live transcription stream of 8 kHz µ-law audio. KeepAlive is sent automatically while idle. */
export interface SttStream {
  /** Send raw µ-law bytes (any frame size). Dropped silently after close. */
  sendAudio(mulaw: Uint8Array): void;
  /** Ask the provider to flush a final for the audio so far (e.g. on barge-in). */
  finalize(): void;
  /** Flush finals and close; resolves once the provider closed (or after a short grace period). */
  close(): Promise<void>;
  /** Subscribe to events; returns an unsubscribe function. */
  onEvent(cb: (event: SttEvent) => void): () => void;
}

/** Speech-to-text port. */
export interface SpeechToText {
  readonly provider: string;
  connect(options: SttConnectOptions): Promise<SttStream>;
}

/** One reply being spoken on a TTS session. */
export interface TtsContext {
  readonly contextId: string;
  /** Append text (phrase chunks as the LLM streams them). */
  sendText(text: string): void;
  /** Generate audio for everything buffered so far. */
  flush(): void;
  /** End of input: flush and let the audio stream end once the provider finished this context. */
  close(): void;
  /** µ-law 8 kHz bytes as they arrive; ends after the provider's final message; throws ProviderError on failure. */
  readonly audio: AsyncIterable<Uint8Array>;
  /** True when a fallback voice spoke this line (its audio must not be cached under the main voice). */
  readonly usedFallback?: () => boolean;
}

/** One multi-context socket per call. */
export interface TtsSession {
  speak(contextId: string, signal?: AbortSignal): TtsContext;
  /** Barge-in: close the context at the provider, end its audio stream now, drop late frames for it. */
  cancel(contextId: string): void;
  close(): Promise<void>;
}

/** Text-to-speech port. */
export interface TextToSpeech {
  readonly provider: string;
  openSession(signal?: AbortSignal): Promise<TtsSession>;
  /** One-shot HTTP streaming synthesis (used to render cached utterances). */
  synthesize(text: string, signal?: AbortSignal): AsyncIterable<Uint8Array>;
}

/** A branch or capture of a flow state as the LLM sees it. */
export type NamedSpec = string | { name: string; description?: string };

/** What the LLM needs to know about the current flow state. */
export interface DecisionState {
  id: string;
  prompt: string;
  branches: readonly NamedSpec[];
  captures: readonly NamedSpec[];
  wantsReply: boolean;
}

/** One line of conversation history (only what the caller actually heard, for the assistant). */
export interface HistoryEntry {
  role: "user" | "assistant";
  text: string;
}

/**
 * A decision that did not succeed at the first attempt and was asked again: a `retry` of the same
 * model or the `fallback_model`. Provider facts only (model names, status, error code, timings): no
 * words of the call, so it can go to logs and the audit trail as it is.
 */
export interface LlmRecoveryStep {
  type: "retry" | "fallback_model";
  /** 1-based number of the attempt that failed. */
  attempt: number;
  fromModel: string;
  toModel: string;
  /** What failed: `transient` (429, 5xx, network), `timeout`, `model` (refused or unusable). */
  failure: "transient" | "timeout" | "model";
  status?: number;
  code?: string;
  /** Wait before the next attempt (the provider's Retry-After, or a short pause). */
  waitMs: number;
  /** Time spent on this decision when the failed attempt ended. */
  elapsedMs: number;
}

/** One LLM decision request. */
export interface DecisionRequest {
  model?: string;
  /** Per-call system text (persona, business facts); placed after the fixed prefix. */
  system: string;
  history: readonly HistoryEntry[];
  state: DecisionState;
  signal?: AbortSignal;
  /** Told about each retry or fallback-model attempt (the engine audits them); adapters ignore it. */
  onRecovery?: (step: LlmRecoveryStep) => void;
  /**
   * Called by the adapter once the provider started answering (response headers arrived): the
   * request is alive, however slowly it streams. The retry policy cuts only requests that never start.
   */
  onStarted?: () => void;
}

/** The LLM's classification of one caller turn. */
export interface Decision {
  branch: string;
  captures: Record<string, string>;
  reply?: string;
  /** Time from request start to first streamed token. */
  firstTokenMs: number;
  model: string;
}

/** A streamed decision: reply text deltas as they arrive, and the full decision at the end. */
export interface DecisionStream {
  replyDeltas: AsyncIterable<string>;
  result: Promise<Decision>;
}

/** LLM port. */
export interface LanguageModel {
  readonly provider: string;
  decide(request: DecisionRequest): Promise<Decision>;
  decideStream(request: DecisionRequest): DecisionStream;
}
