/** Goertzel tone detection over 20 ms frames: the voicemail beep (reported when it ends) and UK/US ringback. */
import { DBFS_FLOOR, FRAME_MS, mulawToPcm, SAMPLE_RATE } from "./mulaw";

/** A detected tone event, with media timestamps. */
export type ToneEvent =
  | {
      type: "beep";
      freqHz: number;
      /** Estimated start and end of the tone. */
      startMs: number;
      endMs: number;
      /** When the detector knew the beep was over (end of the frame that showed it). */
      atMs: number;
    }
  | { type: "ringback"; region: "uk" | "us"; atMs: number };

/** Detection thresholds; defaults follow issue 9 (beep 400-2,000 Hz held ~0.3-1 s). */
export interface ToneDetectorOptions {
  minFreqHz?: number;
  maxFreqHz?: number;
  minBeepMs?: number;
  maxBeepMs?: number;
  /** Share of window energy a single frequency must hold (1 = pure tone). */
  minTonality?: number;
  /** Windows quieter than this are silence. */
  minLevelDbfs?: number;
}

/** Streaming tone detector for one audio leg. */
export interface ToneDetector {
  push(frame: Uint8Array, mediaTimestampMs: number): ToneEvent[];
  reset(): void;
}

const WINDOW_FRAMES = 3; // 60 ms analysis window: 16.7 Hz bins, enough to split 440 from 480 Hz
const COARSE_STEP_HZ = 16;
const FINE_STEP_HZ = 2;
const MAX_FREQ_DRIFT_HZ = 15;

const DUAL = { uk: [400, 450], us: [440, 480] } as const;

/** Goertzel power at `freqHz`, normalised so a pure sine at that frequency gives 1 x its energy share. */
function goertzel(x: Float64Array, freqHz: number): number {
  const coeff = 2 * Math.cos((2 * Math.PI * freqHz) / SAMPLE_RATE);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < x.length; i++) {
    const s0 = (x[i] ?? 0) + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

type WindowClass =
  | { kind: "silent" }
  | { kind: "other" }
  | { kind: "tone"; freqHz: number }
  | { kind: "dual"; region: "uk" | "us" };

/**
 * Creates a tone detector. A `beep` is one steady frequency (within ±15 Hz) whose length falls in
 * [minBeepMs, maxBeepMs]; it is emitted when the tone stops, so a voicemail message can start right after
 * it. Dual tones (ringback) never count as a beep: `ringback` is emitted for the UK double burst
 * (400+450 Hz, 0.4 on / 0.2 off / 0.4 on) and for 1.5 s of US 440+480 Hz.
 */
export function createToneDetector(options: ToneDetectorOptions = {}): ToneDetector {
  const minFreq = options.minFreqHz ?? 400;
  const maxFreq = options.maxFreqHz ?? 2000;
  const minBeepMs = options.minBeepMs ?? 250;
  const maxBeepMs = options.maxBeepMs ?? 1300;
  const minTonality = options.minTonality ?? 0.7;
  const minLevel = options.minLevelDbfs ?? -45;
  const windowLen = WINDOW_FRAMES * (SAMPLE_RATE / 1000) * FRAME_MS;
  const window = new Float64Array(windowLen);
  let filled = 0;

  // Single-tone run.
  let toneRun: { freqHz: number; firstEndMs: number; lastEndMs: number; windows: number } | null = null;
  // Dual-tone runs and the finished UK bursts (end time, duration) for cadence matching.
  let dualRun: { region: "uk" | "us"; startMs: number; lastEndMs: number; reported: boolean } | null = null;
  let ukBursts: { startMs: number; endMs: number }[] = [];

  const classify = (): WindowClass => {
    let energy = 0;
    for (let i = 0; i < windowLen; i++) energy += (window[i] ?? 0) ** 2;
    const level = energy > 0 ? 10 * Math.log10(energy / windowLen / 32768 ** 2) : DBFS_FLOOR;
    if (level < minLevel) return { kind: "silent" };
    const share = (f: number) => (2 * goertzel(window, f)) / (windowLen * energy);
    for (const region of ["uk", "us"] as const) {
      const [a, b] = DUAL[region];
      const sa = share(a);
      const sb = share(b);
      if (sa >= 0.25 && sb >= 0.25 && sa + sb >= minTonality) return { kind: "dual", region };
    }
    let bestF = minFreq;
    let best = 0;
    for (let f = minFreq; f <= maxFreq; f += COARSE_STEP_HZ) {
      const p = share(f);
      if (p > best) {
        best = p;
        bestF = f;
      }
    }
    for (let f = bestF - COARSE_STEP_HZ / 2; f <= bestF + COARSE_STEP_HZ / 2; f += FINE_STEP_HZ) {
      const p = share(f);
      if (p > best) {
        best = p;
        bestF = f;
      }
    }
    if (best >= minTonality && bestF >= minFreq - 10 && bestF <= maxFreq + 10)
      return { kind: "tone", freqHz: bestF };
    return { kind: "other" };
  };

  const endToneRun = (nowEndMs: number, events: ToneEvent[]) => {
    if (!toneRun) return;
    // A tone of D ms fills about (D - window + frame) / frame whole windows.
    const durationMs = toneRun.windows * FRAME_MS + (WINDOW_FRAMES - 1) * FRAME_MS;
    if (durationMs >= minBeepMs && durationMs <= maxBeepMs) {
      events.push({
        type: "beep",
        freqHz: Math.round(toneRun.freqHz),
        startMs: toneRun.firstEndMs - WINDOW_FRAMES * FRAME_MS,
        endMs: toneRun.lastEndMs,
        atMs: nowEndMs,
      });
    }
    toneRun = null;
  };

  const endDualRun = () => {
    if (!dualRun) return;
    if (dualRun.region === "uk") {
      ukBursts.push({ startMs: dualRun.startMs, endMs: dualRun.lastEndMs });
      if (ukBursts.length > 2) ukBursts = ukBursts.slice(-2);
    }
    dualRun = null;
  };

  return {
    push(frame: Uint8Array, mediaTimestampMs: number): ToneEvent[] {
      const events: ToneEvent[] = [];
      const pcm = mulawToPcm(frame);
      window.copyWithin(0, pcm.length);
      window.set(pcm, windowLen - pcm.length);
      filled = Math.min(windowLen, filled + pcm.length);
      const endMs = mediaTimestampMs + (pcm.length * 1000) / SAMPLE_RATE;
      if (filled < windowLen) return events;
      const c = classify();

      if (c.kind === "tone" && toneRun && Math.abs(c.freqHz - toneRun.freqHz) <= MAX_FREQ_DRIFT_HZ) {
        toneRun.windows++;
        toneRun.lastEndMs = endMs;
        // Running mean keeps the reference frequency from drifting with one noisy estimate.
        toneRun.freqHz += (c.freqHz - toneRun.freqHz) / toneRun.windows;
      } else {
        endToneRun(endMs, events);
        if (c.kind === "tone")
          toneRun = { freqHz: c.freqHz, firstEndMs: endMs, lastEndMs: endMs, windows: 1 };
      }

      if (c.kind === "dual" && dualRun && dualRun.region === c.region) {
        dualRun.lastEndMs = endMs;
      } else {
        endDualRun();
        if (c.kind === "dual")
          dualRun = {
            region: c.region,
            startMs: endMs - WINDOW_FRAMES * FRAME_MS,
            lastEndMs: endMs,
            reported: false,
          };
      }
      if (
        dualRun &&
        dualRun.region === "us" &&
        !dualRun.reported &&
        dualRun.lastEndMs - dualRun.startMs >= 1500
      ) {
        dualRun.reported = true;
        events.push({ type: "ringback", region: "us", atMs: endMs });
      }
      // UK cadence: two ~0.4 s bursts with a ~0.2 s gap, reported when the second burst ends.
      const [first, second] = ukBursts;
      if (first && second) {
        const len = (b: { startMs: number; endMs: number }) => b.endMs - b.startMs;
        const gap = second.startMs - first.endMs;
        if (
          len(first) >= 250 &&
          len(first) <= 600 &&
          len(second) >= 250 &&
          len(second) <= 600 &&
          gap >= 60 &&
          gap <= 400
        ) {
          events.push({ type: "ringback", region: "uk", atMs: endMs });
        }
        ukBursts = [];
      }
      return events;
    },
    reset(): void {
      window.fill(0);
      filled = 0;
      toneRun = null;
      dualRun = null;
      ukBursts = [];
    },
  };
}
