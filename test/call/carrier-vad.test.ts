import { describe, expect, it } from "vitest";
import { DEFAULT_VAD_CONFIG } from "../../src/audio";
import { CarrierOverridesSchema, carrierVadConfig } from "../../src/call/carrier-vad";
import { ConfigError, parseConfig } from "../../src/config/config";

describe("per-carrier VAD overrides", () => {
  const overrides = CarrierOverridesSchema.parse([
    { prefix: "+44", vad: { noise_gate_db: -40 } },
    {
      prefix: "+447",
      vad: { noise_gate_db: -36, min_speech_ms: 240 },
      endpointing: { silence_duration_ms: 600 },
    },
  ]);

  it("applies the longest matching prefix of the other party's number", () => {
    const mobile = carrierVadConfig(DEFAULT_VAD_CONFIG, overrides, "+447700900123");
    expect(mobile.vad.noiseGateDb).toBe(-36);
    expect(mobile.vad.minSpeechMs).toBe(240);
    expect(mobile.endpointing.silenceDurationMs).toBe(600);
    const landline = carrierVadConfig(DEFAULT_VAD_CONFIG, overrides, "+442071234567");
    expect(landline.vad.noiseGateDb).toBe(-40);
    expect(landline.vad.minSpeechMs).toBe(DEFAULT_VAD_CONFIG.vad.minSpeechMs);
  });

  it("keeps the reference defaults for numbers no prefix matches", () => {
    expect(carrierVadConfig(DEFAULT_VAD_CONFIG, overrides, "+12125550100")).toEqual(DEFAULT_VAD_CONFIG);
  });

  it("fails fast, naming the variable, on malformed overrides", () => {
    expect(() => parseConfig({ VAD_CARRIER_OVERRIDES: "not json" })).toThrowError(ConfigError);
    expect(() =>
      parseConfig({ VAD_CARRIER_OVERRIDES: '[{"prefix":"+44","vad":{"noise_gate_db":"loud"}}]' }),
    ).toThrowError(/VAD_CARRIER_OVERRIDES/);
    expect(
      parseConfig({ VAD_CARRIER_OVERRIDES: '[{"prefix":"+447","vad":{"noise_gate_db":-36}}]' }).carrierVad,
    ).toHaveLength(1);
  });
});
