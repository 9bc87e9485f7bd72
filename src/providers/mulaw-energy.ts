/** An adaptive energy speech segmenter over µ-law frames (used by the REST STT fallback and the STT emulator). */

import { decodeMulawSample } from "../audio/mulaw";

/** Root-mean-square level of a µ-law frame in linear units. */
export function mulawRms(frame: Uint8Array): number {
  if (frame.length === 0) return 0;
  let sum = 0;
  for (const b of frame) {
    const v = decodeMulawSample(b);
    sum += v * v;
  }
  return Math.sqrt(sum / frame.length);
}

/** Samples per millisecond at 8 kHz. */
export const SAMPLES_PER_MS = 8;

/** Segmenter tuning. */
export interface SegmenterOptions {
  /** Frame length analysed at a time. */
  frameMs?: number;
  /** Absolute floor below which a frame is never speech. */
  minRms?: number;
  /** Speech when rms > noiseFloor * ratio. */
  ratio?: number;
  /** Consecutive speech frames needed to open a segment. */
  onsetFrames?: number;
}

/** Events from the segmenter, timed in ms of audio since the first byte. */
export type SegmentEvent =
  | { type: "speech_start"; atMs: number }
  | { type: "speech_frame"; atMs: number; segmentStartMs: number }
  | { type: "silence_frame"; atMs: number; silenceMs: number; lastSpeechEndMs: number };

/**
 * Adaptive energy detector: the noise floor follows quiet frames, a frame is speech when it stands
 * clearly above it. Deliberately simple: it only has to tell synthetic speech from line noise.
 */
export class EnergySegmenter {
  private readonly frameBytes: number;
  private readonly minRms: number;
  private readonly ratio: number;
  private readonly onsetFrames: number;
  private pending = new Uint8Array(0);
  private processedMs = 0;
  private noiseFloor = 50;
  private run = 0;
  private runStartMs = 0;
  private inSpeech = false;
  private segmentStartMs = 0;
  private lastSpeechEndMs = 0;

  constructor(options: SegmenterOptions = {}) {
    this.frameBytes = (options.frameMs ?? 20) * SAMPLES_PER_MS;
    this.minRms = options.minRms ?? 400;
    this.ratio = options.ratio ?? 4;
    this.onsetFrames = options.onsetFrames ?? 2;
  }

  /** Audio time consumed so far. */
  get audioMs(): number {
    return this.processedMs;
  }

  /** Whether the last frame belonged to a speech segment. */
  get speaking(): boolean {
    return this.inSpeech;
  }

  /** Feed bytes; returns one event per completed frame (plus a start event at onset). */
  push(bytes: Uint8Array): SegmentEvent[] {
    const joined = new Uint8Array(this.pending.length + bytes.length);
    joined.set(this.pending, 0);
    joined.set(bytes, this.pending.length);
    const events: SegmentEvent[] = [];
    let offset = 0;
    const frameMs = this.frameBytes / SAMPLES_PER_MS;
    while (joined.length - offset >= this.frameBytes) {
      const frame = joined.subarray(offset, offset + this.frameBytes);
      offset += this.frameBytes;
      const startMs = this.processedMs;
      this.processedMs += frameMs;
      const rms = mulawRms(frame);
      const loud = rms > Math.max(this.minRms, this.noiseFloor * this.ratio);
      if (!loud) this.noiseFloor = this.noiseFloor * 0.95 + rms * 0.05;
      if (loud) {
        if (this.run === 0) this.runStartMs = startMs;
        this.run++;
        if (!this.inSpeech && this.run >= this.onsetFrames) {
          this.inSpeech = true;
          this.segmentStartMs = this.runStartMs;
          events.push({ type: "speech_start", atMs: this.segmentStartMs });
        }
        if (this.inSpeech) {
          this.lastSpeechEndMs = this.processedMs;
          events.push({ type: "speech_frame", atMs: this.processedMs, segmentStartMs: this.segmentStartMs });
        }
      } else {
        this.run = 0;
        if (this.inSpeech || this.lastSpeechEndMs > 0) {
          events.push({
            type: "silence_frame",
            atMs: this.processedMs,
            silenceMs: this.processedMs - this.lastSpeechEndMs,
            lastSpeechEndMs: this.lastSpeechEndMs,
          });
        }
      }
    }
    this.pending = joined.slice(offset);
    return events;
  }

  /** Close the current segment (after endpointing or finalize); the next loud run opens a new one. */
  endSegment(): void {
    this.inSpeech = false;
  }
}
