import { describe, expect, it } from "vitest";
import { getFlow } from "../../src/call/flows";
import { initialSnapshot, reopenAfterUnansweredTransfer } from "../../src/flow/interpreter";

const flow =
  getFlow("outbound-booking") ??
  (() => {
    throw new Error("flow missing");
  })();

describe("reopenAfterUnansweredTransfer", () => {
  const base = initialSnapshot(flow, { first_name: "Jo" }, 0);

  it("brings a caller nobody answered back to the flow's failure branch with a callback offer", () => {
    const ended = {
      ...base,
      status: "ended" as const,
      phase: "ended" as const,
      state: "put_through",
      endReason: "put_through",
    };
    const r = reopenAfterUnansweredTransfer(flow, ended, 1_000);
    expect(r).not.toBeNull();
    expect(r?.snapshot.status).toBe("active");
    const says = r?.effects.filter((e) => e.type === "say").map((e) => (e.type === "say" ? e.text : ""));
    expect(says?.[0]).toMatch(/nobody is free/);
    expect(r?.snapshot.state).toBe("capture_callback");
    expect(r?.effects.some((e) => e.type === "listen")).toBe(true);
  });

  it("refuses a call that ended any other way", () => {
    const hungUp = {
      ...base,
      status: "ended" as const,
      phase: "ended" as const,
      state: "close",
      endReason: "close",
    };
    expect(reopenAfterUnansweredTransfer(flow, hungUp, 1_000)).toBeNull();
    expect(reopenAfterUnansweredTransfer(flow, base, 1_000)).toBeNull();
  });
});
