import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MULAW_SILENCE } from "../../src/audio/mulaw";
import { parseWav } from "../../src/audio/wav";
import { getFlow } from "../../src/call/flows";
import { Recorder, recordingAllowed } from "../../src/call/recorder";
import { RecordingUpload } from "../../src/call/recording-store";

const ORIGIN = 1_700_000_000_000;
const FRAME = 160;

function frame(value: number): Uint8Array {
  return new Uint8Array(FRAME).fill(value);
}

/** Run a recorder, collecting parts, and split the whole output into caller and agent tracks. */
function collect(drive: (r: Recorder) => void, opts: { partBytes?: number } = {}) {
  const parts: Uint8Array[] = [];
  const r = new Recorder({ originMs: ORIGIN, onPart: (p) => parts.push(p), ...opts });
  drive(r);
  const { last, totals } = r.finish();
  const all = concat([...parts, last]);
  const caller = all.filter((_, i) => i % 2 === 0);
  const agent = all.filter((_, i) => i % 2 === 1);
  return { parts, last, totals, caller, agent };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Index of the first differing byte (or of the length mismatch), -1 when equal. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Index ranges (in samples) holding the value. */
function span(track: Uint8Array, value: number): [number, number] | null {
  const first = track.indexOf(value);
  if (first < 0) return null;
  return [first, track.lastIndexOf(value) + 1];
}

describe("Recorder", () => {
  it("places caller frames by media timestamp and fills gaps with µ-law silence", () => {
    const { caller, totals } = collect((r) => {
      r.caller(frame(0x10), 0);
      r.caller(frame(0x11), 100);
    });
    expect(totals.durationMs).toBe(120);
    expect(totals.frames).toBe(960);
    expect(totals.bytes).toBe(1920);
    expect(span(caller, 0x10)).toEqual([0, 160]);
    expect([...caller.subarray(160, 800)].every((b) => b === MULAW_SILENCE)).toBe(true);
    expect(span(caller, 0x11)).toEqual([800, 960]);
  });

  it("plays agent frames back to back from the send time (playhead), not at the burst's send time", () => {
    const { agent, caller } = collect((r) => {
      // Five frames sent in one burst 500 ms into the call play for 100 ms from 500 ms.
      for (let i = 0; i < 5; i++) r.agent(frame(0x20 + i), ORIGIN + 500);
      // A frame sent later than the playhead starts at its send time.
      r.agent(frame(0x30), ORIGIN + 1_000);
    });
    for (let i = 0; i < 5; i++) expect(span(agent, 0x20 + i)).toEqual([4_000 + i * 160, 4_160 + i * 160]);
    expect(span(agent, 0x30)).toEqual([8_000, 8_160]);
    expect(caller.every((b) => b === MULAW_SILENCE)).toBe(true);
  });

  it("drops agent audio after a clear and plays the next line from its own send time", () => {
    const { agent, totals } = collect((r) => {
      for (let i = 0; i < 50; i++) r.agent(frame(0x40), ORIGIN); // 1 s queued at 0
      r.cut(ORIGIN + 300); // caller barged in at 300 ms
      r.agent(frame(0x41), ORIGIN + 400);
    });
    expect(span(agent, 0x40)).toEqual([0, 2_400]);
    expect([...agent.subarray(2_400, 3_200)].every((b) => b === MULAW_SILENCE)).toBe(true);
    expect(span(agent, 0x41)).toEqual([3_200, 3_360]);
    expect(totals.durationMs).toBe(420);
  });

  it("stops for good when the caller objects: nothing after that moment is kept", () => {
    const { caller, agent, totals } = collect((r) => {
      r.caller(frame(0x50), 0);
      for (let i = 0; i < 25; i++) r.agent(frame(0x51), ORIGIN);
      r.stop(ORIGIN + 100);
      r.caller(frame(0x52), 200);
      r.agent(frame(0x53), ORIGIN + 200);
    });
    expect(totals.durationMs).toBe(100);
    expect(span(caller, 0x50)).toEqual([0, 160]);
    expect(span(agent, 0x51)).toEqual([0, 800]);
    expect(caller.includes(0x52)).toBe(false);
    expect(agent.includes(0x53)).toBe(false);
  });

  it("emits fixed-size parts as the call goes on, keeping only the unsettled tail in memory", () => {
    const partBytes = 16_000; // 1 s of stereo
    const { parts, last, totals, caller, agent } = collect(
      (r) => {
        for (let t = 0; t < 10_000; t += 20) {
          r.caller(frame(0x60), t);
          r.agent(frame(0x61), ORIGIN + t);
        }
      },
      { partBytes },
    );
    expect(parts.length).toBeGreaterThanOrEqual(7); // ~8 s settled before the end
    expect(parts.every((p) => p.length === partBytes)).toBe(true);
    expect(last.length).toBeLessThan(partBytes);
    expect(totals.durationMs).toBe(10_000);
    expect(caller.every((b) => b === 0x60)).toBe(true);
    expect(agent.every((b) => b === 0x61)).toBe(true);
  });

  it("keeps total stereo frames = duration × 8 and every frame where it belongs, for random sequences", () => {
    type Op =
      | { kind: "caller"; slot: number; v: number }
      | { kind: "agent"; atMs: number; v: number }
      | { kind: "cut"; atMs: number };
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("caller" as const),
        slot: fc.nat(150),
        v: fc.integer({ min: 0, max: 0x7f }),
      }),
      fc.record({
        kind: fc.constant("agent" as const),
        atMs: fc.nat(3_000),
        v: fc.integer({ min: 0, max: 0x7f }),
      }),
      fc.record({ kind: fc.constant("cut" as const), atMs: fc.nat(3_000) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), fc.integer({ min: 1, max: 40 }), (ops: Op[], k) => {
        // Media timestamps and the engine's clock only move forward, as on a live call.
        let clock = 0;
        const slots = ops.flatMap((o) => (o.kind === "caller" ? [o.slot] : [])).sort((a, b) => a - b);
        let nextSlot = 0;
        const sorted = ops.map((o) => {
          if (o.kind === "caller") return { ...o, slot: slots[nextSlot++] ?? o.slot };
          clock = Math.max(clock, o.atMs);
          return { ...o, atMs: clock };
        });
        // Model: caller frames at slot×20 ms; agent playhead with cuts.
        const callerModel = new Map<number, number>();
        const agentModel: { from: number; to: number; v: number }[] = [];
        let playhead = 0;
        let agentEnd = 0; // the agent track ends at its last frame, or at a cut inside it
        for (const o of sorted) {
          if (o.kind === "caller") for (let i = 0; i < FRAME; i++) callerModel.set(o.slot * FRAME + i, o.v);
          else if (o.kind === "agent") {
            const at = Math.max(playhead, o.atMs * 8);
            agentModel.push({ from: at, to: at + FRAME, v: o.v });
            playhead = at + FRAME;
            agentEnd = Math.max(agentEnd, playhead);
          } else {
            const at = o.atMs * 8;
            for (const seg of agentModel) seg.to = Math.max(seg.from, Math.min(seg.to, at));
            playhead = Math.min(playhead, at);
            agentEnd = Math.min(agentEnd, at);
          }
        }
        const { parts, caller, agent, totals } = collect(
          (r) => {
            for (const o of sorted) {
              if (o.kind === "caller") r.caller(frame(o.v), o.slot * 20);
              else if (o.kind === "agent") r.agent(frame(o.v), ORIGIN + o.atMs);
              else r.cut(ORIGIN + o.atMs);
            }
          },
          { partBytes: k * 320 },
        );
        expect(parts.every((p) => p.length === k * 320)).toBe(true);
        expect(totals.bytes).toBe(2 * totals.frames);
        expect(totals.frames).toBe(totals.durationMs * 8);
        expect(caller.length).toBe(totals.frames);
        const callerEnd = Math.max(0, ...[...callerModel.keys()].map((s) => s + 1));
        expect(totals.frames).toBe(Math.max(callerEnd, agentEnd));
        // A caller-only call lasts a whole number of 20 ms frames.
        if (agentModel.length === 0) expect(totals.durationMs % 20).toBe(0);
        const expectedCaller = new Uint8Array(totals.frames).fill(MULAW_SILENCE);
        for (const [at, v] of callerModel) if (at < totals.frames) expectedCaller[at] = v;
        expect(firstDifference(caller, expectedCaller)).toBe(-1);
        const expectedAgent = new Uint8Array(totals.frames).fill(MULAW_SILENCE);
        for (const seg of agentModel) expectedAgent.fill(seg.v, seg.from, seg.to);
        expect(firstDifference(agent, expectedAgent)).toBe(-1);
      }),
      { numRuns: 100 },
    );
  });
});

describe("recording consent rule", () => {
  it("allows recording for flows whose opening state gives the recording notice", () => {
    const flow = getFlow("outbound-booking");
    expect(flow).toBeDefined();
    if (!flow) return;
    expect(recordingAllowed(flow)).toBe(true);
    const silent = { ...flow, states: { ...flow.states, [flow.initial]: { say: "Hello." } } };
    expect(recordingAllowed(silent as typeof flow)).toBe(false);
  });
});

describe("RecordingUpload", () => {
  /** An in-memory R2 slice that enforces equal part sizes like R2 does. */
  function fakeBucket() {
    const objects = new Map<string, Uint8Array>();
    const bucket = {
      put: async (key: string, value: Uint8Array) => {
        objects.set(key, value.slice());
        return null;
      },
      createMultipartUpload: async (key: string) => {
        const parts = new Map<number, Uint8Array>();
        return {
          uploadPart: async (partNumber: number, value: Uint8Array) => {
            parts.set(partNumber, value.slice());
            return { partNumber, etag: `e${partNumber}` };
          },
          complete: async (list: { partNumber: number }[]) => {
            const ordered = list.map((p) => parts.get(p.partNumber) ?? new Uint8Array(0));
            const sizes = ordered.slice(0, -1).map((p) => p.length);
            if (new Set(sizes).size > 1) throw new Error("parts differ in size");
            objects.set(key, new Uint8Array(ordered.flatMap((p) => [...p])));
          },
          abort: async () => undefined,
        };
      },
    };
    return { objects, bucket: bucket as unknown as R2Bucket };
  }

  it.each([
    ["a single put", 1_000, 1_000],
    ["a multipart upload with the header in part 1", 20_000, 1_000],
    ["a multipart upload when all data arrives at the end", 6_000, 1 << 20],
  ])("writes a valid stereo µ-law WAV with %s", async (_, callerFrames, recorderPart) => {
    const { objects, bucket } = fakeBucket();
    const upload = new RecordingUpload(bucket, "recordings/CA1.wav", 4_096);
    const r = new Recorder({ originMs: ORIGIN, onPart: (p) => upload.write(p), partBytes: recorderPart });
    for (let i = 0; i < callerFrames; i += FRAME) r.caller(frame(0x70), (i / FRAME) * 20);
    r.agent(frame(0x71), ORIGIN);
    const { last, totals } = r.finish();
    const stored = await upload.finish(last, totals);
    const bytes = objects.get("recordings/CA1.wav");
    expect(bytes?.length).toBe(stored.bytes);
    const wav = parseWav(bytes ?? new Uint8Array(0));
    expect(wav).toMatchObject({ format: "mulaw", channels: 2, sampleRate: 8000, frames: totals.frames });
    expect(stored.durationMs).toBe(Math.round(totals.durationMs));
    expect(stored.parts > 1).toBe(callerFrames > 4_000);
    expect(wav.data[0]).toBe(0x70);
    expect(wav.data[1]).toBe(0x71);
  });
});
