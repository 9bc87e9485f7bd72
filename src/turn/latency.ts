// Isolates per-turn latency accounting: marks on the turn's timeline, segment durations and p50/p95 summaries.

/** Points on a turn's timeline, each stamped once (first mark wins). */
export type TurnPoint =
  | "speechEnd"
  | "sttFinal"
  | "endpoint"
  | "llmFirstToken"
  | "fastPath"
  | "ttsFirstByte"
  | "cacheHit"
  | "firstFrameSent"
  | "firstFramePlayed";

/** One turn's timeline in milliseconds on the caller's clock (any epoch, as long as it is one clock). */
export interface TurnLatencyRecord {
  startMs: number;
  /** Local VAD decided the caller stopped speaking. */
  speechEndMs?: number;
  /** STT delivered the final transcript. */
  sttFinalMs?: number;
  /** The end of the caller's turn was decided. */
  endpointMs?: number;
  /** First LLM token arrived. */
  llmFirstTokenMs?: number;
  /** The fast-path classifier decided the turn; no LLM call. */
  fastPath?: true;
  fastPathMs?: number;
  /** First TTS audio byte arrived. */
  ttsFirstByteMs?: number;
  /** The reply was a cached utterance; no TTS call. */
  cacheHit?: true;
  cacheReadyMs?: number;
  /** First media frame of the reply sent to Twilio. */
  firstFrameSentMs?: number;
  /** Twilio echoed the mark of the first frame: the caller is hearing it. */
  firstFramePlayedMs?: number;
}

/** Mutable timer for one turn; `record()` returns a snapshot. */
export interface TurnTimer {
  /** Stamp a point; later marks of the same point are ignored (e.g. the second frame sent). */
  mark(point: TurnPoint, nowMs: number): void;
  record(): TurnLatencyRecord;
}

const FIELD: Record<Exclude<TurnPoint, "fastPath" | "cacheHit">, keyof TurnLatencyRecord> = {
  speechEnd: "speechEndMs",
  sttFinal: "sttFinalMs",
  endpoint: "endpointMs",
  llmFirstToken: "llmFirstTokenMs",
  ttsFirstByte: "ttsFirstByteMs",
  firstFrameSent: "firstFrameSentMs",
  firstFramePlayed: "firstFramePlayedMs",
};

/** Start timing a turn at `startMs` (typically the caller's speech onset or the previous turn's end). */
export function createTurnTimer(startMs: number): TurnTimer {
  const rec: TurnLatencyRecord = { startMs };
  return {
    mark(point, nowMs) {
      if (point === "fastPath") {
        if (rec.fastPathMs === undefined) Object.assign(rec, { fastPath: true, fastPathMs: nowMs });
        return;
      }
      if (point === "cacheHit") {
        if (rec.cacheReadyMs === undefined) Object.assign(rec, { cacheHit: true, cacheReadyMs: nowMs });
        return;
      }
      const field = FIELD[point];
      if (rec[field] === undefined) Object.assign(rec, { [field]: nowMs });
    },
    record() {
      return { ...rec };
    },
  };
}

/** Named segments of the critical path; they sum to `voiceToVoiceMs` when all marks are present. */
export type SegmentName = "endpointing" | "decision" | "audio" | "send";

/** Durations derived from a record; a segment is absent when a mark it needs is missing. */
export interface TurnSegments {
  /** speech end -> endpoint decision. */
  endpointing?: number;
  /** endpoint -> LLM first token or fast-path decision (0 when speculation finished earlier). */
  decision?: number;
  /** decision -> TTS first byte or cached audio ready. */
  audio?: number;
  /** audio ready -> first frame sent (our own pacing and framing). */
  send?: number;
  /** Informational, not on the summed path: speech end -> STT final. */
  sttFinal?: number;
  /** Informational: first frame sent -> its mark echoed (Twilio buffering and playout). */
  playout?: number;
  /** Caller's speech end -> first reply frame sent. */
  voiceToVoiceMs?: number;
  /** Caller's speech end -> first reply frame heard (mark echo). */
  voiceToPlayedMs?: number;
}

/**
 * Segment durations along the critical path. Each segment starts at the later of its own
 * predecessor mark and the previous segment's end, so work that finished early (a
 * speculative LLM reply ready before the endpoint) counts as 0 rather than negative, and
 * endpointing + decision + audio + send == voiceToVoiceMs.
 */
export function turnSegments(record: TurnLatencyRecord): TurnSegments {
  const origin = record.speechEndMs ?? record.startMs;
  const out: TurnSegments = {};
  const decisionAt = record.fastPath === true ? record.fastPathMs : record.llmFirstTokenMs;
  const audioAt = record.cacheHit === true ? record.cacheReadyMs : record.ttsFirstByteMs;
  const chain: [SegmentName, number | undefined][] = [
    ["endpointing", record.endpointMs],
    ["decision", decisionAt],
    ["audio", audioAt],
    ["send", record.firstFrameSentMs],
  ];
  let at: number | undefined = origin;
  for (const [name, markMs] of chain) {
    if (at === undefined || markMs === undefined) {
      at = undefined;
      continue;
    }
    const end = Math.max(at, markMs);
    out[name] = end - at;
    at = end;
  }
  if (record.sttFinalMs !== undefined) out.sttFinal = Math.max(0, record.sttFinalMs - origin);
  if (record.firstFrameSentMs !== undefined) {
    out.voiceToVoiceMs = Math.max(0, record.firstFrameSentMs - origin);
    if (record.firstFramePlayedMs !== undefined) {
      out.playout = Math.max(0, record.firstFramePlayedMs - record.firstFrameSentMs);
    }
  }
  if (record.firstFramePlayedMs !== undefined)
    out.voiceToPlayedMs = Math.max(0, record.firstFramePlayedMs - origin);
  return out;
}

/** How a turn was produced: the bench and the call summary report each kind separately. */
export type TurnKind = "fast_path_cached" | "fast_path" | "cached" | "live";

/** Classify a turn by which providers it skipped. */
export function turnKind(record: TurnLatencyRecord): TurnKind {
  if (record.fastPath === true) return record.cacheHit === true ? "fast_path_cached" : "fast_path";
  return record.cacheHit === true ? "cached" : "live";
}

/**
 * Nearest-rank percentile: the smallest value such that at least p% of the values are <= it,
 * i.e. sorted[ceil(p/100 * n) - 1]. Always one of the observed values; null for no values.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (!(p > 0 && p <= 100)) throw new RangeError("percentile p must be in (0, 100]");
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? null;
}

/** p50 / p95 of one measure. */
export interface PercentileSummary {
  count: number;
  p50: number | null;
  p95: number | null;
}

/** Per-call (or per-bench) summary of voice-to-voice latency and of each segment. */
export interface LatencySummary extends PercentileSummary {
  bySegment: Record<Exclude<keyof TurnSegments, "voiceToVoiceMs">, PercentileSummary>;
}

function summarizeValues(values: readonly number[]): PercentileSummary {
  return { count: values.length, p50: percentile(values, 50), p95: percentile(values, 95) };
}

/** Summarise turns with nearest-rank p50/p95; `count` counts turns that reached their first frame. */
export function summarize(records: readonly TurnLatencyRecord[]): LatencySummary {
  const segments = records.map(turnSegments);
  const of = (key: keyof TurnSegments): PercentileSummary =>
    summarizeValues(segments.flatMap((s) => (s[key] === undefined ? [] : [s[key]])));
  return {
    ...of("voiceToVoiceMs"),
    bySegment: {
      endpointing: of("endpointing"),
      decision: of("decision"),
      audio: of("audio"),
      send: of("send"),
      sttFinal: of("sttFinal"),
      playout: of("playout"),
      voiceToPlayedMs: of("voiceToPlayedMs"),
    },
  };
}

/**
 * Our own overhead on a turn: voice-to-voice latency minus the time spent waiting on
 * providers (endpointing, LLM, TTS as emulated or measured). Not clamped: a negative value
 * means the provider time given overlaps (e.g. speculation) and is itself a finding.
 */
export function overheadMs(record: TurnLatencyRecord, providerTimeMs: number): number | undefined {
  const total = turnSegments(record).voiceToVoiceMs;
  return total === undefined ? undefined : total - providerTimeMs;
}
