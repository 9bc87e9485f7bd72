/**
 * Provider time inside a turn, from the Worker's own `turn.latency` record: the part of the
 * caller-heard latency spent waiting on the LLM and TTS providers (emulated here). Subtracting it
 * leaves our overhead: transport, queueing, decisions, cache reads and sending.
 */
import type { TurnLatencyRecord } from "../turn/latency";

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

/**
 * Per scripted turn, the provider time of the Worker's matching record, or null when the Worker's
 * turns do not line up one-to-one with the script's (the turn is then reported without subtraction).
 */
export function providerMsByTurn(
  payloads: readonly TurnLatencyPayload[],
  scriptedTurns: number,
): (number | null)[] {
  const sorted = [...payloads].sort((a, b) => a.turn - b.turn);
  const aligned = sorted.length === scriptedTurns && sorted.every((p, i) => p.turn === i + 1);
  return Array.from({ length: scriptedTurns }, (_, i) => {
    const p = sorted[i];
    return aligned && p ? providerMs(p.record) : null;
  });
}
