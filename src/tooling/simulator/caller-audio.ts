/**
 * The caller's audio for one turn, as 8 kHz µ-law: a recorded fixture or synthetic speech-like
 * sound of the length the text would take to say, optional line noise at a given SNR, and
 * trailing silence. Pure (no I/O), runs in Node and workerd.
 */
import { FRAME_BYTES, MULAW_SILENCE, mulawToPcm, pcmToMulaw, SAMPLE_RATE } from "../../audio/mulaw";
import { addNoiseAtSnr } from "../../audio/signals";

/** Milliseconds of synthetic speech per character of text (the STT emulator assumes the same pace). */
export const SPEECH_MS_PER_CHAR = 65;

/**
 * Deterministic speech-like PCM for `text`: voiced harmonics under a syllable envelope for each
 * letter, quiet gaps at spaces and punctuation, {@link SPEECH_MS_PER_CHAR} per character.
 */
export function speechLikePcm(text: string): Int16Array {
  const perChar = (SPEECH_MS_PER_CHAR * SAMPLE_RATE) / 1000;
  const out = new Int16Array(text.length * perChar);
  let n = 0;
  for (const ch of text) {
    const voiced = /[\p{L}\p{N}]/u.test(ch);
    const f0 = 110 + (ch.charCodeAt(0) % 9) * 11;
    for (let i = 0; i < perChar && n < out.length; i++, n++) {
      if (!voiced) {
        out[n] = ((n * 7919) % 61) - 30;
        continue;
      }
      const t = n / SAMPLE_RATE;
      const env = Math.sin((Math.PI * i) / perChar) * 0.6 + 0.4;
      const s =
        Math.sin(2 * Math.PI * f0 * t) * 0.6 +
        Math.sin(4 * Math.PI * f0 * t) * 0.3 +
        Math.sin(6 * Math.PI * f0 * t) * 0.15;
      out[n] = Math.round(s * env * 9000);
    }
  }
  return out.subarray(0, n);
}

/** What a turn's audio is made of. */
export interface TurnAudioSpec {
  /** Recorded µ-law speech; when absent, `text` is rendered as speech-like sound. */
  fixture?: Uint8Array;
  text?: string;
  /** Silence after the speech so the STT endpoints. */
  trailingSilenceMs: number;
  /** White line noise over the whole turn at this SNR (speech power measured on active frames). */
  noiseSnrDb?: number;
  /** Noise seed, so a case is reproducible. */
  seed?: number;
}

/** The turn's audio: speech bytes, then trailing silence, whole 20 ms frames; `speechBytes` marks where speech ends. */
export function buildTurnAudio(spec: TurnAudioSpec): { audio: Uint8Array; speechBytes: number } {
  const speech =
    spec.fixture ?? (spec.text !== undefined ? pcmToMulaw(speechLikePcm(spec.text)) : new Uint8Array(0));
  const silenceBytes = Math.ceil(spec.trailingSilenceMs / 20) * FRAME_BYTES;
  const total = Math.ceil((speech.length + silenceBytes) / FRAME_BYTES) * FRAME_BYTES;
  let audio: Uint8Array = new Uint8Array(total).fill(MULAW_SILENCE);
  audio.set(speech, 0);
  if (spec.noiseSnrDb !== undefined && speech.length > 0) {
    audio = pcmToMulaw(addNoiseAtSnr(mulawToPcm(audio), spec.noiseSnrDb, spec.seed ?? 7));
  }
  return { audio, speechBytes: speech.length };
}

/** Split µ-law bytes into 160-byte frames (the caller of this guarantees whole frames). */
export function frames(audio: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o + FRAME_BYTES <= audio.length; o += FRAME_BYTES)
    out.push(audio.subarray(o, o + FRAME_BYTES));
  return out;
}
