/**
 * Pure slot selection: keep calendar slots that are in the future and inside working hours in the
 * callee's time zone, then take the first few. No clock read (`nowMs` is passed in), no I/O.
 */

/** Working hours in the callee's local time. Hours are 0-24, end exclusive; days 1=Mon … 7=Sun. */
export interface WorkingHours {
  startHour: number;
  endHour: number;
  days: readonly number[];
}

/** Default: 09:00–18:00 local, Monday to Friday. */
export const DEFAULT_WORKING_HOURS: WorkingHours = { startHour: 9, endHour: 18, days: [1, 2, 3, 4, 5] };

const WEEKDAY: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** Local weekday (1=Mon) and fractional hour of an instant in `timeZone`. */
export function localWeekdayAndHour(epochMs: number, timeZone: string): { weekday: number; hour: number } {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(new Date(epochMs));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return {
    weekday: WEEKDAY[get("weekday")] ?? 0,
    hour: Number(get("hour")) + Number(get("minute")) / 60,
  };
}

/** True when the instant falls inside working hours in `timeZone`. */
export function isWithinWorkingHours(
  iso: string,
  timeZone: string,
  hours: WorkingHours = DEFAULT_WORKING_HOURS,
): boolean {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return false;
  const { weekday, hour } = localWeekdayAndHour(ms, timeZone);
  return hours.days.includes(weekday) && hour >= hours.startHour && hour < hours.endHour;
}

/** The first `count` slot starts after `nowMs + minNoticeMs` inside working hours, earliest first. */
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
  return starts
    .filter((s) => {
      const ms = Date.parse(s);
      return !Number.isNaN(ms) && ms >= earliest && isWithinWorkingHours(s, opts.timeZone, opts.workingHours);
    })
    .sort((a, b) => Date.parse(a) - Date.parse(b))
    .slice(0, opts.count ?? 2);
}
