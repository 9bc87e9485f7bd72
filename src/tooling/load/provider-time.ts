/**
 * Provider time inside a turn, from the Worker's own `turn.latency` record: the part of the
 * caller-heard latency spent waiting on the LLM and TTS providers (emulated here). Subtracting it
 * leaves our overhead: transport, queueing, decisions, cache reads and sending.
 */
import type { TurnLatencyRecord } from "../../turn/latency";

/** Milliseconds the turn waited on the LLM and the TTS provider (0 for a fast-path, cached turn). */
export function providerMs(r: TurnLatencyRecord): number {
  const endpoint = r.endpointMs;
  if (endpoint === undefined) return 0;
  if (r.cacheHit === true) {
    // Only the LLM decision waited on a provider; the cache read is ours.
    return r.fastPath !== true && r.llmFirstTokenMs !== undefined
      ? Math.max(0, r.llmFirstTokenMs - endpoint)
      : 0;
  }
  if (r.ttsFirstByteMs === undefined) return 0;
  // From the end of the turn to the first TTS audio: LLM (streamed into TTS phrase by phrase) and TTS,
  // less the fast-path classifier's own time when it decided.
  const ours = r.fastPath === true && r.fastPathMs !== undefined ? Math.max(0, r.fastPathMs - endpoint) : 0;
  return Math.max(0, r.ttsFirstByteMs - endpoint - ours);
}

/** A `turn.latency` audit payload as the Worker writes it (only the fields used here). */
export interface TurnLatencyPayload {
  turn: number;
  record: TurnLatencyRecord;
}

/** Per scripted turn, the Worker's record for it, or null for every turn when they do not line up one-to-one. */
export function recordsByTurn(
  payloads: readonly TurnLatencyPayload[],
  scriptedTurns: number,
): (TurnLatencyRecord | null)[] {
  const sorted = [...payloads].sort((a, b) => a.turn - b.turn);
  const aligned = sorted.length === scriptedTurns && sorted.every((p, i) => p.turn === i + 1);
  return Array.from({ length: scriptedTurns }, (_, i) => (aligned ? (sorted[i]?.record ?? null) : null));
}

/** Where our overhead went in one turn (all on this machine's clock). */
export interface OverheadHops {
  /** STT final sent → the Worker handled it. */
  toWorkerMs: number;
  /** Inside the Worker: final handled → first frame sent, less provider time. */
  inWorkerMs: number;
  /** First frame sent → the phone received it. */
  toPhoneMs: number;
}

/** Splits one turn's overhead at the Worker's own timestamps; null when a timestamp is missing. */
export function overheadHops(
  r: TurnLatencyRecord,
  times: { finalSentAtMs: number; agentReplyAtMs: number },
): OverheadHops | null {
  if (r.sttFinalMs === undefined || r.firstFrameSentMs === undefined) return null;
  return {
    toWorkerMs: r.sttFinalMs - times.finalSentAtMs,
    inWorkerMs: r.firstFrameSentMs - r.sttFinalMs - providerMs(r),
    toPhoneMs: times.agentReplyAtMs - r.firstFrameSentMs,
  };
}
