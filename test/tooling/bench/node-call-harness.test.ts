import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScriptedCall } from "../../../src/tooling/bench/node-call-harness";
import { type EmulatorStack, startEmulatorStack } from "../../../src/tooling/emulators/stack";

let stack: EmulatorStack;

beforeAll(async () => {
  stack = await startEmulatorStack();
});

afterAll(async () => {
  await stack.close();
});

describe("runScriptedCall", () => {
  it("books a slot on the booking flow and records every turn's latency segments", async () => {
    const result = await runScriptedCall({
      stack,
      flowId: "outbound-booking",
      vars: { first_name: "Jo", email: "jo@example.co.uk" },
      utterances: ["yes speaking", "yes we are looking at that this quarter", "the first one please"],
      pace: 8,
      playbackSpeed: 20,
      maxCallMs: 25_000,
    });
    expect(result.timedOut).toBe(false);
    expect(result.path).toEqual(["greeting", "qualify", "book", "confirm", "close"]);
    expect(result.hangups).toHaveLength(1);
    expect(result.snapshot?.vars.slot).toBe(result.snapshot?.vars.slot_1);
    expect(result.turnRecords.map((t) => t.kind)).toEqual(["fast_path", "live", "fast_path"]);
    for (const t of result.turnRecords) {
      expect(Object.keys(t.segments)).toEqual(
        expect.arrayContaining(["endpointing", "decision", "audio", "send"]),
      );
      expect(t.record.firstFramePlayedMs).toBeDefined();
    }
    expect(result.frames.some((f) => f.event === "media")).toBe(true);
    expect(result.frames.filter((f) => f.event === "clear")).toHaveLength(0);
  });
});
