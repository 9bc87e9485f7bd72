// Isolates reconciling a keyed DTMF digit with a spoken answer to the same prompt: act only when they agree.
import { words } from "./normalise";

/** One keypad choice the prompt offered ("press 1 for Tuesday at 10:30"). */
export interface DtmfOption {
  digit: string;
  branch: string;
  captures?: Readonly<Record<string, string>>;
  /** What the option means, as the agent would say it ("Tuesday at 10:30"). */
  label?: string;
}

/** The spoken answer as classified (fast path or LLM), plus the transcript when available. */
export interface SpokenAnswer {
  branch: string;
  captures: Readonly<Record<string, string>>;
  text?: string;
}

/** A digit, a spoken answer, or both, for the same prompt, and the prompt's keypad options. */
export type ReconcileInput = {
  options: readonly DtmfOption[];
} & ({ dtmf: string; spoken?: SpokenAnswer } | { dtmf?: undefined; spoken: SpokenAnswer });

/** Act on the answer, or ask the caller to confirm before acting. */
export type Reconciliation =
  | {
      action: "accept";
      source: "dtmf" | "speech" | "both";
      branch: string;
      captures: Record<string, string>;
    }
  | { action: "confirm"; reason: "disagree" | "unknown_digit" | "nothing"; question: string };

const DIGIT_WORDS: Readonly<Record<string, string>> = {
  zero: "0",
  oh: "0",
  nought: "0",
  one: "1",
  two: "2",
  three: "3",
  four: "4",
  five: "5",
  six: "6",
  seven: "7",
  eight: "8",
  nine: "9",
  first: "1",
  second: "2",
  third: "3",
  fourth: "4",
  fifth: "5",
  sixth: "6",
  seventh: "7",
  eighth: "8",
  ninth: "9",
};

/** Words STT writes for a digit said alone ("to" for "two"). Only trusted when nothing else was said. */
const HOMOPHONES: Readonly<Record<string, string>> = {
  to: "2",
  too: "2",
  for: "4",
  fore: "4",
  won: "1",
  ate: "8",
  tree: "3",
  free: "3",
};

const ORDINAL_WORDS = new Set([
  "first",
  "second",
  "third",
  "fourth",
  "fifth",
  "sixth",
  "seventh",
  "eighth",
  "ninth",
]);

/** Words that may surround the number in an answer like "um, number two please". */
const CONTEXT = new Set(
  "um uh er erm ah well so the option number press pressed i it was is please thanks yeah yes ok okay".split(
    " ",
  ),
);

/**
 * The digit a short spoken answer names ("two", "the second one", "number 2", "to"), or
 * undefined when the answer says anything else. Homophones like "to" and "for" count only
 * when they are the whole answer, since they are ordinary words in any longer sentence.
 */
export function spokenDigit(text: string): string | undefined {
  const all = words(text);
  const content = all.filter((w, i) => {
    if (w === "one" && ORDINAL_WORDS.has(all[i - 1] ?? "")) return false;
    // "oh" is a hesitation unless it is the only word.
    if (w === "oh" && all.length > 1) return false;
    return !CONTEXT.has(w);
  });
  if (content.length !== 1) return undefined;
  const w = content[0] ?? "";
  if (/^[0-9]$/.test(w)) return w;
  const digit = DIGIT_WORDS[w];
  if (digit !== undefined) return digit;
  const cued = all.length === 2 && ["number", "option", "press", "pressed"].includes(all[0] ?? "");
  return all.length === 1 || cued ? HOMOPHONES[w] : undefined;
}

function compatible(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  return Object.entries(a).every(([k, v]) => b[k] === undefined || b[k] === v);
}

function digitOfSpoken(spoken: SpokenAnswer, options: readonly DtmfOption[]): string | undefined {
  const byOption = options.filter(
    (o) => o.branch === spoken.branch && o.captures !== undefined && compatible(o.captures, spoken.captures),
  );
  const first = byOption[0];
  if (byOption.length === 1 && first !== undefined) return first.digit;
  const slot = spoken.captures.slot_choice;
  if (slot !== undefined && /^[0-9]$/.test(slot)) return slot;
  return spoken.text === undefined ? undefined : spokenDigit(spoken.text);
}

function describe(digit: string, options: readonly DtmfOption[]): string {
  return options.find((o) => o.digit === digit)?.label ?? `option ${digit}`;
}

function keyedPart(option: DtmfOption): string {
  return option.label === undefined ? option.digit : `${option.digit} for ${option.label}`;
}

function listOptions(options: readonly DtmfOption[]): string {
  const parts = options.map((o) => `${o.digit}${o.label === undefined ? "" : ` for ${o.label}`}`);
  return parts.length <= 1 ? parts.join("") : `${parts.slice(0, -1).join(", ")} or ${parts.at(-1) ?? ""}`;
}

/**
 * Reconcile a keyed digit and a spoken answer for the same prompt. Agreement (same digit,
 * or same branch with compatible captures) is accepted; any disagreement, or a digit the
 * prompt did not offer, yields a confirmation question instead of an action: booking the
 * wrong slot because the caller said "two" and keyed 3 is worse than one more question.
 */
export function reconcile(input: ReconcileInput): Reconciliation {
  const { dtmf, spoken, options } = input;
  const keyed = dtmf === undefined ? undefined : options.find((o) => o.digit === dtmf);
  if (dtmf !== undefined && keyed === undefined) {
    return {
      action: "confirm",
      reason: "unknown_digit",
      question: `Sorry, ${dtmf} isn't one of the options. Please press ${listOptions(options)}.`,
    };
  }
  if (keyed === undefined) {
    if (spoken === undefined) {
      return {
        action: "confirm",
        reason: "nothing",
        question: "Sorry, I didn't catch that. Could you say it again?",
      };
    }
    return { action: "accept", source: "speech", branch: spoken.branch, captures: { ...spoken.captures } };
  }
  const keyedCaptures = { ...(keyed.captures ?? {}) };
  if (spoken === undefined) {
    return { action: "accept", source: "dtmf", branch: keyed.branch, captures: keyedCaptures };
  }
  const heard = digitOfSpoken(spoken, options);
  const agree =
    heard !== undefined
      ? heard === keyed.digit
      : spoken.branch === keyed.branch && compatible(keyedCaptures, spoken.captures);
  if (agree) {
    return {
      action: "accept",
      source: "both",
      branch: keyed.branch,
      captures: { ...spoken.captures, ...keyedCaptures },
    };
  }
  const heardPart = heard === undefined ? "something different" : describe(heard, options);
  return {
    action: "confirm",
    reason: "disagree",
    question: `Just to check: I heard ${heardPart}, but you pressed ${keyedPart(keyed)}. Which would you like?`,
  };
}
