// Isolates the speculative-generation policy: when an interim transcript is stable enough to start the LLM early, and whether the final transcript lets us keep the result.
import { HESITATIONS, words } from "./normalise";

/** Tuning for when to speculate. */
export interface SpeculationOptions {
  /** The normalised interim text must be unchanged for this long. */
  stableForMs: number;
  /** ...or have arrived unchanged this many times in a row (STT re-sends a settled hypothesis). */
  minRepeats: number;
  /** Never speculate on fewer words than this. */
  minWords: number;
}

/** Defaults: half the reference 500 ms endpointing silence, so a hit saves the other half or more. */
export const DEFAULT_SPECULATION: SpeculationOptions = { stableForMs: 250, minRepeats: 3, minWords: 1 };

/** What the policy remembers between interim transcripts (plain data; store it anywhere). */
export interface SpeculationState {
  /** Normalised key of the latest interim. */
  key: string;
  /** The latest interim as received. */
  text: string;
  /** When the key last changed. */
  sinceMs: number;
  /** How many interims in a row carried this key. */
  repeats: number;
  /** Key of the speculation already started, if any. */
  startedKey?: string;
}

/** Start the LLM now on `text`, or not yet. */
export type SpeculationDecision =
  | { start: true; text: string; key: string; reason: "unchanged" | "repeated" }
  | { start: false; reason: "empty" | "too_short" | "dangling" | "unstable" | "already_started" };

/** Words after which a caller is almost certainly still talking. */
const DANGLING = new Set([
  "and",
  "but",
  "so",
  "or",
  "because",
  "cos",
  "the",
  "a",
  "an",
  "to",
  "of",
  "if",
  "with",
  "for",
  "my",
  "your",
  "our",
  "like",
  "then",
  "um",
  "uh",
  "er",
  "erm",
]);

const FILLERS = new Set([...HESITATIONS, "mm", "hmm"]);

/**
 * Normalised form used to compare a speculated transcript with the final one: lower case,
 * no punctuation, contractions expanded, hesitations ("um", "erm") dropped.
 */
export function speculationKey(text: string): string {
  return words(text)
    .filter((w) => !FILLERS.has(w))
    .join(" ");
}

/** Nothing heard yet. */
export function initialSpeculation(): SpeculationState {
  return { key: "", text: "", sinceMs: 0, repeats: 0 };
}

/**
 * Feed the caller's whole utterance so far (finalised STT segments plus the current
 * interim) as of `nowMs`. A new utterance key restarts the stability clock.
 */
export function observeInterim(state: SpeculationState, text: string, nowMs: number): SpeculationState {
  const key = speculationKey(text);
  if (key === state.key && key !== "") return { ...state, text, repeats: state.repeats + 1 };
  return { key, text, sinceMs: nowMs, repeats: 1, startedKey: state.startedKey };
}

/** Decide at `nowMs` (on each interim and on a timer tick) whether to start the LLM on the latest interim. */
export function decideSpeculation(
  state: SpeculationState,
  nowMs: number,
  options: SpeculationOptions = DEFAULT_SPECULATION,
): SpeculationDecision {
  if (state.key === "") return { start: false, reason: "empty" };
  if (state.startedKey === state.key) return { start: false, reason: "already_started" };
  const ws = state.key.split(" ");
  if (ws.length < options.minWords) return { start: false, reason: "too_short" };
  if (DANGLING.has(ws.at(-1) ?? "")) return { start: false, reason: "dangling" };
  if (nowMs - state.sinceMs >= options.stableForMs) {
    return { start: true, text: state.text, key: state.key, reason: "unchanged" };
  }
  if (state.repeats >= options.minRepeats)
    return { start: true, text: state.text, key: state.key, reason: "repeated" };
  return { start: false, reason: "unstable" };
}

/** Remember that a speculation was started on `key`, so it is not started twice. */
export function markSpeculationStarted(state: SpeculationState, key: string): SpeculationState {
  return { ...state, startedKey: key };
}

/** A new caller turn: forget the utterance and any speculation. */
export function resetSpeculation(): SpeculationState {
  return initialSpeculation();
}

/**
 * Can the result generated from `speculatedText` be used for the turn whose final
 * transcript is `finalText`? Only when both normalise to the same words; any added,
 * dropped or changed word means the caller said something else and the result is discarded.
 */
export function matchesSpeculation(speculatedText: string, finalText: string): boolean {
  const a = speculationKey(speculatedText);
  return a !== "" && a === speculationKey(finalText);
}
