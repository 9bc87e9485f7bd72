/**
 * Pure slot selection: keep calendar slots that are far enough ahead and inside working hours in
 * the callee's time zone (the flow engine's rule), then take the first few. No clock read, no I/O.
 */
import type { WorkingHours } from "../flow/schema";
import { isWithinWorkingHours } from "../flow/time";

/** Default: 09:00–18:00 local, Monday to Friday. */
export const DEFAULT_WORKING_HOURS: WorkingHours = {
  days: ["mon", "tue", "wed", "thu", "fri"],
  start: "09:00",
  end: "18:00",
};

/** The first `count` slot starts at or after `nowMs + minNoticeMs` inside working hours, earliest first. */
export function pickSlots(
  starts: readonly string[],
  opts: {
    timeZone: string;
    nowMs: number;
    count?: number;
    minNoticeMs?: number;
    workingHours?: WorkingHours;
  },
): string[] {
  const earliest = opts.nowMs + (opts.minNoticeMs ?? 0);
  const hours = opts.workingHours ?? DEFAULT_WORKING_HOURS;
  return starts
    .map((iso) => ({ iso, ms: Date.parse(iso) }))
    .filter(
      (s) => !Number.isNaN(s.ms) && s.ms >= earliest && isWithinWorkingHours(s.ms, opts.timeZone, hours),
    )
    .sort((a, b) => a.ms - b.ms)
    .slice(0, opts.count ?? 2)
    .map((s) => s.iso);
}
