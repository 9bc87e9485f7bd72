/** Streaming voice activity detection over 20 ms µ-law frames: frame classifier + noise gate + speech/pause timing. */
import { DBFS_FLOOR, dbfs, FRAME_MS, mulawToPcm } from "./mulaw";
import type { VadSettings } from "./vad-config";

/** Decides whether one PCM16 frame (8 kHz) contains speech. Stateful (noise estimates); one per call leg. */
export interface FrameClassifier {
  isSpeech(pcm: Int16Array): boolean;
  reset(): void;
  /** Frees native resources (WASM memory); the classifier is unusable afterwards. */
  dispose?(): void;
}

/** Events carry media timestamps (ms since stream start, as in Twilio's `media.timestamp`). */
export type VadEvent =
  | {
      type: "speech_start";
      /** Start of the first voiced frame of the run. */
      onsetMs: number;
      /** End of the frame that confirmed speech (onset + at least min speech). */
      atMs: number;
    }
  | {
      type: "speech_end";
      onsetMs: number;
      /** End of the last voiced frame. */
      lastSpeechMs: number;
      /** End of the frame that completed the max pause. */
      atMs: number;
    };

/** What the VAD knows after the latest frame (read by barge-in and endpointing). */
export interface VadSnapshot {
  /** Speech confirmed (speech_start emitted, speech_end not yet). */
  speaking: boolean;
  /** Onset of the current candidate or confirmed speech run, else null. */
  onsetMs: number | null;
  /** Voiced milliseconds since `onsetMs` (pauses excluded). */
  voicedMs: number;
  /** End of the last voiced frame, else null. */
  lastSpeechMs: number | null;
  /** Level of the latest frame. */
  levelDbfs: number;
  /** Classifier + gate verdict for the latest frame. */
  frameIsSpeech: boolean;
}

/** A streaming VAD for one audio leg. */
export interface Vad {
  push(frame: Uint8Array, mediaTimestampMs: number): VadEvent[];
  snapshot(): VadSnapshot;
  reset(): void;
  dispose(): void;
}

/** Options for `createVad`. */
export interface CreateVadOptions {
  /** Frame classifier, e.g. from `instantiateWebRtcVad(...).createClassifier(mode)`; default: energy classifier. */
  classifier?: FrameClassifier;
  /**
   * Unvoiced gap tolerated inside a not-yet-confirmed run before it is dropped: plosives and short dips
   * inside a word must not restart the min-speech count.
   */
  candidateGapMs?: number;
  /**
   * Level range (max - min, dB) the voiced frames of the last `modulationWindowMs` must span before speech
   * is confirmed. Speech is syllabic (its level swings by 10+ dB within a few hundred ms); stationary noise
   * (hiss, hum, a tap, traffic) is not, even at a sudden onset the classifier has not adapted to yet.
   * 0 disables the check.
   */
  minModulationDb?: number;
  modulationWindowMs?: number;
}

/** Settings of the adaptive energy classifier. */
export interface EnergyClassifierOptions {
  /** A frame must be this many dB above the tracked noise floor. */
  marginDb?: number;
  /** Floor rise per frame when the level is above it (slow: speech must not drag the floor up). */
  riseDbPerFrame?: number;
  /** Fraction of the gap closed per frame when the level falls below the floor (fast). */
  fallRate?: number;
}

/**
 * Energy classifier with adaptive noise-floor tracking: the floor follows dips quickly and rises slowly,
 * so steady noise (hum, hiss, traffic) is learned in about a second and stops counting as speech.
 */
export function createEnergyClassifier(options: EnergyClassifierOptions = {}): FrameClassifier {
  const marginDb = options.marginDb ?? 4;
  const rise = options.riseDbPerFrame ?? 0.1;
  const fall = options.fallRate ?? 0.3;
  let floor: number | null = null;
  return {
    isSpeech(pcm: Int16Array): boolean {
      const level = dbfs(pcm);
      if (floor === null) {
        // First frame seeds the floor: a call usually opens on line noise, not mid-word.
        floor = level;
        return false;
      }
      const speech = level > floor + marginDb;
      if (level < floor) floor += (level - floor) * fall;
      else floor = Math.min(level, floor + (speech ? rise / 4 : rise));
      return speech;
    },
    reset(): void {
      floor = null;
    },
  };
}

/**
 * Creates a streaming VAD. Each 20 ms frame is voiced when it is above the noise gate AND the classifier
 * says speech. `speech_start` fires once `minSpeechMs` of voiced audio has accumulated (gaps up to
 * `candidateGapMs` allowed); `speech_end` fires after `maxPauseMs` without a voiced frame.
 */
export function createVad(
  settings: Pick<VadSettings, "minSpeechMs" | "maxPauseMs" | "noiseGateDb">,
  options: CreateVadOptions = {},
): Vad {
  const classifier = options.classifier ?? createEnergyClassifier();
  const candidateGapMs = options.candidateGapMs ?? 60;
  const minModulationDb = options.minModulationDb ?? 6;
  const windowFrames = Math.max(1, Math.round((options.modulationWindowMs ?? 300) / FRAME_MS));
  // Levels of the latest voiced frames of the current run (ring buffer).
  const recentLevels: number[] = [];
  let speaking = false;
  let onsetMs: number | null = null;
  let voicedMs = 0;
  let lastSpeechMs: number | null = null;
  let levelDbfs = DBFS_FLOOR;
  let frameIsSpeech = false;

  const clearRun = () => {
    onsetMs = null;
    voicedMs = 0;
    recentLevels.length = 0;
  };
  const modulated = () => {
    if (minModulationDb <= 0) return true;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const l of recentLevels) {
      if (l < min) min = l;
      if (l > max) max = l;
    }
    return max - min >= minModulationDb;
  };

  return {
    push(frame: Uint8Array, mediaTimestampMs: number): VadEvent[] {
      const events: VadEvent[] = [];
      const pcm = mulawToPcm(frame);
      const frameMs = (pcm.length / 8000) * 1000 || FRAME_MS;
      const frameEndMs = mediaTimestampMs + frameMs;
      levelDbfs = dbfs(pcm);
      // The classifier sees every frame (it tracks noise), the gate decides last.
      const classified = classifier.isSpeech(pcm);
      frameIsSpeech = classified && levelDbfs >= settings.noiseGateDb;

      if (frameIsSpeech) {
        if (onsetMs === null) onsetMs = mediaTimestampMs;
        voicedMs += frameMs;
        lastSpeechMs = frameEndMs;
        recentLevels.push(levelDbfs);
        if (recentLevels.length > windowFrames) recentLevels.shift();
        if (!speaking && voicedMs >= settings.minSpeechMs && modulated()) {
          speaking = true;
          events.push({ type: "speech_start", onsetMs, atMs: frameEndMs });
        }
      } else if (onsetMs !== null) {
        const pauseMs = frameEndMs - (lastSpeechMs ?? frameEndMs);
        if (speaking && pauseMs >= settings.maxPauseMs) {
          events.push({
            type: "speech_end",
            onsetMs,
            lastSpeechMs: lastSpeechMs ?? frameEndMs,
            atMs: frameEndMs,
          });
          speaking = false;
          clearRun();
        } else if (!speaking && pauseMs > candidateGapMs) {
          clearRun();
        }
      }
      return events;
    },
    snapshot(): VadSnapshot {
      return { speaking, onsetMs, voicedMs, lastSpeechMs, levelDbfs, frameIsSpeech };
    },
    reset(): void {
      speaking = false;
      clearRun();
      lastSpeechMs = null;
      levelDbfs = DBFS_FLOOR;
      frameIsSpeech = false;
      classifier.reset();
    },
    dispose(): void {
      classifier.dispose?.();
    },
  };
}
