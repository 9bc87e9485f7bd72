/**
 * Decides one caller turn: the deterministic fast path first, the LLM only when it abstains, and a
 * confirmation question instead of an action when a keyed digit and the spoken answer disagree.
 * No I/O of its own beyond the injected LLM port.
 */
import { mergeVadConfig, parseVadConfigOverride, type VadConfig } from "../audio/vad-config";
import type { Flow } from "../flow/schema";
import { formatSlotForSpeech, localParts } from "../flow/time";
import type { FlowEvent, FlowSnapshot, ListeningSpec } from "../flow/types";
import type { HistoryEntry, LanguageModel, LlmRecoveryStep } from "../providers/ports";
import { type CallerQuestionKind, detectCallerQuestions } from "../turn/caller-question";
import { type DtmfOption, reconcile, type SpokenAnswer } from "../turn/dtmf-speech";
import { classifyFastPath, SLOT_CAPTURE } from "../turn/fast-path";
import { IDENTITY_BRANCHES } from "../turn/fast-path-lexicon";
import { tokenize } from "../turn/normalise";
import { scanOptOut } from "../turn/opt-out";
import type { SlotOption } from "../turn/slot-choice";
import { callerQuestionReply } from "./caller-answer";

const WEEKDAY_NAMES = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

export type TurnOutcome =
  | { kind: "event"; event: FlowEvent; by: "fast_path" | "llm"; firstTokenMs?: number; reply?: string }
  /** A state that wants a reply: its words stream as they are generated; the decision follows. */
  | { kind: "streaming"; replyDeltas: AsyncIterable<string>; result: Promise<TurnOutcome> }
  | { kind: "confirm"; question: string; by: "fast_path" | "llm"; firstTokenMs?: number }
  /** The caller asked about the call: say `text` (the answer, then the state's question) and stay listening. */
  | {
      kind: "answer";
      questions: CallerQuestionKind[];
      text: string;
      reasked: boolean;
      by: "fast_path";
      firstTokenMs?: number;
    }
  | { kind: "llm_failed"; event: FlowEvent; error: string };

export interface DecideInput {
  text: string;
  spec: ListeningSpec;
  flow: Flow;
  snapshot: FlowSnapshot;
  history: readonly HistoryEntry[];
  persona: string;
  models: { fast: string; reasoning: string };
  llm: LanguageModel;
  signal: AbortSignal;
  /** A digit keyed for the same prompt while the caller was talking. */
  heldDtmf?: string;
  /** "Now" for phrasing times in a re-asked question; defaults to the snapshot's last step. */
  nowMs?: number;
  /** Told when the LLM decision was retried or sent to the fallback model (for the audit trail). */
  onLlmRecovery?: (step: LlmRecoveryStep) => void;
}

function zoneOf(flow: Flow, snapshot: FlowSnapshot): string {
  return snapshot.vars.time_zone ?? flow.timeZone;
}

/** Slots offered in this state (`slot_1`, `slot_2` instants), so "Tuesday" or "half ten" can pick one. */
export function offeredSlots(flow: Flow, snapshot: FlowSnapshot): SlotOption[] {
  const out: SlotOption[] = [];
  for (const choice of ["1", "2"]) {
    const ms = Date.parse(snapshot.vars[`slot_${choice}`] ?? "");
    if (Number.isNaN(ms)) continue;
    const local = localParts(ms, zoneOf(flow, snapshot));
    const weekday = WEEKDAY_NAMES[local.weekday];
    out.push({ choice, ...(weekday ? { weekday } : {}), hour: local.hour, minute: local.minute });
  }
  return out;
}

/** The fast path names the chosen slot by number; a flow capturing `slot` gets the slot's variable name. */
export function slotCaptures(captures: Record<string, string>, spec: ListeningSpec): Record<string, string> {
  const choice = captures[SLOT_CAPTURE];
  if (choice === undefined || !spec.captures.includes("slot")) return captures;
  const { [SLOT_CAPTURE]: _, ...rest } = captures;
  return { ...rest, slot: `slot_${choice}` };
}

/** The state's keypad options, labelled with the slot they pick when they pick one. */
export function dtmfOptions(flow: Flow, snapshot: FlowSnapshot): DtmfOption[] {
  const map = flow.states[snapshot.state]?.dtmf ?? {};
  return Object.entries(map).map(([digit, target]) => {
    const t = typeof target === "string" ? { branch: target } : target;
    const slotVar = t.captures?.slot;
    const iso = slotVar ? snapshot.vars[slotVar] : undefined;
    const label =
      iso && !Number.isNaN(Date.parse(iso)) ? formatSlotForSpeech(iso, zoneOf(flow, snapshot)) : undefined;
    return {
      digit,
      branch: t.branch,
      ...(t.captures ? { captures: t.captures } : {}),
      ...(label ? { label } : {}),
    };
  });
}

function settle(
  answer: SpokenAnswer,
  input: DecideInput,
  by: "fast_path" | "llm",
  extra: { firstTokenMs?: number; reply?: string } = {},
): TurnOutcome {
  if (input.heldDtmf === undefined) {
    return {
      kind: "event",
      by,
      ...extra,
      event: { type: "intent", branch: answer.branch, captures: { ...answer.captures }, text: input.text },
    };
  }
  const r = reconcile({
    options: dtmfOptions(input.flow, input.snapshot),
    dtmf: input.heldDtmf,
    spoken: answer,
  });
  if (r.action === "confirm") {
    return {
      kind: "confirm",
      by,
      question: r.question,
      ...(extra.firstTokenMs === undefined ? {} : { firstTokenMs: extra.firstTokenMs }),
    };
  }
  return {
    kind: "event",
    by,
    ...extra,
    event: { type: "intent", branch: r.branch, captures: r.captures, text: input.text },
  };
}

/** Phrases of a mailbox greeting: a machine is talking, whatever the state's branches are. */
const MAILBOX_PHRASES = [
  /\bleave (a|your|me a) (short )?message\b/,
  /\bafter the (tone|beep)\b/,
  /\b(voice ?mail|mailbox)\b/,
  /\b(can(no|')?t|cannot|unable to) (take|answer|get to) (your|the|my) (call|phone)\b/,
  /\bnot available to take your call\b/,
];

/** True when the words are an answering machine's greeting rather than a person's answer. */
export function looksLikeMailboxGreeting(text: string): boolean {
  const t = text.toLowerCase().replace(/[’]/g, "'");
  return MAILBOX_PHRASES.some((re) => re.test(t));
}

/** Decide a caller turn. Resolves; never rejects (an LLM failure becomes the flow's fallback event). */
export async function decideTurn(input: DecideInput): Promise<TurnOutcome> {
  const { spec, flow, snapshot, text } = input;
  // A mailbox greeting in the opening state is a machine answer (the message then waits for the beep).
  if (
    snapshot.state === flow.initial &&
    flow.states[flow.initial]?.on?.voicemail &&
    looksLikeMailboxGreeting(text)
  ) {
    return { kind: "event", by: "fast_path", event: { type: "amd", result: "machine" } };
  }
  const fast = classifyFastPath({
    text,
    branches: spec.branches,
    captures: spec.captures,
    slots: offeredSlots(flow, snapshot),
  });
  if (fast.decision === "opt_out") return { kind: "event", by: "fast_path", event: { type: "opt_out" } };
  if (fast.decision === "branch") {
    return settle(
      { branch: fast.branch, captures: slotCaptures(fast.captures, spec), text },
      input,
      "fast_path",
    );
  }
  const answer = answerQuestions(input);
  if (answer !== null) return answer;
  if (spec.reply && input.heldDtmf === undefined) {
    const stream = input.llm.decideStream(decisionRequest(input));
    const result = stream.result.then(
      (decision): TurnOutcome => {
        if (decision.branch === "opt_out" && spec.globalBranches.includes("opt_out")) {
          return {
            kind: "event",
            by: "llm",
            firstTokenMs: decision.firstTokenMs,
            event: { type: "opt_out" },
          };
        }
        return {
          kind: "event",
          by: "llm",
          firstTokenMs: decision.firstTokenMs,
          ...(decision.reply ? { reply: decision.reply } : {}),
          event: { type: "intent", branch: decision.branch, captures: { ...decision.captures }, text },
        };
      },
      (err: unknown): TurnOutcome => llmFailed(err, spec, text),
    );
    return { kind: "streaming", replyDeltas: stream.replyDeltas, result };
  }
  try {
    const decision = await input.llm.decide(decisionRequest(input));
    if (decision.branch === "opt_out" && spec.globalBranches.includes("opt_out")) {
      return { kind: "event", by: "llm", firstTokenMs: decision.firstTokenMs, event: { type: "opt_out" } };
    }
    const reply = decision.reply && spec.reply ? decision.reply : undefined;
    return settle({ branch: decision.branch, captures: decision.captures, text }, input, "llm", {
      firstTokenMs: decision.firstTokenMs,
      ...(reply ? { reply } : {}),
    });
  } catch (err) {
    return llmFailed(err, spec, text);
  }
}

/**
 * A turn that asks about the call itself gets a deterministic answer (it must not depend on the LLM
 * being up: AI disclosure is a compliance matter), then the state's question again, and the call
 * stays where it was. Anything else the turn said is deliberately not acted on: in "Yes. Wait, am I
 * talking to a robot?" the "yes" was given before the caller knew who they were talking to, so the
 * safe reading is to answer and ask again rather than take the "yes" (a wrong "yes" books a meeting
 * or pitches the wrong person; asking again costs one turn). A turn whose opt-out mention is
 * negated or hypothetical ("why did you stop calling me?") is left to the LLM, which can still
 * choose opt-out: stopping calls matters more than answering first.
 */
function answerQuestions(input: DecideInput): TurnOutcome | null {
  const tokens = tokenize(input.text);
  if (scanOptOut(tokens).kind !== "none") return null;
  const questions = detectCallerQuestions(tokens);
  if (questions.length === 0) return null;
  // A state with its own "who is this?" branch handles that question itself (as the fast path does).
  const ownBranch = input.spec.branches.some((b) => IDENTITY_BRANCHES.includes(b));
  if (ownBranch && questions.every((k) => k === "identity")) return null;
  const reply = callerQuestionReply(
    input.flow,
    input.snapshot,
    questions,
    input.nowMs ?? input.snapshot.updatedAtMs,
  );
  return { kind: "answer", by: "fast_path", questions, text: reply.text, reasked: reply.reasked };
}

function llmFailed(err: unknown, spec: ListeningSpec, text: string): TurnOutcome {
  const unclear = spec.branches.find((b) => b === "unclear" || b === "unknown" || b === "clarify");
  return {
    kind: "llm_failed",
    error: err instanceof Error ? err.message : String(err),
    event: unclear ? { type: "intent", branch: unclear, text } : { type: "no_speech" },
  };
}

function decisionRequest(input: DecideInput) {
  const { spec, flow } = input;
  return {
    model: spec.reasoning ? input.models.reasoning : input.models.fast,
    system: input.persona,
    history: input.history,
    state: {
      id: spec.stateId,
      prompt: flow.states[spec.stateId]?.ask ?? flow.states[spec.stateId]?.say ?? "",
      branches: [...spec.branches, ...spec.globalBranches],
      captures: spec.captures,
      wantsReply: spec.reply,
    },
    signal: input.signal,
    ...(input.onLlmRecovery ? { onRecovery: input.onLlmRecovery } : {}),
  };
}

/** The call's VAD settings with the listening state's overrides layered on top. */
export function stateVadConfig(base: VadConfig, spec: Pick<ListeningSpec, "vad" | "endpointing">): VadConfig {
  return mergeVadConfig(base, parseVadConfigOverride({ vad: spec.vad, endpointing: spec.endpointing }));
}
