import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatSlotForSpeech } from "../../src/flow/time";
import { ACTION_NAMES } from "../../src/integrations/action-schemas";
import {
  type ActionDeps,
  type CallControl,
  DEFAULT_ACTION_BUDGET_MS,
  runAction,
  type SuppressionStore,
} from "../../src/integrations/actions";
import { createCalcomClient } from "../../src/integrations/calcom";
import { createHubspotClient } from "../../src/integrations/hubspot";
import { createSlackClient } from "../../src/integrations/slack";
import { type CalcomEmulator, startCalcomEmulator } from "../../src/tooling/emulators/calcom";
import { type HubspotEmulator, startHubspotEmulator } from "../../src/tooling/emulators/hubspot";
import { type SlackEmulator, startSlackEmulator } from "../../src/tooling/emulators/slack";

// Monday 2 March 2026, 08:00 London.
const NOW = Date.parse("2026-03-02T08:00:00Z");

let cal: CalcomEmulator;
let hs: HubspotEmulator;
let sl: SlackEmulator;
const suppressed: unknown[] = [];
const transfers: unknown[] = [];

class MemorySuppressions implements SuppressionStore {
  async add(entry: unknown) {
    suppressed.push(entry);
  }
}
class RecordingCallControl implements CallControl {
  async transfer(q: unknown) {
    transfers.push(q);
  }
}

function deps(over: Partial<ActionDeps> = {}): ActionDeps {
  const slack = createSlackClient({ webhookUrl: sl.webhookUrl });
  return {
    callSid: "CA123",
    calleePhone: "+447700900123",
    config: { eventTypeId: 1, defaultTimeZone: "Europe/London", transferNumber: "+442079460000" },
    calendar: createCalcomClient({ apiKey: "cal_test_key", baseUrl: cal.url }),
    crm: createHubspotClient({ accessToken: "hs_test_token", baseUrl: hs.url }),
    chat: { notify: (text, signal) => slack.postWebhook({ text }, signal) },
    suppressions: new MemorySuppressions(),
    callControl: new RecordingCallControl(),
    formatSlot: (iso, tz) => `spoken(${iso},${tz})`,
    nowMs: () => NOW,
    ...over,
  };
}

beforeEach(async () => {
  cal = await startCalcomEmulator({ nowMs: () => NOW });
  hs = await startHubspotEmulator();
  sl = await startSlackEmulator();
  suppressed.length = 0;
  transfers.length = 0;
});
afterEach(async () => {
  await Promise.all([cal.close(), hs.close(), sl.close()]);
});

describe("runAction", () => {
  it("proposes the first two working-hour slots as instants, with spoken phrasing alongside", async () => {
    const res = await runAction("cal.com:propose_slots", {}, deps());
    expect(res).toEqual({
      ok: true,
      data: {
        slot_1: "2026-03-02T09:00:00.000+00:00",
        slot_1_iso: "2026-03-02T09:00:00.000+00:00",
        slot_1_spoken: "spoken(2026-03-02T09:00:00.000+00:00,Europe/London)",
        slot_2: "2026-03-02T09:30:00.000+00:00",
        slot_2_iso: "2026-03-02T09:30:00.000+00:00",
        slot_2_spoken: "spoken(2026-03-02T09:30:00.000+00:00,Europe/London)",
      },
    });
  });

  it("narrows proposals to the day and part of day the caller asked for", async () => {
    const res = await runAction("cal.com:propose_slots", { preferred_time: "Tuesday afternoon" }, deps());
    expect(res.ok).toBe(true);
    if (res.ok) {
      const local = new Date(res.data.slot_1 ?? "");
      expect(local.getUTCDay()).toBe(2);
      expect(local.getUTCHours()).toBeGreaterThanOrEqual(12);
    }
  });

  it("phrases slots with the flow engine's time module by default", async () => {
    const res = await runAction("cal.com:propose_slots", {}, deps({ formatSlot: undefined }));
    const expected = formatSlotForSpeech("2026-03-02T09:00:00.000+00:00", "Europe/London", NOW);
    expect(expected).toMatch(/^today .*nine/);
    expect(res.ok && res.data.slot_1_spoken).toBe(expected);
  });

  it("answers no_slots when the calendar has nothing in working hours", async () => {
    const d = deps();
    d.config = { ...d.config, workingHours: { days: ["sun"], start: "09:00", end: "10:00" }, horizonDays: 3 };
    expect(await runAction("cal.com:propose_slots", {}, d)).toEqual({
      ok: true,
      outcome: "no_slots",
      data: {},
    });
  });

  it("takes the failure branch within its budget when the calendar is slow", async () => {
    cal.setLatency(5_000);
    const d = deps();
    d.config = { ...d.config, budgetsMs: { "cal.com:propose_slots": 300 } };
    const t0 = Date.now();
    const res = await runAction("cal.com:propose_slots", {}, d);
    const elapsed = Date.now() - t0;
    expect(res).toEqual({ ok: false, error: "timeout", retryable: true });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(450);
  });

  it("returns at the budget even when a port ignores its abort signal", async () => {
    const d = deps({
      suppressions: { add: () => new Promise<void>(() => undefined) },
    });
    d.config = { ...d.config, budgetsMs: { "crm:add_suppression": 150 } };
    const t0 = Date.now();
    expect(await runAction("crm:add_suppression", {}, d)).toEqual({
      ok: false,
      error: "timeout",
      retryable: true,
    });
    expect(Date.now() - t0).toBeLessThan(300);
  });

  it("has a 2 s default budget", () => {
    expect(DEFAULT_ACTION_BUDGET_MS).toBe(2_000);
  });

  it("books a proposed slot, and reports a taken slot as a non-retryable failure", async () => {
    const params = { slot_iso: "2026-03-02T10:00:00Z", name: "Jo Bloggs", email: "Jo@Example.co.uk" };
    const res = await runAction("cal.com:create_booking", params, deps());
    expect(res.ok).toBe(true);
    if (res.ok) {
      expect(res.data.booking_uid).toBe(cal.bookings()[0]?.uid);
      expect(res.data.booked_start).toBe("2026-03-02T10:00:00.000Z");
      expect(res.data.booked_start_spoken).toBe("spoken(2026-03-02T10:00:00.000Z,Europe/London)");
    }
    expect(cal.bookings()[0]?.metadata).toEqual({ callSid: "CA123" });
    expect(cal.bookings()[0]?.attendees[0]).toMatchObject({
      email: "jo@example.co.uk",
      phoneNumber: "+447700900123",
    });
    const again = await runAction(
      "cal.com:create_booking",
      { ...params, email: "other@example.com" },
      deps(),
    );
    expect(again).toMatchObject({
      ok: false,
      retryable: false,
      error: expect.stringMatching(/^slot_unavailable/),
    });
  });

  it("creates the CRM contact and meeting", async () => {
    const res = await runAction(
      "crm:create_meeting",
      { slot_iso: "2026-03-02T10:00:00Z", email: "jo@example.co.uk", name: "Jo Bloggs", booking_uid: "abc" },
      deps(),
    );
    expect(res.ok).toBe(true);
    expect(hs.contacts()[0]?.properties).toMatchObject({
      firstname: "Jo",
      lastname: "Bloggs",
      phone: "+447700900123",
    });
    expect(hs.meetings()[0]?.properties).toMatchObject({
      hs_meeting_start_time: "2026-03-02T10:00:00.000Z",
      hs_meeting_end_time: "2026-03-02T10:30:00.000Z",
    });
  });

  it("suppresses the callee, transfers to the configured number and notifies chat", async () => {
    expect(
      await runAction("crm:add_suppression", { reason: "asked not to be called" }, deps()),
    ).toMatchObject({ ok: true });
    expect(suppressed).toEqual([
      { phone: "+447700900123", reason: "asked not to be called", source: "call", callSid: "CA123" },
    ]);
    expect(await runAction("transfer_to_human", {}, deps())).toEqual({
      ok: true,
      data: { transferred_to: "+442079460000" },
    });
    expect(transfers).toEqual([{ callSid: "CA123", to: "+442079460000" }]);
    expect(await runAction("chat:notify", { text: "Caller wants a human" }, deps())).toMatchObject({
      ok: true,
    });
    expect(sl.messages()[0]?.text).toBe("Caller wants a human");
  });

  it("composes a chat line from a flow's queue, template and fields", async () => {
    const res = await runAction(
      "chat:notify",
      { queue: "morning-handoff", template: "out of hours lead", name: "Jo", caller_number: "+447700900123" },
      deps(),
    );
    expect(res.ok).toBe(true);
    expect(sl.messages().at(-1)?.text).toBe(
      "[morning-handoff] out of hours lead: name: Jo, caller number: +447700900123",
    );
  });

  it("records a free-text call-back time as a CRM note rather than inventing a meeting time", async () => {
    const res = await runAction(
      "crm:create_meeting",
      { subject: "Call back", when: "after five tomorrow", email: "jo@example.co.uk" },
      deps(),
    );
    expect(res).toMatchObject({ ok: true, data: { note_id: expect.any(String) } });
    expect(hs.meetings()).toHaveLength(0);
    expect(JSON.stringify(hs.notes().at(-1)?.properties)).toContain("after five tomorrow");
  });

  it("rejects unknown actions, bad params and extra params without calling anything", async () => {
    expect(await runAction("cal.com:delete_everything", {}, deps())).toMatchObject({
      ok: false,
      retryable: false,
    });
    expect(await runAction("cal.com:create_booking", { slot_iso: "tomorrow" }, deps())).toMatchObject({
      ok: false,
      retryable: false,
      error: expect.stringContaining("invalid params"),
    });
    expect(await runAction("chat:notify", { text: "hi", channel: "#general" }, deps())).toMatchObject({
      ok: false,
    });
    expect(cal.requests()).toHaveLength(0);
    expect(sl.requests()).toHaveLength(0);
  });

  it("fails cleanly when a port is not configured or throws something odd", async () => {
    expect(await runAction("transfer_to_human", {}, deps({ callControl: undefined }))).toEqual({
      ok: false,
      error: "call control not configured",
      retryable: false,
    });
    const weird = deps({
      chat: {
        notify: () => {
          throw "not an error object";
        },
      },
    });
    expect(await runAction("chat:notify", { text: "x" }, weird)).toMatchObject({
      ok: false,
      error: "internal_error",
    });
  });

  it("answers promptly when the caller aborts (barge-in / hang-up)", async () => {
    cal.setLatency(5_000);
    const ctrl = new AbortController();
    setTimeout(() => ctrl.abort(), 50);
    const t0 = Date.now();
    expect(await runAction("cal.com:propose_slots", {}, deps(), ctrl.signal)).toEqual({
      ok: false,
      error: "aborted",
      retryable: false,
    });
    expect(Date.now() - t0).toBeLessThan(300);
  });

  it("never throws, whatever the name and params", async () => {
    const failing = deps({
      calendar: {
        getSlots: () => Promise.reject(new Error("boom")),
        createBooking: () => Promise.reject(new Error("boom")),
      },
      crm: undefined,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom(...ACTION_NAMES), fc.string()),
        fc.anything(),
        async (name, params) => {
          const res = await runAction(name, params, failing);
          expect(typeof res.ok).toBe("boolean");
        },
      ),
      { numRuns: 200 },
    );
  });
});
