/** VAD / endpointing / barge-in settings: the flow-file schema (snake_case), typed camelCase config, layered overrides. */
import { z } from "zod";

const ms = (min: number, max: number) => z.number().int().min(min).max(max);

/** Schema of the `vad` block as written in flow files (reference architecture names, plus our extensions). */
export const vadSectionSchema = z
  .object({
    min_speech_ms: ms(20, 5000),
    max_pause_ms: ms(60, 5000),
    noise_gate_db: z.number().min(-100).max(0),
    barge_in: z.boolean(),
    tts_gate_ms: ms(0, 1000),
    /** Caller speech shorter than this during agent playback is a backchannel ("mm-hm"), not a barge-in. */
    backchannel_max_ms: ms(0, 3000),
    /** Frame classifier: WebRTC VAD (WASM) when available, or the adaptive energy detector. */
    detector: z.enum(["webrtc", "energy"]),
    /** WebRTC VAD aggressiveness 0 (least) .. 3 (most likely to call a frame non-speech). */
    webrtc_mode: z.number().int().min(0).max(3),
  })
  .strict();

/** Schema of the `endpointing` block (passed to the STT provider; mirrored here so one file holds the turn-taking knobs). */
export const endpointingSectionSchema = z
  .object({
    silence_duration_ms: ms(10, 5000),
    utterance_end_ms: ms(0, 10000),
    speech_final: z.boolean(),
  })
  .strict();

/** Typed, camelCase VAD settings. */
export interface VadSettings {
  minSpeechMs: number;
  maxPauseMs: number;
  noiseGateDb: number;
  bargeIn: boolean;
  ttsGateMs: number;
  backchannelMaxMs: number;
  detector: "webrtc" | "energy";
  webrtcMode: 0 | 1 | 2 | 3;
}

/** Typed, camelCase endpointing settings. */
export interface EndpointingSettings {
  silenceDurationMs: number;
  utteranceEndMs: number;
  speechFinal: boolean;
}

/** The whole turn-taking configuration of one call (after flow / state / carrier overrides). */
export interface VadConfig {
  vad: VadSettings;
  endpointing: EndpointingSettings;
}

/** A partial configuration layered over a base (flow, then state, then carrier). */
export interface VadConfigOverride {
  vad?: Partial<VadSettings>;
  endpointing?: Partial<EndpointingSettings>;
}

/** Reference-architecture defaults (UK English outbound calls), plus our barge-in/backchannel and detector defaults. */
export const DEFAULT_VAD_CONFIG: Readonly<VadConfig> = Object.freeze({
  vad: Object.freeze({
    minSpeechMs: 200,
    maxPauseMs: 500,
    noiseGateDb: -42,
    bargeIn: true,
    ttsGateMs: 60,
    backchannelMaxMs: 450,
    detector: "webrtc",
    webrtcMode: 2,
  }),
  endpointing: Object.freeze({ silenceDurationMs: 500, utteranceEndMs: 1000, speechFinal: true }),
}) as Readonly<VadConfig>;

/** Schema of a (possibly partial) `{ vad, endpointing }` block from a flow, state or carrier profile; outputs camelCase. */
export const vadConfigOverrideSchema = z
  .object({
    vad: vadSectionSchema.partial().optional(),
    endpointing: endpointingSectionSchema.partial().optional(),
  })
  .strict()
  .transform((raw): VadConfigOverride => {
    const out: VadConfigOverride = {};
    if (raw.vad) {
      const v = raw.vad;
      const vad: Partial<VadSettings> = {};
      if (v.min_speech_ms !== undefined) vad.minSpeechMs = v.min_speech_ms;
      if (v.max_pause_ms !== undefined) vad.maxPauseMs = v.max_pause_ms;
      if (v.noise_gate_db !== undefined) vad.noiseGateDb = v.noise_gate_db;
      if (v.barge_in !== undefined) vad.bargeIn = v.barge_in;
      if (v.tts_gate_ms !== undefined) vad.ttsGateMs = v.tts_gate_ms;
      if (v.backchannel_max_ms !== undefined) vad.backchannelMaxMs = v.backchannel_max_ms;
      if (v.detector !== undefined) vad.detector = v.detector;
      if (v.webrtc_mode !== undefined) vad.webrtcMode = v.webrtc_mode as 0 | 1 | 2 | 3;
      out.vad = vad;
    }
    if (raw.endpointing) {
      const e = raw.endpointing;
      const endpointing: Partial<EndpointingSettings> = {};
      if (e.silence_duration_ms !== undefined) endpointing.silenceDurationMs = e.silence_duration_ms;
      if (e.utterance_end_ms !== undefined) endpointing.utteranceEndMs = e.utterance_end_ms;
      if (e.speech_final !== undefined) endpointing.speechFinal = e.speech_final;
      out.endpointing = endpointing;
    }
    return out;
  });

/** Raw (snake_case) input type of `vadConfigOverrideSchema`, e.g. a flow file's `turn_taking` block. */
export type VadConfigInput = z.input<typeof vadConfigOverrideSchema>;

/** Parses a snake_case override block (throws a ZodError on bad input; use the schema's safeParse at boundaries). */
export function parseVadConfigOverride(raw: unknown): VadConfigOverride {
  return vadConfigOverrideSchema.parse(raw);
}

function withoutUndefined<T extends object>(obj: Partial<T> | undefined): Partial<T> {
  const out: Partial<T> = {};
  if (!obj) return out;
  for (const key of Object.keys(obj) as (keyof T)[]) {
    if (obj[key] !== undefined) out[key] = obj[key];
  }
  return out;
}

/**
 * Layers overrides over a base, later overrides winning (e.g. `mergeVadConfig(DEFAULT_VAD_CONFIG, flow, state, carrier)`).
 * `undefined` fields leave the lower layer's value in place. Returns a fresh object; inputs are not mutated.
 */
export function mergeVadConfig(
  base: Readonly<VadConfig>,
  ...overrides: (VadConfigOverride | undefined)[]
): VadConfig {
  let vad: VadSettings = { ...base.vad };
  let endpointing: EndpointingSettings = { ...base.endpointing };
  for (const o of overrides) {
    if (!o) continue;
    vad = { ...vad, ...withoutUndefined(o.vad) };
    endpointing = { ...endpointing, ...withoutUndefined(o.endpointing) };
  }
  return { vad, endpointing };
}
