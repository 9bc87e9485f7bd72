/**
 * Load-test statistics, pure: percentiles, turn overhead, and late/dropped outbound frame detection
 * from the timestamps a simulated caller recorded for each agent message.
 */

/** Nearest-rank percentile (p in 0..100) of `values`; null when empty. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((Math.min(100, Math.max(0, p)) / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)] ?? null;
}

/** p50/p95/p99/max and count of a sample. */
export interface Distribution {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

/** Summarise a sample. */
export function distribution(values: readonly number[]): Distribution {
  return {
    count: values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: values.length === 0 ? null : Math.max(...values),
  };
}

/**
 * Our overhead on one turn: the observed turn latency (caller's last speech frame sent → agent's
 * first media frame received) minus the endpointing silence the STT must hear before it may end
 * the turn, minus the emulators' configured delays (STT final delay, LLM first token, TTS first
 * byte; all 0 under `npm run dev`).
 */
export function turnOverheadMs(latencyMs: number, endpointingMs: number, emulatorDelayMs = 0): number {
  return latencyMs - endpointingMs - emulatorDelayMs;
}

/** One agent message as the caller's side received it. */
export type AgentMessage =
  | { kind: "media"; atMs: number; bytes: number }
  | { kind: "mark"; atMs: number; name: string }
  | { kind: "clear"; atMs: number };

/** What the frame analysis found for one call. */
export interface FrameAnalysis {
  utterances: number;
  frames: number;
  /** Frames that arrived after the caller's playback buffer had been empty for more than the threshold. */
  lateFrames: number;
  /** Frames missing from marked chunks (a non-final chunk shorter than the chunk size, or a skipped mark index). */
  droppedFrames: number;
  /** Raw arrival gaps above the threshold between consecutive frames of one utterance (buffered or not). */
  rawGaps: number;
  /** Largest playback underrun seen (ms of silence the caller would hear inside an utterance). */
  worstUnderrunMs: number;
}

/** Frame analysis settings. */
export interface FrameAnalysisOptions {
  /** Milliseconds of audio per frame (160 µ-law bytes = 20 ms). */
  frameMs?: number;
  bytesPerMs?: number;
  /** A gap counts when it exceeds this (default 40 ms). */
  gapThresholdMs?: number;
  /** Frames per marked chunk the agent sends (default 5). */
  framesPerChunk?: number;
}

interface Segment {
  utteranceId: string;
  frames: { atMs: number; bytes: number }[];
  chunkIndex: number | null;
}

function splitMark(name: string): { utteranceId: string; index: number | null } {
  const at = name.lastIndexOf(":");
  if (at < 0) return { utteranceId: name, index: null };
  const index = Number(name.slice(at + 1));
  return { utteranceId: name.slice(0, at), index: Number.isInteger(index) ? index : null };
}

/**
 * Late and dropped outbound frames. The agent sends each utterance faster than real time and the
 * phone plays it from a buffer, so an arrival gap alone is not a fault. Frames are attributed to
 * the utterance of the mark that follows them (`utteranceId:chunkIndex`). Within one utterance the
 * caller's playback clock is replayed: frame i starts playing at max(arrival_i, end of frame i-1)
 * and lasts its audio length. Frame i is **late** when it arrives more than `gapThresholdMs` after
 * the previous frame finished playing — a gap the caller hears beyond what real-time pacing
 * explains. A `media` message may carry several frames (the agent sends one per marked chunk); it
 * counts as that many frames. A `clear` ends the utterance (the buffer is flushed). Frames are
 * **dropped** when a chunk followed by another chunk of the same utterance holds fewer than
 * `framesPerChunk` frames, or when mark indices skip (each skipped index counts `framesPerChunk`).
 */
export function analyzeAgentFrames(
  messages: readonly AgentMessage[],
  options: FrameAnalysisOptions = {},
): FrameAnalysis {
  const bytesPerMs = options.bytesPerMs ?? 8;
  const threshold = options.gapThresholdMs ?? 40;
  const perChunk = options.framesPerChunk ?? 5;
  const frameBytes = (options.frameMs ?? 20) * bytesPerMs;
  const framesIn = (bytes: number) => Math.max(1, Math.round(bytes / frameBytes));
  const out: FrameAnalysis = {
    utterances: 0,
    frames: 0,
    lateFrames: 0,
    droppedFrames: 0,
    rawGaps: 0,
    worstUnderrunMs: 0,
  };
  let pending: { atMs: number; bytes: number }[] = [];
  let current: Segment | null = null;
  let lastChunkFrames = 0;
  const finish = () => {
    if (current === null) return;
    out.utterances++;
    let playEnd: number | null = null;
    let prevAt: number | null = null;
    for (const f of current.frames) {
      out.frames += framesIn(f.bytes);
      if (prevAt !== null && f.atMs - prevAt > threshold) out.rawGaps++;
      if (playEnd !== null) {
        const underrun = f.atMs - playEnd;
        if (underrun > threshold) out.lateFrames++;
        out.worstUnderrunMs = Math.max(out.worstUnderrunMs, underrun);
      }
      playEnd = Math.max(playEnd ?? f.atMs, f.atMs) + f.bytes / bytesPerMs;
      prevAt = f.atMs;
    }
    current = null;
  };
  for (const m of messages) {
    if (m.kind === "media") {
      pending.push({ atMs: m.atMs, bytes: m.bytes });
    } else if (m.kind === "clear") {
      finish();
      pending = [];
    } else {
      const { utteranceId, index } = splitMark(m.name);
      if (current !== null && current.utteranceId !== utteranceId) finish();
      const seg: Segment = current ?? { utteranceId, frames: [], chunkIndex: null };
      if (seg.chunkIndex !== null && index !== null) {
        // The previous chunk was not the utterance's last, so it should have been full.
        out.droppedFrames += Math.max(0, perChunk - lastChunkFrames);
        out.droppedFrames += Math.max(0, index - seg.chunkIndex - 1) * perChunk;
      }
      seg.frames.push(...pending);
      lastChunkFrames = pending.reduce((n, f) => n + framesIn(f.bytes), 0);
      pending = [];
      seg.chunkIndex = index;
      current = seg;
    }
  }
  finish();
  return out;
}

/** A final transcript as the STT emulator reports it (wall-clock time it left). */
export interface FinalSent {
  sentAtMs: number;
  speechFinal: boolean;
}

/** When the final that ended a turn left the STT provider, and when the phone got the reply's first audio. */
export interface TurnTimes {
  finalSentAtMs: number;
  agentReplyAtMs: number;
}

/**
 * Per turn, the STT final that ended the caller's turn — the last `speech_final` sent between the
 * caller's last speech frame and the agent's first audio — with that audio's arrival. Null when the
 * turn had no reply or no such final.
 */
export function turnTimes(
  turns: readonly { speechEndAtMs: number | null; agentReplyAtMs: number | null }[],
  finals: readonly FinalSent[],
): (TurnTimes | null)[] {
  return turns.map((t) => {
    const { speechEndAtMs: end, agentReplyAtMs: reply } = t;
    if (end === null || reply === null) return null;
    let last: number | null = null;
    for (const f of finals) if (f.speechFinal && f.sentAtMs >= end && f.sentAtMs <= reply) last = f.sentAtMs;
    return last === null ? null : { finalSentAtMs: last, agentReplyAtMs: reply };
  });
}
