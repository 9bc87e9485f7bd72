// Isolates the deterministic fast-path classifier: obvious turns decided without the LLM, abstaining when unsure.
import { detectCallerQuestions } from "./caller-question";
import {
  IDENTITY_BRANCHES,
  MAX_PHRASE_TURN_WORDS,
  NO_BRANCHES,
  PHRASES,
  type PhraseKind,
  YES_BRANCHES,
} from "./fast-path-lexicon";
import { type Token, tokenize } from "./normalise";
import { scanOptOut } from "./opt-out";
import { readSlotChoice, type SlotOption } from "./slot-choice";

/** What a keyed digit means in the current state: a branch name, or a branch with captures. */
export type DtmfTarget = string | { branch: string; captures?: Readonly<Record<string, string>> };

/** One caller turn plus what the current state accepts. */
export interface FastPathInput {
  /** Final transcript of the turn. */
  text?: string;
  /** A single keyed DTMF digit for the same prompt. */
  dtmf?: string;
  /** The current state's branch names (keys of its `on` map). */
  branches: readonly string[];
  /** The current state's capture names; the fast path only ever fills `slot_choice` or DTMF-map captures. */
  captures: readonly string[];
  /** BCP 47 tag of the call's language; text is only classified for English. */
  language?: string;
  /** Slots offered in this state, so "Tuesday" or "half ten" can pick one. */
  slots?: readonly SlotOption[];
  /** How many slots were offered when `slots` lacks details (default 2). */
  slotCount?: number;
  /** Per-state meaning of DTMF digits. Without it only slot states map digits (1..slotCount). */
  dtmfMap?: Readonly<Record<string, DtmfTarget>>;
}

/** The classifier's verdict. `reason` is a code, never caller text, so it is safe to log. */
export type FastPathDecision =
  | {
      decision: "branch";
      branch: string;
      captures: Record<string, string>;
      confidence: number;
      reason: string;
    }
  | { decision: "opt_out"; reason: string }
  | { decision: "abstain"; reason?: string };

/** Branch that takes a slot choice, and the capture that carries it. */
export const SLOT_BRANCH = "slot_selected";
export const SLOT_CAPTURE = "slot_choice";

type BranchDecision = Extract<FastPathDecision, { decision: "branch" }>;

function abstain(reason: string): FastPathDecision {
  return { decision: "abstain", reason };
}

function slotCountOf(input: FastPathInput): number {
  return input.slotCount ?? (input.slots !== undefined && input.slots.length > 0 ? input.slots.length : 2);
}

function resolveDtmf(input: FastPathInput, digit: string): FastPathDecision {
  if (!/^[0-9*#]$/.test(digit)) return abstain("dtmf_not_single_digit");
  const target = input.dtmfMap?.[digit];
  if (target !== undefined) {
    const branch = typeof target === "string" ? target : target.branch;
    const captures = typeof target === "string" ? {} : { ...(target.captures ?? {}) };
    if (!input.branches.includes(branch)) return abstain("dtmf_branch_not_in_state");
    return { decision: "branch", branch, captures, confidence: 0.99, reason: "dtmf_map" };
  }
  if (input.dtmfMap === undefined && input.branches.includes(SLOT_BRANCH)) {
    const n = Number(digit);
    const known = input.slots?.some((s) => s.choice === digit) ?? false;
    if (known || (input.slots === undefined && n >= 1 && n <= slotCountOf(input))) {
      return branch(SLOT_BRANCH, { [SLOT_CAPTURE]: digit }, 0.99, "dtmf_slot");
    }
  }
  return abstain("dtmf_unmapped");
}

function branch(
  name: string,
  captures: Record<string, string>,
  confidence: number,
  reason: string,
): BranchDecision {
  return { decision: "branch", branch: name, captures, confidence, reason };
}

function pick(branches: readonly string[], preferred: readonly string[]): string | undefined {
  return preferred.find((b) => branches.includes(b));
}

/** Cover the words with known phrases (longest first, backtracking); undefined when impossible. */
function segment(words: readonly string[], from = 0): { kind: PhraseKind; confidence: number }[] | undefined {
  if (from === words.length) return [];
  for (const phrase of PHRASES) {
    if (!phrase.words.every((w, k) => words[from + k] === w)) continue;
    const rest = segment(words, from + phrase.words.length);
    if (rest !== undefined) return [{ kind: phrase.kind, confidence: phrase.confidence }, ...rest];
  }
  return undefined;
}

function classifyText(input: FastPathInput, text: string, tokens: readonly Token[]): FastPathDecision {
  const words = tokens.map((t) => t.word);
  const question = text.includes("?");
  if (input.branches.includes(SLOT_BRANCH)) {
    const slot = readSlotChoice(words, input.slots ?? [], slotCountOf(input));
    if (slot.kind === "unsure") return abstain("slot_unsure");
    if (slot.kind === "slot") {
      if (question) return abstain("question");
      return branch(SLOT_BRANCH, { [SLOT_CAPTURE]: slot.choice }, 0.95, slot.reason);
    }
  }
  if (words.length > MAX_PHRASE_TURN_WORDS) return abstain("long_turn");
  const segments = segment(words);
  if (segments === undefined) return abstain("unmatched_words");
  const kinds = new Set(segments.map((s) => s.kind));
  const polar = segments.filter((s) => s.kind === "yes" || s.kind === "no");
  const confidence = Math.min(1, ...polar.map((s) => s.confidence));
  if (kinds.has("identity")) {
    if (polar.length > 0) return abstain("mixed_identity");
    const target = pick(input.branches, IDENTITY_BRANCHES);
    return target === undefined
      ? abstain("no_identity_branch")
      : branch(target, {}, 0.95, "identity_question");
  }
  if (kinds.has("yes") && kinds.has("no")) return abstain("mixed_polarity");
  if (polar.length === 0) return abstain("no_signal");
  if (question) return abstain("question");
  if (kinds.has("yes")) {
    const target = pick(input.branches, YES_BRANCHES);
    if (target !== undefined) return branch(target, {}, confidence, "yes_phrase");
    // "Yes" picks a slot only when exactly one was offered.
    const onlySlot =
      input.slots?.length === 1 ? input.slots[0]?.choice : slotCountOf(input) === 1 ? "1" : undefined;
    if (input.branches.includes(SLOT_BRANCH) && onlySlot !== undefined) {
      return branch(SLOT_BRANCH, { [SLOT_CAPTURE]: onlySlot }, confidence, "yes_single_slot");
    }
    return abstain("no_yes_branch");
  }
  const target = pick(input.branches, NO_BRANCHES);
  return target === undefined ? abstain("no_no_branch") : branch(target, {}, confidence, "no_phrase");
}

function sameCaptures(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  return Object.entries(a).every(([k, v]) => b[k] === undefined || b[k] === v);
}

/**
 * Decide a turn without the LLM when it is obvious, else abstain.
 *
 * Order: opt-out phrases anywhere in the text win; a negated, hypothetical or retracted
 * opt-out abstains outright. A question about the call itself (who, AI, why, where from,
 * recorded: caller-question.ts) abstains, unless the state has its own "who is this?" branch.
 * Then DTMF (through `dtmfMap`, or 1..n in a slot state); with both a digit and speech, both
 * must agree or the classifier abstains (use `reconcile` in dtmf-speech.ts to ask the caller).
 * Then slot choices, "who is this?", and whole-turn yes/no phrases mapped onto the state's own
 * branch names. Anything with unknown words, both polarities, a question mark or more than a
 * dozen words abstains.
 */
export function classifyFastPath(input: FastPathInput): FastPathDecision {
  const text = input.text?.trim() ?? "";
  const english = input.language === undefined || /^en(-|$)/i.test(input.language);
  const tokens = text === "" ? [] : tokenize(text);
  if (tokens.length > 0) {
    if (!english) {
      return input.dtmf === undefined ? abstain("unsupported_language") : resolveDtmf(input, input.dtmf);
    }
    const optOut = scanOptOut(tokens);
    if (optOut.kind === "opt_out") return { decision: "opt_out", reason: optOut.reason };
    if (optOut.kind === "unsure") return abstain(optOut.reason);
    // A turn that asks about the call is answered first, never decided on the words around the
    // question ("Yes. Wait, am I talking to a robot?"). Only a state with a branch of its own for
    // "who is this?" takes that question as its answer.
    const asked = detectCallerQuestions(tokens);
    const ownBranch = asked.every((k) => k === "identity") && pick(input.branches, IDENTITY_BRANCHES);
    if (asked.length > 0 && !ownBranch) return abstain("caller_question");
  }
  if (input.dtmf !== undefined) {
    const keyed = resolveDtmf(input, input.dtmf);
    if (tokens.length === 0 || keyed.decision !== "branch")
      return tokens.length === 0 ? keyed : abstain("dtmf_unmapped");
    const spoken = classifyText(input, text, tokens);
    if (
      spoken.decision === "branch" &&
      spoken.branch === keyed.branch &&
      sameCaptures(spoken.captures, keyed.captures)
    ) {
      return branch(
        keyed.branch,
        { ...spoken.captures, ...keyed.captures },
        keyed.confidence,
        "dtmf_speech_agree",
      );
    }
    return abstain("dtmf_speech_disagree");
  }
  if (tokens.length === 0) return abstain("empty");
  return classifyText(input, text, tokens);
}
