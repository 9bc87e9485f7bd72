/** What the call engine needs from its shell (the Durable Object): sockets, timers, storage and outside services. */

import type { FlowSnapshot } from "../flow/types";
import type { ActionResult } from "../integrations/actions";
import type { Logger } from "../lib/log";
import type { LanguageModel, SpeechToText, TextToSpeech } from "../providers/ports";
import type { CallEventInput } from "../store/outbox";
import type { OutboundFrame } from "./twilio-frames";

/** Pre-rendered µ-law lines (R2 behind it), keyed by the exact text spoken. */
export interface UtteranceCache {
  get(text: string): Promise<Uint8Array | null>;
  /** Store a line rendered live so the next call hits the cache (off the hot path). */
  backfill(text: string, audio: Uint8Array): void;
}

/**
 * The engine's only way to wait: named one-shot timers (setting a name again replaces it) and unnamed
 * deadlines. Nothing in the engine calls `setTimeout` itself, so a call can run on a virtual clock.
 */
export interface Timers {
  set(name: string, delayMs: number, fn: () => void): void;
  clear(name: string): void;
  /** Clears the named timers (the call ended); unnamed deadlines are cancelled by their owners. */
  clearAll(): void;
  /** An unnamed one-shot timer (a request deadline, a short wait); returns its cancel function. */
  after(delayMs: number, fn: () => void): () => void;
}

/** Durable call state written on every transition: snapshot plus audit events, in one transaction. */
export interface CallRecord {
  callSid: string;
  snapshot: FlowSnapshot;
  meta: CallMeta;
  progress: CallProgress;
}

/** What the engine counts beyond the flow snapshot (mirrored to the live call state). */
export interface CallProgress {
  turns: number;
  consentGiven: boolean;
  transferAttempted: boolean;
  /** Agent lines started so far (line ids are numbered from it, across instances). */
  lines?: number;
  /**
   * The flow's last word (hang up or transfer), stored before the closing line plays and marked done once
   * Twilio took it: an instance evicted in between finishes the call instead of leaving the line open.
   */
  control?: { action: "hangup" | "transfer"; reason: string; target?: string; done: boolean };
}

/** Facts about the call that do not change once it started. */
export interface CallMeta {
  callSid: string;
  streamSid: string;
  flowId: string;
  direction: string;
  from: string;
  to: string;
  campaign: string | null;
  startedAtMs: number;
}

/** Everything the engine touches outside itself. */
export interface CallIO {
  send(frame: OutboundFrame): void;
  /** Close the media socket (Twilio then runs the TwiML after `</Connect>` or hangs up). */
  closeMedia(code: number, reason: string): void;
  persist(record: CallRecord, events: CallEventInput[]): void;
  runAction(name: string, params: Record<string, string>, signal: AbortSignal): Promise<ActionResult>;
  hangup(): Promise<void>;
  transfer(target: string | undefined): Promise<void>;
  stt: SpeechToText;
  tts: TextToSpeech;
  llm: LanguageModel;
  cache: UtteranceCache;
  timers: Timers;
  nowMs(): number;
  log: Logger;
}
