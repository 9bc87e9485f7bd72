/**
 * The call recording, isolated from I/O: two µ-law tracks (caller left, agent right) on one timeline in
 * ms since the call started, emitted as finished interleaved stereo parts so memory stays bounded.
 *
 * Placement: a caller frame goes where its Twilio media timestamp says. An agent frame plays at
 * max(end of the previous agent frame, the time it was sent) — a playhead — and a `clear` at time T
 * drops the agent audio after T (what was cut was never heard). Gaps are µ-law silence (0xFF).
 *
 * Consent rule (who decides to build a Recorder is the shell; `recordingAllowed` states it): a call is
 * recorded only when its flow discloses recording up front — the initial state carries
 * `audit: "recording_notice"` — and only until the caller objects: an opt-out `stop(atMs)` ends the
 * recording at that moment and nothing after it is kept.
 *
 * Pure: no clock reads; every time is passed in.
 */
import { MULAW_SILENCE, SAMPLE_RATE } from "../audio/mulaw";
import type { Flow } from "../flow/schema";

const SAMPLES_PER_MS = SAMPLE_RATE / 1000;

/** What the call engine feeds (all times are epoch ms from the engine's clock, except caller media timestamps). */
export interface RecordingSink {
  /** A caller frame at its Twilio media timestamp (ms since the stream started). */
  caller(frame: Uint8Array, mediaTimestampMs: number): void;
  /** An agent frame sent to Twilio at `sentAtMs` (epoch). */
  agent(frame: Uint8Array, sentAtMs: number): void;
  /** `clear` was sent at `atMs` (epoch): agent audio not yet played by then is dropped. */
  cut(atMs: number): void;
  /** The caller objected at `atMs` (epoch): nothing from then on is recorded. */
  stop(atMs: number): void;
}

export interface RecorderOptions {
  /** Epoch ms of the call's start (Twilio media timestamp 0). */
  originMs: number;
  /** Receives each finished part of interleaved stereo µ-law (caller, agent). */
  onPart?: (data: Uint8Array) => void;
  /** Size of an emitted part, bytes (even). Default 1 MiB. */
  partBytes?: number;
  /** Audio newer than this behind the newest known time stays editable (late frames, cuts). Default 2 s. */
  settleMs?: number;
  /** The caller track may run at most this far ahead of the agent clock before it is flushed anyway. Default 60 s. */
  maxPendingMs?: number;
  /**
   * Stereo frames already emitted by an earlier recorder of the same call (a Durable Object resumed
   * after eviction): this one continues the timeline from there, and its totals include them.
   */
  startFrames?: number;
}

/** Totals of a finished recording. */
export interface RecordingTotals {
  /** Stereo sample frames (one caller + one agent sample each). */
  frames: number;
  durationMs: number;
  /** Bytes of interleaved data (2 per frame), header excluded. */
  bytes: number;
}

/** The recording consent rule's first half: the flow discloses recording in its opening state. */
export function recordingAllowed(flow: Flow): boolean {
  return flow.states[flow.initial]?.audit === "recording_notice";
}

/** A growable µ-law track starting at absolute sample `base`, silence where nothing was written. */
class Track {
  buf = new Uint8Array(0);
  /** Absolute sample index one past the last written sample. */
  end = 0;

  constructor(public base: number) {}

  write(at: number, frame: Uint8Array): void {
    let from = 0;
    let pos = at;
    if (pos < this.base) {
      from = this.base - pos;
      pos = this.base;
    }
    if (from >= frame.length) return;
    const need = pos - this.base + frame.length - from;
    if (need > this.buf.length) {
      const grown = new Uint8Array(Math.max(need, this.buf.length * 2, 8_000)).fill(MULAW_SILENCE);
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf.set(frame.subarray(from), pos - this.base);
    this.end = Math.max(this.end, pos + frame.length - from);
  }

  /** Silence from absolute sample `at` on, and end the track there. */
  truncate(at: number): void {
    const from = Math.max(at, this.base);
    if (from < this.end) this.buf.fill(MULAW_SILENCE, from - this.base, this.end - this.base);
    this.end = Math.min(this.end, Math.max(at, this.base));
  }

  sample(at: number): number {
    return this.buf[at - this.base] ?? MULAW_SILENCE;
  }

  /** Forget everything before absolute sample `to`. */
  drop(to: number): void {
    const n = to - this.base;
    if (n <= 0) return;
    if (n >= this.buf.length) this.buf = new Uint8Array(0);
    else {
      this.buf.copyWithin(0, n);
      this.buf.fill(MULAW_SILENCE, this.buf.length - n);
    }
    this.base = to;
    this.end = Math.max(this.end, to);
  }
}

/** Two-track call recorder with bounded memory. */
export class Recorder implements RecordingSink {
  private readonly callerTrack = new Track(0);
  private readonly agentTrack = new Track(0);
  /** Absolute sample where the agent's next frame would start playing. */
  private playhead = 0;
  /** Newest agent-side clock seen, in samples since the origin. */
  private clock = 0;
  /** Samples already emitted (both tracks are final before this). */
  private flushed = 0;
  private stoppedAt: number | null = null;
  private readonly partBytes: number;
  private readonly settle: number;
  private readonly maxPending: number;
  private part: Uint8Array;
  private partLen = 0;
  private emittedBytes = 0;
  private finished = false;

  constructor(private readonly opts: RecorderOptions) {
    this.partBytes = Math.max(2, (opts.partBytes ?? 1 << 20) & ~1);
    this.settle = (opts.settleMs ?? 2_000) * SAMPLES_PER_MS;
    this.maxPending = (opts.maxPendingMs ?? 60_000) * SAMPLES_PER_MS;
    this.part = new Uint8Array(this.partBytes);
    const start = Math.max(0, Math.floor(opts.startFrames ?? 0));
    if (start > 0) {
      this.callerTrack.drop(start);
      this.agentTrack.drop(start);
      this.flushed = this.playhead = this.clock = start;
      this.emittedBytes = start * 2;
    }
  }

  /**
   * The agent side's clock read `nowMs` (epoch) with nothing more sent: audio older than the settle
   * margin can no longer change, so it may be emitted now rather than held in memory. A shell that
   * must not lose audio to an eviction calls this often (every caller frame).
   */
  tick(nowMs: number): void {
    if (this.finished) return;
    this.clock = Math.max(this.clock, this.samplesSinceOrigin(nowMs));
    this.advance();
  }

  /** Whether the caller's objection ended the recording. */
  get stopped(): boolean {
    return this.stoppedAt !== null;
  }

  caller(frame: Uint8Array, mediaTimestampMs: number): void {
    if (this.finished || !Number.isFinite(mediaTimestampMs)) return;
    const at = Math.max(0, Math.round(mediaTimestampMs * SAMPLES_PER_MS));
    if (this.stoppedAt !== null && at >= this.stoppedAt) return;
    const limit = this.stoppedAt === null ? frame : frame.subarray(0, this.stoppedAt - at);
    this.callerTrack.write(at, limit);
    this.advance();
  }

  agent(frame: Uint8Array, sentAtMs: number): void {
    if (this.finished || this.stoppedAt !== null) return;
    const sent = this.samplesSinceOrigin(sentAtMs);
    this.clock = Math.max(this.clock, sent);
    const at = Math.max(this.playhead, sent, this.flushed);
    this.agentTrack.write(at, frame);
    this.playhead = at + frame.length;
    this.advance();
  }

  cut(atMs: number): void {
    if (this.finished || this.stoppedAt !== null) return;
    const at = this.samplesSinceOrigin(atMs);
    this.clock = Math.max(this.clock, at);
    this.agentTrack.truncate(at);
    this.playhead = Math.min(this.playhead, Math.max(at, this.flushed));
    this.advance();
  }

  stop(atMs: number): void {
    if (this.finished || this.stoppedAt !== null) return;
    const at = Math.max(this.samplesSinceOrigin(atMs), this.flushed);
    this.agentTrack.truncate(at);
    this.callerTrack.truncate(at);
    this.playhead = at;
    this.stoppedAt = at;
  }

  /**
   * End the recording: emits every remaining sample (through `onPart` only if a part fills) and returns
   * the unemitted tail plus the totals. Later input is ignored.
   */
  finish(): { last: Uint8Array; totals: RecordingTotals } {
    if (!this.finished) {
      this.finished = true;
      this.emitUntil(Math.max(this.callerTrack.end, this.agentTrack.end, this.flushed));
    }
    const last = this.part.slice(0, this.partLen);
    this.emittedBytes += this.partLen;
    this.partLen = 0;
    const frames = this.emittedBytes / 2;
    return { last, totals: { frames, bytes: this.emittedBytes, durationMs: frames / SAMPLES_PER_MS } };
  }

  private samplesSinceOrigin(epochMs: number): number {
    return Math.max(0, Math.round((epochMs - this.opts.originMs) * SAMPLES_PER_MS));
  }

  /** Emit what can no longer change: behind both clocks by the settle margin, or forced by the memory cap. */
  private advance(): void {
    const settled = Math.min(this.callerTrack.end, this.clock) - this.settle;
    const forced = Math.max(this.callerTrack.end, this.clock) - this.maxPending;
    const horizon = Math.min(Math.max(settled, forced), this.stoppedAt ?? Number.POSITIVE_INFINITY);
    if (horizon - this.flushed >= this.partBytes / 2) this.emitUntil(horizon);
  }

  private emitUntil(to: number): void {
    for (let s = this.flushed; s < to; s++) {
      this.part[this.partLen++] = this.callerTrack.sample(s);
      this.part[this.partLen++] = this.agentTrack.sample(s);
      if (this.partLen === this.partBytes) {
        const done = this.part;
        this.part = new Uint8Array(this.partBytes);
        this.partLen = 0;
        this.emittedBytes += done.length;
        this.opts.onPart?.(done);
      }
    }
    this.flushed = Math.max(this.flushed, to);
    this.callerTrack.drop(this.flushed);
    this.agentTrack.drop(this.flushed);
    this.playhead = Math.max(this.playhead, this.flushed);
  }
}
