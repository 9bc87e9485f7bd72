/**
 * Times each caller turn from the caller's last word to the agent's first audio heard, on the
 * engine's clock, and hands the finished record to the audit trail as a `turn.latency` event.
 */
import {
  createTurnTimer,
  summarize,
  type TurnLatencyRecord,
  type TurnTimer,
  turnKind,
  turnSegments,
} from "../turn/latency";
import type { CallerTurn } from "./listener";
import type { SpeakTiming } from "./speaker";

export class TurnClock {
  private timer: TurnTimer | null = null;
  private turnNo = 0;
  private replyId: string | null = null;
  private endpointAtMs = 0;
  private readonly finished: TurnLatencyRecord[] = [];

  constructor(private readonly emit: (payload: Record<string, unknown>) => void) {}

  /** A caller turn ended; any unfinished previous record is emitted as it stands. */
  begin(turn: CallerTurn): void {
    this.complete();
    this.turnNo++;
    const start = turn.speechEndAtMs ?? turn.sttFinalAtMs;
    this.timer = createTurnTimer(start);
    if (turn.speechEndAtMs !== null) this.timer.mark("speechEnd", turn.speechEndAtMs);
    this.timer.mark("sttFinal", turn.sttFinalAtMs);
    this.timer.mark("endpoint", turn.endpointAtMs);
    this.endpointAtMs = turn.endpointAtMs;
  }

  /** The turn was decided by the fast path or by the LLM (`firstTokenMs` after the request). */
  decided(by: "fast_path" | "llm", nowMs: number, firstTokenMs?: number): void {
    if (!this.timer) return;
    if (by === "fast_path") this.timer.mark("fastPath", nowMs);
    else
      this.timer.mark("llmFirstToken", firstTokenMs === undefined ? nowMs : this.endpointAtMs + firstTokenMs);
  }

  /** The first line queued after the decision is the reply being timed. */
  queued(utteranceId: string): void {
    if (this.timer && this.replyId === null) this.replyId = utteranceId;
  }

  /** The reply's audio was produced and sent. */
  spoke(utteranceId: string, timing: SpeakTiming): void {
    if (!this.timer || utteranceId !== this.replyId) return;
    if (timing.firstByteAtMs !== null)
      this.timer.mark(timing.source === "cache" ? "cacheHit" : "ttsFirstByte", timing.firstByteAtMs);
    if (timing.firstFrameSentAtMs !== null) this.timer.mark("firstFrameSent", timing.firstFrameSentAtMs);
  }

  /** Twilio echoed a mark: the first one of the reply means the caller is hearing it. */
  played(markName: string, nowMs: number): void {
    if (!this.timer || this.replyId === null || !markName.startsWith(`${this.replyId}:`)) return;
    this.timer.mark("firstFramePlayed", nowMs);
    this.complete();
  }

  /** The call's voice-to-voice p50/p95 (and per segment) over the turns timed so far. */
  summary(): Record<string, unknown> {
    this.complete();
    const s = summarize(this.finished);
    return { turns: s.count, p50Ms: s.p50, p95Ms: s.p95, bySegment: s.bySegment };
  }

  private complete(): void {
    const timer = this.timer;
    if (!timer) return;
    this.timer = null;
    this.replyId = null;
    const record = timer.record();
    this.finished.push(record);
    const seg = turnSegments(record);
    const kind = turnKind(record);
    const round = (v: number | undefined) => (v === undefined ? undefined : Math.max(0, Math.round(v)));
    this.emit({
      turn: this.turnNo,
      path: kind,
      kind,
      // Column names of the `turns` projection.
      endpointingMs: round(seg.endpointing),
      llmFirstTokenMs: record.fastPath ? undefined : round(seg.decision),
      ttsFirstAudioMs: round(seg.audio),
      overheadMs: round(seg.send),
      totalMs: round(seg.voiceToVoiceMs),
      record,
      segments: seg,
    });
  }
}
