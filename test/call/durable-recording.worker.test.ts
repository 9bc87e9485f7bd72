import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { parseWav } from "../../src/audio/wav";
import { DurableRecording } from "../../src/call/durable-recording";
import { recordingObjectKey } from "../../src/call/recording-store";
import { callStub } from "../support/audit";
import { newCallSid } from "../support/twilio-media-client";

/** One second of caller audio whose bytes name the second (so misplaced audio shows). */
function second(s: number): Uint8Array {
  return new Uint8Array(160).fill(s % 200);
}

describe("durable recording", () => {
  it("resumes a multipart recording after a reset and completes one WAV with every second in place", async () => {
    const callSid = newCallSid();
    const originMs = 1_000_000;
    let nowMs = originMs;
    const clock = () => nowMs;
    const feed = (rec: DurableRecording, fromS: number, toS: number) => {
      for (let t = fromS * 1000; t < toS * 1000; t += 20) {
        nowMs = originMs + t + 20;
        rec.caller(second(Math.floor(t / 1000)), t);
      }
    };
    const seconds = 720; // 11.5 MB of stereo µ-law: part 1, part 2 sealed, part 3 under way
    const stored = await runInDurableObject(callStub(callSid), async (_instance, state) => {
      DurableRecording.init(state.storage);
      const first = DurableRecording.start(state.storage, env.MEDIA, callSid, originMs, clock);
      feed(first, 0, 500);
      // The instance goes away mid-part (whatever it had in flight); a fresh one resumes from storage.
      const second = DurableRecording.resume(state.storage, env.MEDIA, clock, false);
      if (!second) throw new Error("nothing to resume");
      feed(second, 500, seconds);
      const result = await second.store();
      // Stored: a later resume finds nothing to carry on.
      expect(DurableRecording.resume(state.storage, env.MEDIA, clock, false)).toBeNull();
      return result;
    });
    expect(stored.parts).toBe(3);
    const obj = await env.MEDIA.get(recordingObjectKey(callSid));
    const bytes = new Uint8Array((await obj?.arrayBuffer()) ?? new ArrayBuffer(0));
    expect(bytes.length).toBe(stored.bytes);
    const wav = parseWav(bytes);
    expect(wav).toMatchObject({ format: "mulaw", channels: 2, frames: seconds * 8000 });
    // The caller channel is interleaved first: sample at the middle of each second carries its number,
    // except what the reset lost (at most the recorder's unsettled tail before second 500).
    let lost = 0;
    for (let s = 0; s < seconds; s++) {
      const v = wav.data[(s * 8000 + 4000) * 2];
      if (v !== s % 200) lost++;
    }
    expect(lost).toBeLessThanOrEqual(4);
  });
});
