// Isolates reading which offered slot a caller picked ("the first one", "Tuesday", "half ten", "two").

/** One offered slot, as the turn engine knows it (wall-clock fields in the caller's time zone). */
export interface SlotOption {
  /** The capture value for this slot, e.g. "1". */
  choice: string;
  /** Lower-case English weekday name, e.g. "tuesday". */
  weekday?: string;
  /** 0..23 */
  hour?: number;
  /** 0..59 */
  minute?: number;
}

/** The slot a turn picks, "none" when it mentions no slot, or "unsure" when mentions disagree or miss. */
export type SlotReading =
  | { kind: "slot"; choice: string; reason: string }
  | { kind: "none" }
  | { kind: "unsure" };

const NUMBER_WORDS: Readonly<Record<string, number>> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
};
const ORDINALS: Readonly<Record<string, number>> = { first: 1, second: 2, third: 3, former: 1, latter: 2 };
const MINUTE_WORDS: Readonly<Record<string, number>> = {
  fifteen: 15,
  thirty: 30,
  "forty five": 45,
  oclock: 0,
};
const WEEKDAYS: Readonly<Record<string, string>> = {
  monday: "monday",
  mon: "monday",
  tuesday: "tuesday",
  tues: "tuesday",
  wednesday: "wednesday",
  weds: "wednesday",
  thursday: "thursday",
  thurs: "thursday",
  friday: "friday",
  fri: "friday",
  saturday: "saturday",
  sunday: "sunday",
};

/** Words allowed around a slot mention; anything else (e.g. "not", "or", "but") makes the turn unsure. */
const SLOT_CONTEXT = new Set(
  (
    "um uh er erm ah oh well so right please thanks thank you cheers ta yes yeah yep aye ok okay sure " +
    "the a one on at for me is be would that works work good fine great perfect lovely better best then " +
    "let us do go with i will take like id option number"
  ).split(" "),
);

interface Mention {
  slots: ReadonlySet<string>;
  reason: string;
}

function hourNumber(word: string | undefined): number | undefined {
  if (word === undefined) return undefined;
  if (/^\d{1,2}$/.test(word)) {
    const n = Number(word);
    return n >= 1 && n <= 12 ? n : undefined;
  }
  return NUMBER_WORDS[word];
}

function matchTime(
  slots: readonly SlotOption[],
  hour: number,
  minute: number,
  meridiem?: "am" | "pm",
): Set<string> {
  const out = new Set<string>();
  for (const s of slots) {
    if (s.hour === undefined) continue;
    const slotMinute = s.minute ?? 0;
    const hourOk =
      meridiem === undefined
        ? s.hour % 12 === hour % 12
        : s.hour === (hour % 12) + (meridiem === "pm" ? 12 : 0);
    if (hourOk && slotMinute === minute) out.add(s.choice);
  }
  return out;
}

/** Read slot mentions starting at index i; returns the mention and how many words it used. */
function readMention(
  words: readonly string[],
  i: number,
  slots: readonly SlotOption[],
  slotCount: number,
): { mention: Mention; used: number } | undefined {
  const w = words[i] ?? "";
  const next = words[i + 1];
  const before = words[i - 1] ?? "";
  // "the second one", "the Tuesday one", "the 2 o'clock one": here "one" is a pronoun, not a number.
  const pronounAfter = ORDINALS[before] !== undefined || WEEKDAYS[before] !== undefined;
  if (w === "one" && (pronounAfter || ["oclock", "am", "pm"].includes(before) || /^\d/.test(before)))
    return undefined;
  const byIndex = (n: number): Set<string> => {
    const bySlot = slots.find((s) => s.choice === String(n));
    if (bySlot !== undefined) return new Set([bySlot.choice]);
    return slots.length === 0 && n >= 1 && n <= slotCount ? new Set([String(n)]) : new Set();
  };
  const ordinal = ORDINALS[w];
  if (ordinal !== undefined) return { mention: { slots: byIndex(ordinal), reason: "slot_ordinal" }, used: 1 };
  const weekday = WEEKDAYS[w];
  if (weekday !== undefined) {
    const set = new Set(slots.filter((s) => s.weekday === weekday).map((s) => s.choice));
    return { mention: { slots: set, reason: "slot_weekday" }, used: 1 };
  }
  const clock = /^(\d{1,2}):(\d{2})(am|pm)?$/.exec(w);
  if (clock !== null) {
    const meridiem = clock[3] === "am" || clock[3] === "pm" ? clock[3] : undefined;
    const set = matchTime(slots, Number(clock[1]), Number(clock[2]), meridiem);
    return { mention: { slots: set, reason: "slot_time" }, used: 1 };
  }
  const compact = /^(\d{1,2})(am|pm)$/.exec(w);
  if (compact !== null) {
    const meridiem = compact[2] === "am" ? "am" : "pm";
    return {
      mention: { slots: matchTime(slots, Number(compact[1]), 0, meridiem), reason: "slot_time" },
      used: 1,
    };
  }
  if (w === "half" || w === "quarter") {
    // "half ten" (UK) and "half past ten" both mean 10:30; "quarter past/to".
    const past = next === "past" || next === "to";
    const hour = hourNumber(past ? words[i + 2] : next);
    if (hour === undefined || (w === "quarter" && !past)) return undefined;
    const to = next === "to";
    const minute = w === "half" ? 30 : to ? 45 : 15;
    const h = to ? ((hour + 10) % 12) + 1 : hour;
    return { mention: { slots: matchTime(slots, h, minute), reason: "slot_time" }, used: past ? 3 : 2 };
  }
  const hour = hourNumber(w);
  if (hour === undefined) return undefined;
  let used = 1;
  let minute = 0;
  let timeOnly = false;
  const twoWordMinute = next !== undefined ? MINUTE_WORDS[`${next} ${words[i + 2] ?? ""}`] : undefined;
  if (twoWordMinute !== undefined) {
    minute = twoWordMinute;
    used = 3;
    timeOnly = true;
  } else if (next !== undefined && MINUTE_WORDS[next] !== undefined) {
    minute = MINUTE_WORDS[next] ?? 0;
    used = 2;
    timeOnly = true;
  }
  let meridiem: "am" | "pm" | undefined;
  const after = words[i + used];
  if (after === "am" || after === "pm") {
    meridiem = after;
    used += 1;
    timeOnly = true;
  }
  const asTime = matchTime(slots, hour, minute, meridiem);
  const indexOnly = before === "option" || before === "number";
  if (indexOnly) return { mention: { slots: byIndex(hour), reason: "slot_ordinal" }, used };
  if (timeOnly) return { mention: { slots: asTime, reason: "slot_time" }, used };
  // A bare "two" may be an option number or a time: both readings must agree on one slot.
  const asIndex = byIndex(hour);
  const readings = [asTime, asIndex].filter((s) => s.size > 0);
  const union = new Set(readings.flatMap((s) => [...s]));
  return { mention: { slots: union, reason: "slot_number" }, used };
}

/**
 * Decide which slot a short turn picks. Every mention must be compatible with exactly one
 * common slot, and every other word must be harmless context; otherwise "unsure".
 */
export function readSlotChoice(
  words: readonly string[],
  slots: readonly SlotOption[],
  slotCount: number = slots.length === 0 ? 2 : slots.length,
): SlotReading {
  const mentions: Mention[] = [];
  let stray = false;
  for (let i = 0; i < words.length; ) {
    const read = readMention(words, i, slots, slotCount);
    if (read !== undefined) {
      mentions.push(read.mention);
      i += read.used;
      continue;
    }
    if (!SLOT_CONTEXT.has(words[i] ?? "")) stray = true;
    i += 1;
  }
  if (mentions.length === 0) return { kind: "none" };
  if (stray) return { kind: "unsure" };
  let common: Set<string> | undefined;
  for (const m of mentions) {
    common = common === undefined ? new Set(m.slots) : new Set([...common].filter((c) => m.slots.has(c)));
  }
  const first = mentions[0];
  if (common === undefined || common.size !== 1 || first === undefined) return { kind: "unsure" };
  const [choice] = [...common];
  return choice === undefined ? { kind: "unsure" } : { kind: "slot", choice, reason: first.reason };
}
