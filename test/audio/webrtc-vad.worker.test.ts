import fvadWasm from "@echogarden/fvad-wasm/fvad.wasm";
import { describe, expect, it } from "vitest";
import { base64ToBytes, bytesToBase64, mulawToPcm } from "../../src/audio/mulaw";
import { pcmToMulawFrames, tone, whiteNoise } from "../../src/audio/signals";
import { instantiateWebRtcVad } from "../../src/audio/webrtc-vad";

describe("audio core inside workerd", () => {
  it("loads the WebRTC VAD from a bundled .wasm module and classifies frames", async () => {
    const runtime = await instantiateWebRtcVad(fvadWasm);
    const c = runtime.createClassifier(2);
    expect(c.isSpeech(new Int16Array(160))).toBe(false);
    for (const frame of pcmToMulawFrames(whiteNoise(200, -30, 1))) c.isSpeech(mulawToPcm(frame));
    c.dispose?.();
  });

  it("round-trips base64 without Buffer", () => {
    const frame = pcmToMulawFrames(tone(440, 20))[0] ?? new Uint8Array();
    expect(Array.from(base64ToBytes(bytesToBase64(frame)))).toEqual(Array.from(frame));
  });
});
