import { describe, expect, it } from "vitest";
import { cadence, pcmToMulawFrames, silence, tone, UK_RINGBACK } from "../../src/audio";
import { amdMeaning, VoicemailDetector } from "../../src/call/voicemail";

function run(detector: VoicemailDetector, frames: Uint8Array[], startMs = 0) {
  return frames.flatMap((f, i) => detector.push(f, startMs + i * 20));
}

describe("voicemail detection", () => {
  it("maps Twilio's AMD answers: machine_end_* means the beep already passed", () => {
    expect(amdMeaning("machine_end_beep")).toEqual({ result: "machine", beepPassed: true });
    expect(amdMeaning("machine_start")).toEqual({ result: "machine", beepPassed: false });
    expect(amdMeaning("human")).toEqual({ result: "human", beepPassed: false });
    expect(amdMeaning("something new")).toEqual({ result: "unknown", beepPassed: false });
  });

  it("hears a voicemail beep once it ends", () => {
    const frames = pcmToMulawFrames(new Int16Array([...silence(300), ...tone(1000, 500), ...silence(300)]));
    const events = run(new VoicemailDetector(), frames);
    expect(events.filter((e) => e.type === "beep")).toHaveLength(1);
  });

  it("never takes UK carrier ringback for a beep", () => {
    const frames = pcmToMulawFrames(cadence(UK_RINGBACK, 2));
    const events = run(new VoicemailDetector(), frames);
    expect(events.some((e) => e.type === "beep")).toBe(false);
    expect(events.some((e) => e.type === "ringback")).toBe(true);
  });

  it("stops listening once a person answered", () => {
    const detector = new VoicemailDetector();
    detector.stop();
    const frames = pcmToMulawFrames(new Int16Array([...tone(1000, 500), ...silence(300)]));
    expect(run(detector, frames)).toEqual([]);
  });
});
