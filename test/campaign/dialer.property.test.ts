import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PACE_WINDOW_MS } from "../../src/campaign/scheduler";
import { callingWindowStatus, UK_DEFAULT_CALLING_WINDOW } from "../../src/flow/time";
import { CampaignHarness, lead } from "./harness";

const ZONES = ["Europe/London", "America/New_York", "Asia/Kolkata"] as const;

const scenario = fc.record({
  // Anywhere in a fortnight of December 2026 (weekends and a bank holiday included), any time of day.
  startMs: fc.integer({ min: Date.parse("2026-12-14T00:00:00Z"), max: Date.parse("2026-12-28T00:00:00Z") }),
  leads: fc.array(
    fc.record({ n: fc.integer({ min: 0, max: 29 }), zone: fc.constantFrom(...ZONES), consent: fc.boolean() }),
    { minLength: 1, maxLength: 25 },
  ),
  // Opt-outs land at random moments: before the campaign, during it, or inside a do-not-call check.
  optOuts: fc.array(
    fc.record({
      n: fc.integer({ min: 0, max: 29 }),
      afterMs: fc.integer({ min: 0, max: 6 * 3_600_000 }),
      midCheck: fc.boolean(),
    }),
    { maxLength: 12 },
  ),
  outcomes: fc.array(
    fc.record({
      status: fc.constantFrom("completed", "busy", "no-answer", "failed") as fc.Arbitrary<
        "completed" | "busy" | "no-answer" | "failed"
      >,
      // Shorter than the harness's stale-attempt limit (15 min), which closes silent attempts on its own.
      durationMs: fc.integer({ min: 5_000, max: 14 * 60_000 }),
    }),
    { minLength: 1, maxLength: 20 },
  ),
  maxConcurrentCalls: fc.integer({ min: 1, max: 4 }),
  pacingPerMinute: fc.integer({ min: 1, max: 12 }),
  maxAttempts: fc.integer({ min: 1, max: 3 }),
});

const phoneOf = (n: number) => `+4477009${String(n).padStart(5, "0")}`;

describe("campaign dialer over random leads, opt-outs and outcomes", () => {
  it("never dials a suppressed number, keeps pace and concurrency, stays in each lead's window and within the retry limit", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const h = new CampaignHarness(s.startMs, {
          maxConcurrentCalls: s.maxConcurrentCalls,
          pacingPerMinute: s.pacingPerMinute,
          retry: { maxAttempts: s.maxAttempts, delayMs: 600_000 },
        });
        const zoneOf = new Map<string, string>();
        const consentOf = new Map<string, boolean>();
        h.addLeads(
          s.leads.map((l) => {
            const phone = phoneOf(l.n);
            if (!zoneOf.has(phone)) zoneOf.set(phone, l.zone);
            if (!consentOf.has(phone)) consentOf.set(phone, l.consent);
            return lead(phone, {
              timezone: l.zone,
              consent: { given: l.consent, text: l.consent ? "yes" : "" },
            });
          }),
        );
        const pendingOptOuts = s.optOuts.map((o) => ({
          ...o,
          phone: phoneOf(o.n),
          atMs: s.startMs + o.afterMs,
        }));
        // An opt-out due "mid check" lands while the check for that very number is running.
        h.duringCheck = (phone) => {
          for (const o of pendingOptOuts)
            if (o.midCheck && o.phone === phone && o.atMs <= h.nowMs) h.suppressed.add(phone);
        };
        h.store.setStatus("running", s.startMs);
        const ends: { sid: string; atMs: number; status: "completed" | "busy" | "no-answer" | "failed" }[] =
          [];
        const dialledAt: number[] = [];
        const endMs = s.startMs + 8 * 3_600_000;
        let wake: number | null = s.startMs;
        for (let steps = 0; steps < 2_000; steps++) {
          const nextEnd = ends.reduce((m, e) => Math.min(m, e.atMs), Number.POSITIVE_INFINITY);
          const nextWake = wake ?? Number.POSITIVE_INFINITY;
          const t = Math.min(nextEnd, nextWake);
          if (t > endMs) break;
          h.nowMs = Math.max(h.nowMs, t);
          for (const o of pendingOptOuts) if (!o.midCheck && o.atMs <= h.nowMs) h.suppressed.add(o.phone);
          for (const e of ends.filter((x) => x.atMs <= h.nowMs)) h.end(e.sid, e.status);
          for (let i = ends.length - 1; i >= 0; i--) if ((ends[i]?.atMs ?? 0) <= h.nowMs) ends.splice(i, 1);
          const before = h.calls.length;
          const tick = await h.tick();
          for (const call of h.calls.slice(before)) {
            const phone = call.params.to;
            // A number suppressed by the time of the dial is never dialled.
            expect(h.suppressed.has(phone)).toBe(false);
            const tz = zoneOf.get(phone) ?? "Europe/London";
            expect(callingWindowStatus(call.atMs, tz, UK_DEFAULT_CALLING_WINDOW).open).toBe(true);
            dialledAt.push(call.atMs);
            const o = s.outcomes[h.calls.indexOf(call) % s.outcomes.length] ?? {
              status: "completed",
              durationMs: 60_000,
            };
            ends.push({ sid: call.sid, atMs: call.atMs + o.durationMs, status: o.status });
          }
          expect(ends.length).toBeLessThanOrEqual(s.maxConcurrentCalls);
          expect(h.store.progress()?.inFlight).toBe(ends.length);
          wake = tick.wakeAtMs === null ? null : Math.max(tick.wakeAtMs, h.nowMs + 1);
        }
        // Pace: no 60 s window holds more dials than the campaign allows.
        for (const t of dialledAt) {
          expect(dialledAt.filter((u) => u >= t && u < t + PACE_WINDOW_MS).length).toBeLessThanOrEqual(
            s.pacingPerMinute,
          );
        }
        // Never more attempts per number than the policy allows; never a lead without consent.
        const perPhone = new Map<string, number>();
        for (const c of h.calls) perPhone.set(c.params.to, (perPhone.get(c.params.to) ?? 0) + 1);
        for (const n of perPhone.values()) expect(n).toBeLessThanOrEqual(s.maxAttempts);
        for (const phone of perPhone.keys()) expect(consentOf.get(phone)).toBe(true);
      }),
      { numRuns: 60 },
    );
  }, 120_000);

  it("keeps the configured pace when leads and lines are plentiful", async () => {
    const start = Date.parse("2026-12-01T10:00:00Z");
    const h = new CampaignHarness(start, { maxConcurrentCalls: 100, pacingPerMinute: 6 });
    h.addLeads(Array.from({ length: 40 }, (_, i) => lead(phoneOf(i))));
    h.store.setStatus("running", start);
    let wake: number | null = start;
    while (wake !== null && wake < start + 5 * 60_000) {
      h.nowMs = wake;
      wake = (await h.tick()).wakeAtMs;
    }
    // Five minutes at six a minute, evenly spaced ten seconds apart.
    expect(h.calls).toHaveLength(30);
    const gaps = h.calls.slice(1).map((c, i) => c.atMs - (h.calls[i]?.atMs ?? 0));
    expect(new Set(gaps)).toEqual(new Set([10_000]));
  });
});
