/**
 * The caller's side: each inbound 20 ms µ-law frame goes to the local VAD (speech timing, barge-in)
 * and to the STT stream; STT finals are assembled into one caller turn, ended by `speech_final` or
 * `UtteranceEnd`, whichever comes first.
 */
import {
  type BargeInDecision,
  createBargeInDetector,
  createVad,
  FRAME_MS,
  type FrameClassifier,
  type VadConfig,
  type VadEvent,
} from "../audio";
import type { SttEvent, SttStream } from "../providers/ports";

/** A finished caller turn. */
export interface CallerTurn {
  text: string;
  confidence: number;
  /** Engine-clock time when the STT final that ended the turn arrived. */
  sttFinalAtMs: number;
  /** Engine-clock time of the end-of-turn decision. */
  endpointAtMs: number;
  /** Engine-clock time the local VAD heard the caller stop, if it did. */
  speechEndAtMs: number | null;
}

export interface ListenerHooks {
  agentSpeaking(): boolean;
  onBargeIn(decision: BargeInDecision): void;
  onTurn(turn: CallerTurn): void;
  onInterim(text: string): void;
  onSttError(message: string): void;
  /** The STT stream closed while attached (provider hang-up, network). */
  onSttClosed(): void;
  /** STT ended an utterance that had no words (noise, a cough, words too unsure to finalise). */
  onNoWords?(): void;
  nowMs(): number;
}

/**
 * Silence after which words finalised by an STT stream that then closed are taken as the whole turn
 * (past the VAD's max pause, so a caller mid-sentence is not cut into two turns).
 */
export const ORPHAN_END_SILENCE_MS = 700;

export class Listener {
  private vad;
  private bargeIn;
  private configKey: string;
  private stt: SttStream | null = null;
  private finals: string[] = [];
  private confidence = 1;
  private lastSpeechEndAtMs: number | null = null;
  private lastFinalAtMs = 0;
  private interimPending = false;
  /** Silence heard since the STT stream holding final words closed (null: no such words). */
  private orphanSilenceMs: number | null = null;
  /** Engine clock minus media clock, learned from frames: maps media timestamps to wall time. */
  private clockOffsetMs: number | null = null;

  constructor(
    config: VadConfig,
    private readonly hooks: ListenerHooks,
    private readonly classifier?: FrameClassifier,
  ) {
    this.vad = createVad(config.vad, classifier ? { classifier } : {});
    this.bargeIn = createBargeInDetector(config.vad);
    this.configKey = JSON.stringify(config.vad);
  }

  /**
   * Apply a state's VAD settings (min speech, max pause, noise gate, barge-in). Rebuilt only when they
   * change, and only between speech runs, so a turn in progress is never cut by a reconfiguration.
   */
  reconfigure(config: VadConfig): void {
    const key = JSON.stringify(config.vad);
    if (key === this.configKey || this.speaking) return;
    this.configKey = key;
    // The frame classifier (WASM) is the call's, shared by every VAD the call builds: only the
    // listener's own dispose frees it. Freeing it here left the new VAD throwing on every frame.
    if (!this.classifier) this.vad.dispose();
    this.vad = createVad(config.vad, this.classifier ? { classifier: this.classifier } : {});
    this.bargeIn = createBargeInDetector(config.vad);
  }

  /** Attach (or replace, after a reconnect or fallback) the STT stream. */
  attach(stt: SttStream): void {
    this.stt = stt;
    stt.onEvent((e) => {
      if (this.stt === stt || e.type !== "closed") this.onStt(e);
    });
  }

  get speaking(): boolean {
    return this.vad.snapshot().speaking;
  }

  /** The caller is talking or STT holds words of a turn that has not ended yet. */
  get turnInProgress(): boolean {
    return this.speaking || this.finals.length > 0 || this.interimPending;
  }

  /** One inbound frame. Returns the VAD events it produced. */
  pushFrame(frame: Uint8Array, mediaTimestampMs: number): VadEvent[] {
    const now = this.hooks.nowMs();
    if (this.clockOffsetMs === null) this.clockOffsetMs = now - mediaTimestampMs;
    this.stt?.sendAudio(frame);
    const events = this.vad.push(frame, mediaTimestampMs);
    for (const e of events) {
      if (e.type === "speech_end") this.lastSpeechEndAtMs = e.lastSpeechMs + this.clockOffsetMs;
      if (e.type === "speech_start") this.lastSpeechEndAtMs = null;
    }
    if (this.orphanSilenceMs !== null) {
      this.orphanSilenceMs = this.speaking ? 0 : this.orphanSilenceMs + FRAME_MS;
      if (this.orphanSilenceMs >= ORPHAN_END_SILENCE_MS) this.endTurn(now);
    }
    const decision = this.bargeIn.update(
      this.vad.snapshot(),
      mediaTimestampMs + FRAME_MS,
      this.hooks.agentSpeaking(),
    );
    if (decision) {
      this.stt?.finalize();
      this.hooks.onBargeIn(decision);
    }
    return events;
  }

  private onStt(e: SttEvent): void {
    const now = this.hooks.nowMs();
    switch (e.type) {
      case "interim":
        if (e.text.trim()) {
          this.interimPending = true;
          this.hooks.onInterim(e.text);
        }
        return;
      case "final":
        if (e.text.trim()) {
          this.finals.push(e.text.trim());
          this.confidence = Math.min(this.confidence, e.confidence);
          this.lastFinalAtMs = now;
        }
        if (e.speechFinal) this.endTurn(now);
        return;
      case "utterance_end":
        this.endTurn(now);
        return;
      case "error":
        this.hooks.onSttError(e.error.message);
        return;
      case "closed":
        if (this.stt !== null) {
          this.stt = null;
          // The stream that would have ended the utterance is gone: its final words wait for the caller
          // to fall silent (or join the next stream's words, whose end then ends the turn).
          if (this.finals.length > 0) this.orphanSilenceMs = 0;
          this.hooks.onSttClosed();
        }
        return;
      default:
        return;
    }
  }

  private endTurn(now: number): void {
    this.interimPending = false;
    this.orphanSilenceMs = null;
    if (this.finals.length === 0) {
      this.hooks.onNoWords?.();
      return;
    }
    const turn: CallerTurn = {
      text: this.finals.join(" "),
      confidence: this.confidence,
      sttFinalAtMs: this.lastFinalAtMs,
      endpointAtMs: now,
      speechEndAtMs: this.lastSpeechEndAtMs ?? this.lastVoicedAtMs(),
    };
    this.finals = [];
    this.confidence = 1;
    this.hooks.onTurn(turn);
  }

  /** When STT ends the turn before the local VAD's pause timer does: the end of the last voiced frame. */
  private lastVoicedAtMs(): number | null {
    const last = this.vad.snapshot().lastSpeechMs;
    return last === null || this.clockOffsetMs === null ? null : last + this.clockOffsetMs;
  }

  /** Close the STT stream (flushes finals at the provider) and free the VAD. */
  async dispose(): Promise<void> {
    this.vad.dispose();
    const stt = this.stt;
    this.stt = null;
    if (stt) await stt.close().catch(() => undefined);
  }
}
