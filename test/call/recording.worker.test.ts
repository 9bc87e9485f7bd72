import { env } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { decodeMulawSample } from "../../src/audio/mulaw";
import { parseWav } from "../../src/audio/wav";
import { Recorder } from "../../src/call/recorder";
import { MIN_PART_BYTES, RecordingUpload, recordingObjectKey } from "../../src/call/recording-store";
import { recordingKey } from "../../src/routes/dashboard";
import { auditTrail, callStub } from "../support/audit";
import { fixture, scriptCaller, TwilioMediaClient } from "../support/twilio-media-client";

const speech = inject("speechFixtures");

const script = scriptCaller;

const WINDOW = 160; // 20 ms

/** Start (ms) of the first 20 ms window whose RMS exceeds the threshold, or null. */
function onsetMs(samples: Int16Array | Uint8Array, fromMs = 0, threshold = 500): number | null {
  const pcm = samples instanceof Uint8Array ? Int16Array.from(samples, (b) => decodeMulawSample(b)) : samples;
  for (let w = Math.floor((fromMs * 8) / WINDOW) * WINDOW; w + WINDOW <= pcm.length; w += WINDOW) {
    let sum = 0;
    for (let i = w; i < w + WINDOW; i++) sum += (pcm[i] ?? 0) ** 2;
    if (Math.sqrt(sum / WINDOW) > threshold) return w / 8;
  }
  return null;
}

async function storedRecording(callSid: string, timeoutMs = 10_000): Promise<Uint8Array> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const obj = await env.MEDIA.get(recordingKey(callSid));
    if (obj) return new Uint8Array(await obj.arrayBuffer());
    if (Date.now() > deadline) throw new Error("no recording in R2");
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function waitEnded(callSid: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await callStub(callSid).inspect()).record?.snapshot.status !== "ended") {
    if (Date.now() > deadline) throw new Error("call did not end");
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitState(callSid: string, state: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await callStub(callSid).inspect()).record?.snapshot.state !== state) {
    if (Date.now() > deadline) throw new Error(`call did not reach ${state}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("call recording", () => {
  it("stores a stereo WAV of a whole booking call with caller and agent audio at the right offsets", async () => {
    const callSid = `CA${crypto.randomUUID().replace(/-/g, "")}`;
    await script(callSid, [
      "yes speaking",
      "yes we are looking at that this quarter",
      "the first one please",
    ]);
    const client = await TwilioMediaClient.call({
      callSid,
      query: "?flow=outbound-booking&var_first_name=Jo&var_email=jo%40example.co.uk",
    });
    await client.waitIdle();
    const firstAgentFrameAt = client.events.find((e) => e.event === "media")?.atMs ?? 0;
    // Caller: 3 s of silence, then the first answer (its onset inside the fixture measured below).
    const answer = fixture(speech["bc-okay"]);
    await client.silence(3_000);
    await client.say(answer);
    for (const state of ["qualify", "book"]) {
      await waitState(callSid, state);
      await client.waitIdle();
      await client.say(answer);
    }
    await waitEnded(callSid);

    const { record } = await callStub(callSid).inspect();
    const startedAtMs = record?.meta.startedAtMs ?? 0;
    const wav = parseWav(await storedRecording(callSid));
    expect(wav).toMatchObject({ format: "mulaw", channels: 2, sampleRate: 8000 });
    const [caller, agent] = wav.samples;
    if (!caller || !agent) throw new Error("missing channel");

    // Caller channel: silent until the caller spoke at 3 s (+ the fixture's own lead-in), ± 100 ms.
    const expectedCaller = 3_000 + (onsetMs(answer) ?? 0);
    const callerOnset = onsetMs(caller);
    expect(callerOnset).not.toBeNull();
    expect(Math.abs((callerOnset ?? 0) - expectedCaller)).toBeLessThanOrEqual(100);

    // Agent channel: the greeting from when its first frame was sent, at real-time length.
    const agentOnset = onsetMs(agent);
    expect(agentOnset).not.toBeNull();
    expect(Math.abs((agentOnset ?? 0) - (firstAgentFrameAt - startedAtMs))).toBeLessThanOrEqual(100);
    expect(wav.durationMs).toBeGreaterThan(expectedCaller);

    const trail = await auditTrail(callSid);
    const storedEvent = trail.find((e) => e.type === "recording_stored");
    expect(storedEvent?.payload).toMatchObject({
      key: recordingKey(callSid),
      durationMs: Math.round(wav.durationMs),
      bytes: (await env.MEDIA.head(recordingKey(callSid)))?.size,
    });
  });

  it("still stores what it had when the socket closes without a stop", async () => {
    const callSid = `CA${crypto.randomUUID().replace(/-/g, "")}`;
    await script(callSid, ["yes speaking"]);
    const client = await TwilioMediaClient.call({
      callSid,
      query: "?flow=outbound-booking&var_first_name=Jo",
    });
    await client.waitIdle();
    await client.say(fixture(speech["bc-okay"]));
    client.close();
    const wav = parseWav(await storedRecording(callSid));
    expect(wav.channels).toBe(2);
    expect(onsetMs(wav.samples[0] ?? new Int16Array(0))).not.toBeNull();
    expect(onsetMs(wav.samples[1] ?? new Int16Array(0))).not.toBeNull();
    const trail = await auditTrail(callSid);
    expect(trail.map((e) => e.type)).toContain("recording_stored");
  });

  it("uploads a long recording to R2 in equal parts with the header, sized at the end, in part 1", async () => {
    const key = recordingObjectKey(`CA${crypto.randomUUID().replace(/-/g, "")}`);
    const upload = new RecordingUpload(env.MEDIA, key);
    const recorder = new Recorder({ originMs: 0, onPart: (p) => upload.write(p) });
    const frame = new Uint8Array(160).fill(0x10);
    const seconds = 360; // 5.5 MiB of stereo µ-law: two parts
    for (let t = 0; t < seconds * 1000; t += 20) recorder.caller(frame, t);
    const { last, totals } = recorder.finish();
    const stored = await upload.finish(last, totals);
    expect(stored.parts).toBe(2);
    expect(totals.bytes).toBeGreaterThan(MIN_PART_BYTES);
    const obj = await env.MEDIA.get(key);
    const bytes = new Uint8Array((await obj?.arrayBuffer()) ?? new ArrayBuffer(0));
    expect(bytes.length).toBe(stored.bytes);
    const wav = parseWav(bytes);
    expect(wav).toMatchObject({
      format: "mulaw",
      channels: 2,
      frames: seconds * 8000,
      durationMs: seconds * 1000,
    });
    expect(wav.data[0]).toBe(0x10);
    expect(wav.data[wav.data.length - 2]).toBe(0x10);
  });
});
