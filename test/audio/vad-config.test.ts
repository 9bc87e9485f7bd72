import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_VAD_CONFIG,
  mergeVadConfig,
  parseVadConfigOverride,
  vadConfigOverrideSchema,
} from "../../src/audio/vad-config";

describe("VAD config", () => {
  it("defaults to the reference architecture's settings", () => {
    expect(DEFAULT_VAD_CONFIG.vad).toMatchObject({
      minSpeechMs: 200,
      maxPauseMs: 500,
      noiseGateDb: -42,
      bargeIn: true,
      ttsGateMs: 60,
    });
    expect(DEFAULT_VAD_CONFIG.endpointing).toEqual({
      silenceDurationMs: 500,
      utteranceEndMs: 1000,
      speechFinal: true,
    });
  });

  it("parses the flow file's snake_case block into camelCase", () => {
    const o = parseVadConfigOverride({
      vad: { min_speech_ms: 180, barge_in: false, noise_gate_db: -38.5, detector: "energy", webrtc_mode: 3 },
      endpointing: { utterance_end_ms: 1200 },
    });
    expect(o).toEqual({
      vad: { minSpeechMs: 180, bargeIn: false, noiseGateDb: -38.5, detector: "energy", webrtcMode: 3 },
      endpointing: { utteranceEndMs: 1200 },
    });
  });

  it("rejects unknown keys, wrong types and out-of-range values", () => {
    expect(vadConfigOverrideSchema.safeParse({ vad: { min_speech: 200 } }).success).toBe(false);
    expect(vadConfigOverrideSchema.safeParse({ vad: { max_pause_ms: "500" } }).success).toBe(false);
    expect(vadConfigOverrideSchema.safeParse({ vad: { noise_gate_db: 3 } }).success).toBe(false);
    expect(vadConfigOverrideSchema.safeParse({ vad: { webrtc_mode: 4 } }).success).toBe(false);
    expect(vadConfigOverrideSchema.safeParse({ endpointing: { silence_duration_ms: 1.5 } }).success).toBe(
      false,
    );
    expect(vadConfigOverrideSchema.safeParse({ extra: {} }).success).toBe(false);
  });

  it("layers flow, state and carrier overrides, later ones winning, without mutating inputs", () => {
    const flow = parseVadConfigOverride({ vad: { max_pause_ms: 600, min_speech_ms: 250 } });
    const state = parseVadConfigOverride({ vad: { max_pause_ms: 800 } });
    const carrier = parseVadConfigOverride({
      vad: { noise_gate_db: -36 },
      endpointing: { silence_duration_ms: 400 },
    });
    const merged = mergeVadConfig(DEFAULT_VAD_CONFIG, flow, state, undefined, carrier);
    expect(merged.vad).toMatchObject({ maxPauseMs: 800, minSpeechMs: 250, noiseGateDb: -36, bargeIn: true });
    expect(merged.endpointing.silenceDurationMs).toBe(400);
    expect(DEFAULT_VAD_CONFIG.vad.maxPauseMs).toBe(500);
    expect(flow.vad?.maxPauseMs).toBe(600);
  });

  it("leaves the base unchanged for empty or undefined-valued overrides", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom({}, { vad: {} }, { vad: { minSpeechMs: undefined } }, undefined)),
        (os) => {
          expect(mergeVadConfig(DEFAULT_VAD_CONFIG, ...os)).toEqual(DEFAULT_VAD_CONFIG);
        },
      ),
    );
  });

  it("takes any valid min speech from the last override that sets it", () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.integer({ min: 20, max: 5000 }), { nil: undefined })), (values) => {
        const merged = mergeVadConfig(
          DEFAULT_VAD_CONFIG,
          ...values.map((v) => parseVadConfigOverride({ vad: v === undefined ? {} : { min_speech_ms: v } })),
        );
        const last = values.filter((v) => v !== undefined).at(-1);
        expect(merged.vad.minSpeechMs).toBe(last ?? 200);
      }),
    );
  });
});
