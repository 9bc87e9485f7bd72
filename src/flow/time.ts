/** Time in the callee's zone: local wall-clock parts, slot phrasing for speech, working hours and calling windows. */
import { BANK_HOLIDAY_YEARS, ENGLAND_WALES_BANK_HOLIDAYS } from "./bank-holidays";
import { type CallingWindow, WEEKDAYS, type Weekday, type WorkingHours } from "./schema";

/** Default zone for UK campaigns. */
export const DEFAULT_TIME_ZONE = "Europe/London";

/** UK default: 08:00–21:00 Monday to Saturday, never Sundays or England & Wales bank holidays. */
export const UK_DEFAULT_CALLING_WINDOW: CallingWindow = {
  days: ["mon", "tue", "wed", "thu", "fri", "sat"],
  start: "08:00",
  end: "21:00",
  excludeBankHolidays: true,
};

/** Wall-clock fields of an instant in a zone. `weekday` 0 = Sunday. `dateKey` is YYYY-MM-DD. */
export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
  dateKey: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-GB", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      weekday: "short",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const SHORT_WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** Local wall-clock parts of `instantMs` in `timeZone` (throws RangeError on an unknown zone). */
export function localParts(instantMs: number, timeZone: string): LocalParts {
  const parts = formatterFor(timeZone).formatToParts(new Date(instantMs));
  const get = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? "";
  const year = Number(get("year"));
  const month = Number(get("month"));
  const day = Number(get("day"));
  const pad = (n: number) => String(n).padStart(2, "0");
  return {
    year,
    month,
    day,
    hour: Number(get("hour")),
    minute: Number(get("minute")),
    second: Number(get("second")),
    weekday: SHORT_WEEKDAYS.indexOf(get("weekday")),
    dateKey: `${String(year).padStart(4, "0")}-${pad(month)}-${pad(day)}`,
  };
}

/** Offset of the zone from UTC at `instantMs`, in milliseconds (positive east of Greenwich). */
export function zoneOffsetMs(instantMs: number, timeZone: string): number {
  const p = localParts(instantMs, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - (instantMs - (((instantMs % 1000) + 1000) % 1000));
}

/**
 * The instant at which the wall clock in `timeZone` shows the given local time, or null when that local
 * time does not exist (skipped by a spring-forward change). An ambiguous time resolves to the earlier instant.
 */
export function instantFromLocal(
  local: { year: number; month: number; day: number; hour: number; minute: number },
  timeZone: string,
): number | null {
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute);
  const candidates = new Set<number>();
  for (const probe of [wall - 36 * 3_600_000, wall, wall + 36 * 3_600_000]) {
    candidates.add(wall - zoneOffsetMs(probe, timeZone));
  }
  const matches = [...candidates].filter((c) => {
    const p = localParts(c, timeZone);
    return (
      p.year === local.year &&
      p.month === local.month &&
      p.day === local.day &&
      p.hour === local.hour &&
      p.minute === local.minute
    );
  });
  if (matches.length === 0) return null;
  return Math.min(...matches);
}

const DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTH_NAMES = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const ORDINALS = [
  "",
  "first",
  "second",
  "third",
  "fourth",
  "fifth",
  "sixth",
  "seventh",
  "eighth",
  "ninth",
  "tenth",
  "eleventh",
  "twelfth",
  "thirteenth",
  "fourteenth",
  "fifteenth",
  "sixteenth",
  "seventeenth",
  "eighteenth",
  "nineteenth",
  "twentieth",
  "twenty-first",
  "twenty-second",
  "twenty-third",
  "twenty-fourth",
  "twenty-fifth",
  "twenty-sixth",
  "twenty-seventh",
  "twenty-eighth",
  "twenty-ninth",
  "thirtieth",
  "thirty-first",
];
const SMALL = [
  "",
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
  "ten",
  "eleven",
  "twelve",
  "thirteen",
  "fourteen",
  "fifteen",
  "sixteen",
  "seventeen",
  "eighteen",
  "nineteen",
];
const TENS = ["", "", "twenty", "thirty", "forty", "fifty"];

/** 1..59 in words ("twenty-five"). */
export function numberWords(n: number): string {
  if (n < 20) return SMALL[n] ?? "";
  const t = TENS[Math.floor(n / 10)] ?? "";
  return n % 10 === 0 ? t : `${t}-${SMALL[n % 10] ?? ""}`;
}

function hourWord(hour24: number): string {
  const h = hour24 % 12 === 0 ? 12 : hour24 % 12;
  return numberWords(h);
}

function period(hour24: number): string {
  if (hour24 < 12) return "in the morning";
  if (hour24 < 17) return "in the afternoon";
  return "in the evening";
}

/** Clock time for speech: "half past ten in the morning", "ten past two in the afternoon", "midday". */
export function phraseClockTime(hour: number, minute: number): string {
  if (minute === 0 && hour === 12) return "midday";
  if (minute === 0 && hour === 0) return "midnight";
  if (minute === 0) return `${hourWord(hour)} o'clock ${period(hour)}`;
  if (minute === 15) return `quarter past ${hourWord(hour)} ${period(hour)}`;
  if (minute === 30) return `half past ${hourWord(hour)} ${period(hour)}`;
  if (minute === 45) return `quarter to ${hourWord(hour + 1)} ${period(hour)}`;
  const mins = minute < 10 ? `oh ${numberWords(minute)}` : numberWords(minute);
  return `${hourWord(hour)} ${mins} ${period(hour)}`;
}

function atClock(hour: number, minute: number): string {
  return `at ${phraseClockTime(hour, minute)}`;
}

/** The calendar date after `dateKey` (pure date arithmetic, immune to 23- and 25-hour days). */
function nextDateKey(p: LocalParts): string {
  return new Date(Date.UTC(p.year, p.month - 1, p.day + 1)).toISOString().slice(0, 10);
}

/**
 * A slot as it should be spoken, always in the callee's zone: "Tuesday the fourth of March at half past ten in
 * the morning". With `nowMs`, "today"/"tomorrow" are used and the month is dropped within the current month.
 * Throws RangeError for an unparseable instant or unknown zone.
 */
export function formatSlotForSpeech(
  isoInstant: string,
  timeZone: string = DEFAULT_TIME_ZONE,
  nowMs?: number,
): string {
  const ms = Date.parse(isoInstant);
  if (Number.isNaN(ms)) throw new RangeError("slot is not a valid ISO instant");
  const p = localParts(ms, timeZone);
  const clock = atClock(p.hour, p.minute);
  if (nowMs !== undefined) {
    const today = localParts(nowMs, timeZone);
    if (today.dateKey === p.dateKey) return `today ${clock}`;
    if (nextDateKey(today) === p.dateKey) return `tomorrow ${clock}`;
    if (today.year === p.year && today.month === p.month) {
      return `${DAY_NAMES[p.weekday] ?? ""} the ${ORDINALS[p.day] ?? ""} ${clock}`;
    }
  }
  return `${DAY_NAMES[p.weekday] ?? ""} the ${ORDINALS[p.day] ?? ""} of ${MONTH_NAMES[p.month - 1] ?? ""} ${clock}`;
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(":");
  return Number(h) * 60 + Number(m);
}

function weekdayName(index: number): Weekday {
  return WEEKDAYS[index] ?? "sun";
}

/**
 * True when the local time of `instantMs` falls on an open day within [start, end). With
 * `closedOnBankHolidays`, England & Wales bank holidays count as closed.
 */
export function isWithinWorkingHours(instantMs: number, timeZone: string, hours: WorkingHours): boolean {
  const p = localParts(instantMs, timeZone);
  if (!hours.days.includes(weekdayName(p.weekday))) return false;
  if (hours.closedOnBankHolidays === true && ENGLAND_WALES_BANK_HOLIDAYS.has(p.dateKey)) return false;
  const m = p.hour * 60 + p.minute;
  return m >= minutesOf(hours.start) && m < minutesOf(hours.end);
}

/** Why a call may or may not be placed now. */
export interface CallingWindowStatus {
  open: boolean;
  reason: "open" | "closed_day" | "outside_hours" | "bank_holiday" | "closed_date" | "bank_holidays_unknown";
}

/** Decide whether an outbound call may be placed at `nowMs`, with the reason. Years without holiday data stay closed. */
export function callingWindowStatus(
  nowMs: number,
  timeZone: string = DEFAULT_TIME_ZONE,
  window: CallingWindow = UK_DEFAULT_CALLING_WINDOW,
): CallingWindowStatus {
  const p = localParts(nowMs, timeZone);
  if (!window.days.includes(weekdayName(p.weekday))) return { open: false, reason: "closed_day" };
  if (window.closedDates?.includes(p.dateKey)) return { open: false, reason: "closed_date" };
  if (window.excludeBankHolidays !== false) {
    if (p.year < BANK_HOLIDAY_YEARS.first || p.year > BANK_HOLIDAY_YEARS.last) {
      return { open: false, reason: "bank_holidays_unknown" };
    }
    if (ENGLAND_WALES_BANK_HOLIDAYS.has(p.dateKey)) return { open: false, reason: "bank_holiday" };
  }
  const m = p.hour * 60 + p.minute;
  if (m < minutesOf(window.start) || m >= minutesOf(window.end))
    return { open: false, reason: "outside_hours" };
  return { open: true, reason: "open" };
}

/** True when an outbound call may be placed at `nowMs` (UK default window unless the campaign overrides it). */
export function isWithinCallingWindow(
  nowMs: number,
  timeZone: string = DEFAULT_TIME_ZONE,
  window: CallingWindow = UK_DEFAULT_CALLING_WINDOW,
): boolean {
  return callingWindowStatus(nowMs, timeZone, window).open;
}
