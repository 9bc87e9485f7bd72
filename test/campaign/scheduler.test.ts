import { describe, expect, it } from "vitest";
import { afterAttempt, dialSpacingMs, nextDials, type SchedulerState } from "../../src/campaign/scheduler";
import { nextWindowOpenMs } from "../../src/campaign/window";
import { UK_DEFAULT_CALLING_WINDOW } from "../../src/flow/time";
import { CampaignHarness, lead } from "./harness";

/** Tuesday 1 December 2026, 10:00 London (GMT). */
const TUE_10 = Date.parse("2026-12-01T10:00:00Z");

function state(over: Partial<SchedulerState> = {}): SchedulerState {
  return {
    running: true,
    maxConcurrentCalls: 2,
    pacingPerMinute: 6,
    callingWindow: UK_DEFAULT_CALLING_WINDOW,
    inFlight: 0,
    recentDialsMs: [],
    leads: [
      { id: "a", timeZone: "Europe/London", status: "pending", nextAtMs: 0, order: 0 },
      { id: "b", timeZone: "Europe/London", status: "pending", nextAtMs: 0, order: 1 },
    ],
    ...over,
  };
}

describe("nextDials", () => {
  it("dials one lead per spacing interval, in list order", () => {
    const plan = nextDials(state(), TUE_10);
    expect(plan).toMatchObject({ budget: 1, candidates: ["a", "b"], blockedBy: null });
    expect(plan.wakeAtMs).toBe(TUE_10 + dialSpacingMs(6));
    const soon = nextDials(state({ recentDialsMs: [TUE_10] }), TUE_10 + 1_000);
    expect(soon).toMatchObject({ budget: 0, blockedBy: "pace", wakeAtMs: TUE_10 + 10_000 });
  });

  it("waits for a free line when every line is busy", () => {
    const plan = nextDials(state({ inFlight: 2 }), TUE_10);
    expect(plan).toMatchObject({ budget: 0, blockedBy: "concurrency", wakeAtMs: null });
  });

  it("dials nobody while paused", () => {
    expect(nextDials(state({ running: false }), TUE_10)).toMatchObject({ budget: 0, blockedBy: "paused" });
  });

  it("stops at the window's end and wakes when it opens again, in each lead's own zone", () => {
    const before = Date.parse("2026-12-01T20:59:30Z");
    expect(nextDials(state(), before).budget).toBe(1);
    const atEnd = Date.parse("2026-12-01T21:00:00Z");
    const plan = nextDials(state(), atEnd);
    expect(plan).toMatchObject({ budget: 0, blockedBy: "window", candidates: [] });
    expect(plan.wakeAtMs).toBe(Date.parse("2026-12-02T08:00:00Z"));
    // 21:00 in London is 16:00 in New York: that lead is still in its window.
    const ny = state({
      leads: [{ id: "ny", timeZone: "America/New_York", status: "pending", nextAtMs: 0, order: 0 }],
    });
    expect(nextDials(ny, atEnd).candidates).toEqual(["ny"]);
  });

  it("never calls on a Sunday or a bank holiday by default", () => {
    const sunday = Date.parse("2026-12-06T12:00:00Z");
    expect(nextDials(state(), sunday).wakeAtMs).toBe(Date.parse("2026-12-07T08:00:00Z"));
    const christmas = Date.parse("2026-12-25T12:00:00Z");
    // 26th is a Saturday (open), the 28th is the substitute Boxing Day.
    expect(nextWindowOpenMs(christmas, "Europe/London", UK_DEFAULT_CALLING_WINDOW)).toBe(
      Date.parse("2026-12-26T08:00:00Z"),
    );
    const boxingSub = Date.parse("2026-12-27T22:00:00Z");
    expect(nextWindowOpenMs(boxingSub, "Europe/London", UK_DEFAULT_CALLING_WINDOW)).toBe(
      Date.parse("2026-12-29T08:00:00Z"),
    );
  });

  it("opens at local 08:00 across a clock change (BST)", () => {
    const satNight = Date.parse("2026-03-28T22:00:00Z"); // clocks go forward on Sunday 29 March
    expect(nextWindowOpenMs(satNight, "Europe/London", UK_DEFAULT_CALLING_WINDOW)).toBe(
      Date.parse("2026-03-30T07:00:00Z"),
    );
  });
});

describe("afterAttempt", () => {
  const policy = { maxAttempts: 2, delayMs: 3_600_000 };
  it("retries no-answer and busy after the delay, never beyond the limit", () => {
    expect(afterAttempt({ end: "no-answer", attempts: 1, answeredBy: null }, policy, 0)).toEqual({
      status: "pending",
      nextAtMs: 3_600_000,
    });
    expect(afterAttempt({ end: "busy", attempts: 2, answeredBy: null }, policy, 0)).toEqual({
      status: "done",
      result: "busy",
    });
  });
  it("never retries an answered, failed or stale attempt", () => {
    expect(
      afterAttempt({ end: "completed", attempts: 1, answeredBy: "machine_end_beep" }, policy, 0),
    ).toEqual({
      status: "done",
      result: "voicemail",
    });
    expect(afterAttempt({ end: "failed", attempts: 1, answeredBy: null }, policy, 0)).toMatchObject({
      status: "done",
    });
    expect(afterAttempt({ end: "stale", attempts: 1, answeredBy: null }, policy, 0)).toMatchObject({
      status: "done",
    });
  });
});

describe("dialer tick", () => {
  it("records caller ID and consent for every attempt in the audit outbox, and the dial params", async () => {
    const h = new CampaignHarness(TUE_10, { pacingPerMinute: 60 });
    h.addLeads([lead("+447700900001", { timezone: "Europe/London" })]);
    h.store.setStatus("running", TUE_10);
    await h.tick();
    expect(h.calls).toHaveLength(1);
    const p = h.calls[0]?.params;
    const voice = new URL(p?.url ?? "");
    expect(voice.searchParams.get("campaign")).toBe("cmp_00000000000000000001");
    // No personal data on the answer URL (Twilio logs it): the lead id only.
    expect(voice.searchParams.get("var_lead_id")).toMatch(/^ld_/);
    for (const k of ["var_first_name", "var_email", "var_time_zone"])
      expect(voice.searchParams.has(k)).toBe(false);
    expect(voice.toString()).not.toContain("+447700900001");
    expect(p?.amd).toMatchObject({ mode: "DetectMessageEnd", async: true });
    expect(p?.statusCallback).toBe(
      "https://agent.example/twilio/campaign-status?campaign=cmp_00000000000000000001",
    );
    const events = h.outbox.takeBatch(100);
    const attempt = events.find((e) => e.type === "campaign.attempt");
    expect(attempt?.payload).toMatchObject({
      phone: "+447700900001",
      callerId: "+442071234567",
      consent: { given: true, text: "Call me about my quote" },
    });
    expect(events.some((e) => e.type === "consent.recorded")).toBe(true);
    expect(events.find((e) => e.type === "campaign.attempt_dialled")?.payload).toMatchObject({
      callSid: h.calls[0]?.sid,
    });
  });

  it("does not dial when the do-not-call check fails, and skips leads without consent", async () => {
    const h = new CampaignHarness(TUE_10, { pacingPerMinute: 60 });
    h.addLeads([lead("+447700900002", { consent: { given: false, text: "" } }), lead("+447700900003")]);
    h.store.setStatus("running", TUE_10);
    h.checkFails = true;
    await h.tick();
    expect(h.calls).toHaveLength(0);
    expect(h.store.progress()).toMatchObject({ noConsent: 1, pending: 1, dialed: 0 });
    h.checkFails = false;
    h.nowMs += 61_000;
    await h.tick();
    expect(h.calls.map((c) => c.params.to)).toEqual(["+447700900003"]);
  });

  it("closes attempts, retries a no-answer after the delay, and reports progress", async () => {
    const h = new CampaignHarness(TUE_10, {
      pacingPerMinute: 60,
      retry: { maxAttempts: 2, delayMs: 600_000 },
    });
    h.addLeads([lead("+447700900004"), lead("+447700900005")]);
    h.store.setStatus("running", TUE_10);
    await h.tick();
    h.nowMs += 1_000;
    await h.tick();
    expect(h.calls).toHaveLength(2);
    const [first, second] = h.calls;
    if (!first || !second) throw new Error("expected two calls");
    h.store.recordAmd(second.sid, "machine_end_beep", h.nowMs);
    h.end(first.sid, "no-answer");
    h.end(second.sid, "completed");
    expect(h.store.progress()).toMatchObject({
      dialed: 2,
      voicemail: 1,
      answered: 0,
      pending: 1,
      inFlight: 0,
    });
    h.nowMs += 599_000;
    await h.tick();
    expect(h.calls).toHaveLength(2);
    h.nowMs += 1_000;
    const tick = await h.tick();
    expect(tick.dialled).toHaveLength(1);
    const retry = h.calls[2];
    if (!retry) throw new Error("expected a retry");
    h.end(retry.sid, "no-answer");
    h.nowMs += 3_600_000;
    await h.tick();
    expect(h.calls).toHaveLength(3);
    expect(h.store.progress()).toMatchObject({ dialed: 3, unreachable: 1, pending: 0 });
  });
});
