// Property tests: the time spoken for a slot is the slot's local wall time in the callee's zone, across DST changes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatSlotForSpeech, instantFromLocal, localParts } from "../../src/flow/time";
import { parseSpokenSlot, referenceLocal } from "./spoken-time";

const ZONES = [
  "Europe/London",
  "Europe/Dublin",
  "Europe/Paris",
  "America/New_York",
  "Australia/Sydney",
  "Asia/Kolkata",
  "America/St_Johns",
  "UTC",
];
const MIN_MS = Date.parse("2024-01-01T00:00:00Z");
const MAX_MS = Date.parse("2030-12-31T00:00:00Z");

/** UK clock changes 2024-2030: last Sunday of March and October, 01:00 UTC. */
const UK_CHANGES = [2024, 2025, 2026, 2027, 2028, 2029, 2030].flatMap((y) =>
  [2, 9].map((month) => {
    const last = new Date(Date.UTC(y, month + 1, 0));
    return Date.UTC(y, month, last.getUTCDate() - last.getUTCDay(), 1);
  }),
);

const minuteInstant = fc.integer({ min: MIN_MS / 60_000, max: MAX_MS / 60_000 }).map((m) => m * 60_000);
const nearUkChange = fc
  .tuple(fc.constantFrom(...UK_CHANGES), fc.integer({ min: -180, max: 180 }))
  .map(([t, m]) => t + m * 60_000);
const instant = fc.oneof(minuteInstant, nearUkChange);

describe("slot phrasing properties", () => {
  it("spoken day, date and time equal the instant's local wall time in the zone", () => {
    fc.assert(
      fc.property(instant, fc.constantFrom(...ZONES), (ms, tz) => {
        const spoken = parseSpokenSlot(formatSlotForSpeech(new Date(ms).toISOString(), tz));
        const ref = referenceLocal(ms, tz);
        expect({
          h: spoken.hour,
          mi: spoken.minute,
          d: spoken.day,
          mo: spoken.month,
          wd: spoken.weekday,
        }).toEqual({
          h: ref.h,
          mi: ref.mi,
          d: ref.d,
          mo: ref.mo,
          wd: ref.wd,
        });
      }),
      { numRuns: 400 },
    );
  });

  it("relative phrasing (today / tomorrow / this month) still names the right local day and time", () => {
    fc.assert(
      fc.property(
        instant,
        fc.integer({ min: 0, max: 40 * 24 * 60 }),
        fc.constantFrom(...ZONES),
        (now, aheadMin, tz) => {
          const slot = now + aheadMin * 60_000;
          const spoken = parseSpokenSlot(formatSlotForSpeech(new Date(slot).toISOString(), tz, now));
          const ref = referenceLocal(slot, tz);
          const today = referenceLocal(now, tz);
          expect([spoken.hour, spoken.minute]).toEqual([ref.h, ref.mi]);
          if (spoken.relative === "today")
            expect([ref.y, ref.mo, ref.d]).toEqual([today.y, today.mo, today.d]);
          else if (spoken.relative === "tomorrow") {
            const next = new Date(Date.UTC(today.y, today.mo - 1, today.d + 1));
            expect([ref.y, ref.mo, ref.d]).toEqual([
              next.getUTCFullYear(),
              next.getUTCMonth() + 1,
              next.getUTCDate(),
            ]);
          } else {
            expect(spoken.day).toBe(ref.d);
            expect(spoken.weekday).toBe(ref.wd);
            expect(spoken.month ?? today.mo).toBe(ref.mo);
            if (spoken.month === undefined) expect(ref.y).toBe(today.y);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("local wall time -> instant -> local wall time round-trips (or the time falls in a DST gap)", () => {
    fc.assert(
      fc.property(instant, fc.constantFrom(...ZONES), (ms, tz) => {
        const p = localParts(ms, tz);
        const local = { year: p.year, month: p.month, day: p.day, hour: p.hour, minute: p.minute };
        const back = instantFromLocal(local, tz);
        expect(back).not.toBeNull();
        const q = localParts(back ?? 0, tz);
        expect([q.year, q.month, q.day, q.hour, q.minute]).toEqual([
          p.year,
          p.month,
          p.day,
          p.hour,
          p.minute,
        ]);
        expect(back ?? 0).toBeLessThanOrEqual(ms - p.second * 1000 - (ms % 1000));
      }),
      { numRuns: 300 },
    );
  });
});
