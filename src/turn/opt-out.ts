// Isolates spotting an opt-out request anywhere in a turn while rejecting negated or hypothetical mentions.
import type { Token } from "./normalise";

/** Outcome of scanning one turn for an opt-out request. */
export type OptOutScan =
  | { kind: "opt_out"; reason: string }
  /** An opt-out phrase is present but negated, hypothetical or retracted: nobody should decide blind. */
  | { kind: "unsure"; reason: string }
  | { kind: "none" };

interface OptOutPattern {
  id: string;
  re: RegExp;
  /** The phrase only opts out when not followed by a limiting word ("call me back", "at work"). */
  limitable: boolean;
}

const OBJECT = "(?:me|us|this number|our number|my number|here)";

const PATTERNS: readonly OptOutPattern[] = [
  {
    id: "take_off_list",
    re: /\b(?:take|get|strike|cross) (?:me|us|my (?:phone )?(?:number|name|details)|this number|our number) off (?:your|the|ur|this|that) (?:\w+ )?(?:list|database|system|records|books)\b/g,
    limitable: false,
  },
  {
    id: "remove_me",
    re: /\bremove (?:me|us|my (?:phone )?(?:number|details|name|data)|this number|our number)\b/g,
    limitable: false,
  },
  {
    id: "stop_calling",
    re: new RegExp(
      `\\bstop (?:calling|ringing|phoning|contacting|texting|bothering|pestering|hassling)(?: ${OBJECT})?\\b`,
      "g",
    ),
    limitable: true,
  },
  {
    id: "do_not_call",
    re: new RegExp(
      `\\b(?:do not|never)(?: ever)? (?:call|ring|phone|contact|bother) ${OBJECT}(?: again| anymore| any more| ever again)?\\b`,
      "g",
    ),
    limitable: true,
  },
  {
    id: "do_not_want_calls",
    re: new RegExp(
      `\\b(?:do not|never) want (?:you |anyone )?to (?:call|ring|phone|contact) ${OBJECT}\\b`,
      "g",
    ),
    limitable: true,
  },
  { id: "unsubscribe", re: /\bunsubscribe\b/g, limitable: false },
  { id: "opt_out", re: /\bopt (?:me |us )?out\b/g, limitable: false },
  { id: "do_not_call_list", re: /\bdo not call list\b/g, limitable: false },
  { id: "no_more_calls", re: /\bno more (?:calls|phone calls)\b/g, limitable: false },
  { id: "stop_the_calls", re: /\bstop (?:these|the|your) (?:calls|phone calls)\b/g, limitable: false },
  { id: "lose_number", re: /\blose (?:my|this|our) number\b/g, limitable: false },
  { id: "delete_details", re: /\bdelete (?:me|my|our) (?:number|details|data)\b/g, limitable: false },
  { id: "leave_alone", re: /\bleave (?:me|us) alone\b/g, limitable: false },
];

/** Words that may sit between a negator and the phrase it negates ("not asking you to ..."). */
const NEGATION_SCOPE = new Set([
  "want",
  "wanted",
  "wanting",
  "you",
  "to",
  "i",
  "ask",
  "asked",
  "asking",
  "tell",
  "told",
  "telling",
  "say",
  "said",
  "saying",
  "mean",
  "meant",
  "need",
  "needed",
  "going",
  "gonna",
  "please",
  "just",
  "ever",
  "actually",
  "really",
  "trying",
  "try",
  "have",
  "has",
  "would",
  "will",
  "can",
  "could",
  "should",
  "do",
  "did",
  "is",
  "am",
  "are",
  "was",
]);

const NEGATORS = new Set(["not", "never", "nobody", "nothing"]);
/** Before the phrase in the same clause, these make it hypothetical or a question about opting out. */
const BLOCKERS = new Set(["if", "whether", "why", "when", "unless", "did", "does", "how", "what"]);
/** After the phrase, these retract or qualify it. */
const CONTRASTS = new Set([
  "but",
  "actually",
  "although",
  "though",
  "however",
  "unless",
  "wait",
  "kidding",
  "joking",
]);
/** A word right after "don't call me"/"stop calling me" that limits rather than ends contact. */
const LIMITERS = new Set([
  "back",
  "later",
  "before",
  "until",
  "till",
  "at",
  "on",
  "after",
  "tomorrow",
  "today",
  "tonight",
  "now",
  "during",
  "while",
  "in",
  "so",
  "this",
  "for",
]);

function isNegated(words: readonly string[], start: number): boolean {
  for (let i = start - 1; i >= 0; i -= 1) {
    const w = words[i] ?? "";
    if (NEGATORS.has(w)) return true;
    if (w === "no" && words[i + 1] === "need") return true;
    if (!NEGATION_SCOPE.has(w)) return false;
  }
  return false;
}

/**
 * Scan a tokenised turn for an opt-out request. One clean (un-negated, un-retracted) match
 * suffices; a match that is negated, hypothetical or followed by a retraction makes the turn
 * "unsure" so that neither this classifier nor a yes/no reading decides it.
 */
export function scanOptOut(tokens: readonly Token[]): OptOutScan {
  const words = tokens.map((t) => t.word);
  const joined = words.join(" ");
  let unsure: string | undefined;
  for (const pattern of PATTERNS) {
    for (const m of joined.matchAll(pattern.re)) {
      const at = m.index;
      const start = at === 0 ? 0 : joined.slice(0, at).split(" ").length - 1;
      const end = start + m[0].split(" ").length;
      const clause = tokens[start]?.clause ?? 0;
      const next = words[end];
      if (pattern.limitable && next !== undefined && LIMITERS.has(next)) {
        unsure ??= `${pattern.id}_limited`;
        continue;
      }
      if (isNegated(words, start)) {
        unsure ??= `${pattern.id}_negated`;
        continue;
      }
      const blocked = tokens.slice(0, start).some((t) => t.clause === clause && BLOCKERS.has(t.word));
      if (blocked) {
        unsure ??= `${pattern.id}_hypothetical`;
        continue;
      }
      if (words.slice(end).some((w) => CONTRASTS.has(w))) {
        unsure ??= `${pattern.id}_retracted`;
        continue;
      }
      return { kind: "opt_out", reason: pattern.id };
    }
  }
  return unsure === undefined ? { kind: "none" } : { kind: "unsure", reason: unsure };
}
