/** Deterministic test-signal generators (tones, ringback cadences, noise at an SNR) as PCM16 at 8 kHz. */
import { dbfs, FRAME_BYTES, pcmToMulaw, SAMPLE_RATE } from "./mulaw";

/** Seeded PRNG (mulberry32): the same seed gives the same noise in every run and runtime. */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function samplesFor(durationMs: number): number {
  return Math.round((durationMs * SAMPLE_RATE) / 1000);
}

/** Linear amplitude (int16 scale) of a sine whose RMS level is `levelDbfs` (see `dbfs`). */
export function sineAmplitude(levelDbfs: number): number {
  return 32768 * Math.SQRT2 * 10 ** (levelDbfs / 20);
}

function clamp16(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v);
}

/** Digital silence. */
export function silence(durationMs: number): Int16Array {
  return new Int16Array(samplesFor(durationMs));
}

/**
 * A sum of sines, each at `levelDbfs` RMS, with 5 ms raised-cosine edges so on/off clicks do not smear
 * energy across the band (real tone generators ramp too).
 */
export function tones(freqsHz: number[], durationMs: number, levelDbfs = -20, phase = 0): Int16Array {
  const n = samplesFor(durationMs);
  const out = new Int16Array(n);
  const amp = sineAmplitude(levelDbfs);
  const ramp = Math.min(samplesFor(5), Math.floor(n / 2));
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (const f of freqsHz) v += Math.sin(phase + (2 * Math.PI * f * i) / SAMPLE_RATE);
    let gain = 1;
    if (ramp > 0 && i < ramp) gain = 0.5 - 0.5 * Math.cos((Math.PI * i) / ramp);
    else if (ramp > 0 && i >= n - ramp) gain = 0.5 - 0.5 * Math.cos((Math.PI * (n - 1 - i)) / ramp);
    out[i] = clamp16(v * amp * gain);
  }
  return out;
}

/** A single steady tone (a voicemail beep when 0.3-1 s long). */
export function tone(freqHz: number, durationMs: number, levelDbfs = -20): Int16Array {
  return tones([freqHz], durationMs, levelDbfs);
}

/** Concatenates PCM buffers. */
export function concatPcm(parts: Int16Array[]): Int16Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Int16Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** One cadence step: tone on (with these frequencies) or off, for `durationMs`. */
export interface CadenceStep {
  on: boolean;
  durationMs: number;
}

/** UK ringback: 400+450 Hz, 0.4 s on, 0.2 s off, 0.4 s on, 2 s off. */
export const UK_RINGBACK = {
  freqsHz: [400, 450],
  cadence: [
    { on: true, durationMs: 400 },
    { on: false, durationMs: 200 },
    { on: true, durationMs: 400 },
    { on: false, durationMs: 2000 },
  ] as CadenceStep[],
};

/** US (North American) ringback: 440+480 Hz, 2 s on, 4 s off. */
export const US_RINGBACK = {
  freqsHz: [440, 480],
  cadence: [
    { on: true, durationMs: 2000 },
    { on: false, durationMs: 4000 },
  ] as CadenceStep[],
};

/** Repeats a tone cadence `cycles` times (per-tone level `levelDbfs`). */
export function cadence(
  spec: { freqsHz: number[]; cadence: CadenceStep[] },
  cycles: number,
  levelDbfs = -22,
): Int16Array {
  const parts: Int16Array[] = [];
  for (let c = 0; c < cycles; c++) {
    for (const step of spec.cadence) {
      parts.push(step.on ? tones(spec.freqsHz, step.durationMs, levelDbfs) : silence(step.durationMs));
    }
  }
  return concatPcm(parts);
}

/** Gaussian white noise (Box-Muller over the seeded PRNG) at an RMS level of `levelDbfs`. */
export function whiteNoise(durationMs: number, levelDbfs: number, seed = 1): Int16Array {
  const n = samplesFor(durationMs);
  const out = new Int16Array(n);
  const rng = createRng(seed);
  const sigma = 32768 * 10 ** (levelDbfs / 20);
  for (let i = 0; i < n; i++) {
    const u = Math.max(rng(), 1e-12);
    const v = rng();
    out[i] = clamp16(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  }
  return out;
}

/** Sample-wise sum (length of the longer input), clipped to int16. */
export function mixPcm(a: Int16Array, b: Int16Array): Int16Array {
  const out = new Int16Array(Math.max(a.length, b.length));
  for (let i = 0; i < out.length; i++) out[i] = clamp16((a[i] ?? 0) + (b[i] ?? 0));
  return out;
}

/**
 * Adds white noise so that signal power / noise power = `snrDb`, where signal power is measured over the
 * active part of the signal only (frames above -50 dBFS), as speech SNR is usually quoted.
 */
export function addNoiseAtSnr(signal: Int16Array, snrDb: number, seed = 7): Int16Array {
  let sum = 0;
  let count = 0;
  for (let start = 0; start + FRAME_BYTES <= signal.length; start += FRAME_BYTES) {
    const frame = signal.subarray(start, start + FRAME_BYTES);
    if (dbfs(frame) > -50) {
      for (let i = 0; i < frame.length; i++) sum += (frame[i] ?? 0) ** 2;
      count += frame.length;
    }
  }
  const signalDbfs = count === 0 ? -100 : 10 * Math.log10(sum / count / 32768 ** 2);
  const noise = whiteNoise((signal.length * 1000) / SAMPLE_RATE, signalDbfs - snrDb, seed);
  return mixPcm(signal, noise);
}

/** Splits PCM16 into µ-law 20 ms frames (a short tail is padded with silence). */
export function pcmToMulawFrames(pcm: Int16Array): Uint8Array[] {
  const mulaw = pcmToMulaw(pcm);
  return splitFrames(mulaw);
}

/** Splits µ-law bytes into 160-byte frames; a short tail is padded with µ-law silence. */
export function splitFrames(mulaw: Uint8Array): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let start = 0; start < mulaw.length; start += FRAME_BYTES) {
    const frame = new Uint8Array(FRAME_BYTES).fill(0xff);
    frame.set(mulaw.subarray(start, Math.min(start + FRAME_BYTES, mulaw.length)));
    frames.push(frame);
  }
  return frames;
}
