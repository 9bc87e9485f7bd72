import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { decodeMulawSample } from "../../src/audio/mulaw";
import { parseWav } from "../../src/audio/wav";
import { recordingObjectKey } from "../../src/call/recording-store";
import { auditTrail, callStub } from "../support/audit";
import { fixture, scriptCaller, TwilioMediaClient } from "../support/twilio-media-client";

const speech = inject("speechFixtures");
const WINDOW = 160; // 20 ms at 8 kHz

/** Start (ms) of each burst of speech: a 20 ms window over the threshold after at least `gapMs` under it. */
function onsetsMs(track: Int16Array, gapMs = 1_000, threshold = 500): number[] {
  const out: number[] = [];
  let quietSince = 0;
  for (let w = 0; w + WINDOW <= track.length; w += WINDOW) {
    let sum = 0;
    for (let i = w; i < w + WINDOW; i++) sum += (track[i] ?? 0) ** 2;
    const loud = Math.sqrt(sum / WINDOW) > threshold;
    const atMs = w / 8;
    if (loud && (out.length === 0 || atMs - quietSince >= gapMs)) out.push(atMs);
    if (loud) quietSince = atMs;
  }
  return out;
}

/** Stereo frames the call's recording has made durable (spooled or uploaded) so far. */
async function durableFrames(callSid: string): Promise<number> {
  return runInDurableObject(callStub(callSid), (_instance, state) => {
    const row = state.storage.sql
      .exec<{ json: string }>("SELECT json FROM recording_state WHERE id = 1")
      .toArray()[0];
    return row ? (JSON.parse(row.json) as { emittedBytes: number }).emittedBytes / 2 : 0;
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("recording across a Durable Object eviction (security)", () => {
  it("still yields one complete recording when a deploy resets the object mid-call", async () => {
    const callSid = `CA${crypto.randomUUID().replace(/-/g, "")}`;
    await scriptCaller(callSid, ["yes speaking", "sorry say again", "hang on"]);
    const client = await TwilioMediaClient.call({
      callSid,
      query: "?flow=outbound-booking&var_first_name=Jo",
    });
    const answer = fixture(speech["bc-okay"]);
    await client.waitIdle();
    await client.silence(3_000);
    await client.say(answer);
    // Caller media goes on in real time until the first answer's start is durable (the recorder
    // holds only its last ~2 s in memory; what it emitted is in the object's storage).
    const lead = onsetsMs(Int16Array.from(answer, (x) => decodeMulawSample(x)))[0] ?? 0;
    while ((await durableFrames(callSid)) < (3_000 + lead + 500) * 8) await client.silence(100, 1);
    const evictedAtMs = (await durableFrames(callSid)) / 8;
    expect((await callStub(callSid).inspect()).record?.snapshot.status).toBe("active");

    // A deploy resets the object (in-memory state gone, nothing runs on) and drops the media socket;
    // Twilio follows the <Redirect> after </Connect> back to the voice webhook and opens a new stream.
    // (`evictDurableObject` waits for the call's provider sockets to drain, which they never do mid-call.)
    await runInDurableObject(callStub(callSid), (_instance, state) => state.abort("deploy")).catch(
      () => undefined,
    );
    await client.waitFor(() => client.closed !== null, 5_000, "the stream to drop");
    const resumed = await TwilioMediaClient.call({
      callSid,
      query: "?flow=outbound-booking&var_first_name=Jo",
    });
    await resumed.silence(1_000);
    await resumed.say(answer);
    await resumed.silence(1_000);
    await resumed.say(answer);
    await resumed.silence(500);
    resumed.stop();
    await until(
      "the end",
      async () => (await callStub(callSid).inspect()).record?.snapshot.status === "ended",
    );

    const trail = await auditTrail(callSid, 20_000);
    await until("the recording", async () => (await env.MEDIA.head(recordingObjectKey(callSid))) !== null);
    const stored = trail.filter((e) => e.type === "recording_stored");
    expect(stored).toHaveLength(1);
    const obj = await env.MEDIA.get(recordingObjectKey(callSid));
    const wav = parseWav(new Uint8Array((await obj?.arrayBuffer()) ?? new ArrayBuffer(0)));
    expect(wav).toMatchObject({ format: "mulaw", channels: 2, sampleRate: 8000 });
    expect(stored[0]?.payload).toMatchObject({ bytes: obj?.size, durationMs: Math.round(wav.durationMs) });

    const [caller, agent] = wav.samples;
    if (!caller || !agent) throw new Error("missing channel");
    const callerOnsets = onsetsMs(caller);
    // The answer before the eviction is where it was said, and the two after it follow it.
    expect(Math.abs((callerOnsets[0] ?? 0) - (3_000 + lead))).toBeLessThanOrEqual(100);
    expect(callerOnsets.filter((t) => t > evictedAtMs).length).toBeGreaterThanOrEqual(2);
    // The agent was recorded on both sides of the reset too.
    const agentOnsets = onsetsMs(agent);
    expect(agentOnsets.some((t) => t < evictedAtMs)).toBe(true);
    expect(agentOnsets.some((t) => t > evictedAtMs)).toBe(true);
    client.close();
  }, 60_000);
});
