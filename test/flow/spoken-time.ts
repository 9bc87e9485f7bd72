// Test-only inverse of slot phrasing: read a spoken slot back into local date and wall-clock time.
import { numberWords } from "../../src/flow/time";

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
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
const ORD_UNITS: Record<string, number> = {
  first: 1,
  second: 2,
  third: 3,
  fourth: 4,
  fifth: 5,
  sixth: 6,
  seventh: 7,
  eighth: 8,
  ninth: 9,
  tenth: 10,
  eleventh: 11,
  twelfth: 12,
  thirteenth: 13,
  fourteenth: 14,
  fifteenth: 15,
  sixteenth: 16,
  seventeenth: 17,
  eighteenth: 18,
  nineteenth: 19,
  twentieth: 20,
  thirtieth: 30,
};

function ordinal(word: string): number {
  const direct = ORD_UNITS[word];
  if (direct !== undefined) return direct;
  const [tens, unit] = word.split("-");
  const base = tens === "twenty" ? 20 : tens === "thirty" ? 30 : Number.NaN;
  return base + (ORD_UNITS[unit ?? ""] ?? Number.NaN);
}

const WORD_TO_NUMBER = new Map<string, number>();
for (let n = 1; n < 60; n += 1) WORD_TO_NUMBER.set(numberWords(n), n);

function num(word: string): number {
  const n = WORD_TO_NUMBER.get(word);
  if (n === undefined) throw new Error(`not a number word: ${word}`);
  return n;
}

/** "half past ten in the morning" -> { hour: 10, minute: 30 }. */
export function parseClock(text: string): { hour: number; minute: number } {
  if (text === "midday") return { hour: 12, minute: 0 };
  if (text === "midnight") return { hour: 0, minute: 0 };
  const m = /^(.*) in the (morning|afternoon|evening)$/.exec(text);
  if (m === null) throw new Error(`no period in: ${text}`);
  const body = m[1] ?? "";
  const pm = m[2] !== "morning";
  const to24 = (h12: number) => (h12 % 12) + (pm ? 12 : 0);
  let r: RegExpExecArray | null = /^(.+) o'clock$/.exec(body);
  if (r !== null) return { hour: to24(num(r[1] ?? "")), minute: 0 };
  r = /^quarter past (.+)$/.exec(body);
  if (r !== null) return { hour: to24(num(r[1] ?? "")), minute: 15 };
  r = /^half past (.+)$/.exec(body);
  if (r !== null) return { hour: to24(num(r[1] ?? "")), minute: 30 };
  r = /^quarter to (.+)$/.exec(body);
  if (r !== null) return { hour: ((num(r[1] ?? "") + 11) % 12) + (pm ? 12 : 0), minute: 45 };
  r = /^(\S+) (?:oh )?(.+)$/.exec(body);
  if (r !== null) return { hour: to24(num(r[1] ?? "")), minute: num(r[2] ?? "") };
  throw new Error(`unreadable clock: ${text}`);
}

/** A spoken slot read back. `day`/`month` are absent for "today"/"tomorrow"; `month` absent within the current month. */
export interface SpokenSlot {
  relative?: "today" | "tomorrow";
  weekday?: number;
  day?: number;
  month?: number;
  hour: number;
  minute: number;
}

export function parseSpokenSlot(text: string): SpokenSlot {
  const rel = /^(today|tomorrow) at (.+)$/.exec(text);
  if (rel !== null)
    return { relative: rel[1] === "today" ? "today" : "tomorrow", ...parseClock(rel[2] ?? "") };
  const m = /^(\w+) the ([a-z-]+)(?: of (\w+))? at (.+)$/.exec(text);
  if (m === null) throw new Error(`unreadable slot: ${text}`);
  const month = m[3] === undefined ? undefined : MONTHS.indexOf(m[3]) + 1;
  return {
    weekday: DAYS.indexOf(m[1] ?? ""),
    day: ordinal(m[2] ?? ""),
    ...(month === undefined ? {} : { month }),
    ...parseClock(m[4] ?? ""),
  };
}

/** Local wall time of an instant, computed with a different Intl path (en-US, numeric parts) than the code under test. */
export function referenceLocal(
  instantMs: number,
  timeZone: string,
): { y: number; mo: number; d: number; h: number; mi: number; wd: number } {
  const f = new Intl.DateTimeFormat("en-US", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hour12: false,
    weekday: "long",
  });
  const parts = Object.fromEntries(f.formatToParts(new Date(instantMs)).map((p) => [p.type, p.value]));
  return {
    y: Number(parts.year),
    mo: Number(parts.month),
    d: Number(parts.day),
    h: Number(parts.hour) % 24,
    mi: Number(parts.minute),
    wd: DAYS.indexOf(parts.weekday ?? ""),
  };
}
