// Isolates the LLM's view of the conversation: bounded, only what the caller heard of agent lines, and a per-call system part that stays byte-identical across turns.
import type { HistoryEntry } from "../providers/ports";

/** Appended to an agent line the caller cut off, so the model knows it was not all said. */
export const INTERRUPTED_MARK = "[interrupted]";

/** Bounds on what is sent to the LLM each turn. */
export interface HistoryLimits {
  /** Keep at most this many lines (newest kept). */
  maxEntries: number;
  /** Keep at most this many characters of line text (newest kept; the newest line always stays). */
  maxChars: number;
}

/** ~10 exchanges and ~1k tokens: plenty for a booking call, short enough for a fast first token. */
export const DEFAULT_HISTORY_LIMITS: HistoryLimits = { maxEntries: 20, maxChars: 4000 };

/** Immutable conversation history. */
export interface ConversationHistory {
  readonly limits: HistoryLimits;
  readonly entries: readonly HistoryEntry[];
}

/** An agent line and how much of it the caller heard. */
export interface AgentLine {
  /** The full text the agent meant to say. */
  text: string;
  /**
   * What the caller heard: the heard text from the playback tracker, or a character count
   * into `text`. Omitted when the line played to the end.
   */
  heard?: string | number;
}

/** Empty history with the given bounds. */
export function createHistory(limits: HistoryLimits = DEFAULT_HISTORY_LIMITS): ConversationHistory {
  if (!(limits.maxEntries >= 1 && limits.maxChars >= 1)) throw new RangeError("history limits must be >= 1");
  return { limits, entries: [] };
}

function bound(limits: HistoryLimits, entries: readonly HistoryEntry[]): HistoryEntry[] {
  const kept: HistoryEntry[] = [];
  let chars = 0;
  for (let i = entries.length - 1; i >= 0; i -= 1) {
    const e = entries[i];
    if (e === undefined) continue;
    if (kept.length > 0 && (kept.length >= limits.maxEntries || chars + e.text.length > limits.maxChars))
      break;
    kept.unshift(e);
    chars += e.text.length;
  }
  return kept;
}

function append(history: ConversationHistory, entry: HistoryEntry): ConversationHistory {
  return { limits: history.limits, entries: bound(history.limits, [...history.entries, entry]) };
}

/** `text.slice(0, chars)` cut back to the last whole word. */
function wordPrefixOf(text: string, chars: number): string {
  if (chars >= text.length) return text.trim();
  if (chars <= 0) return "";
  const boundary = /\s/.test(text.charAt(chars)) ? chars : text.lastIndexOf(" ", chars);
  return boundary <= 0 ? "" : text.slice(0, boundary).trim();
}

/**
 * The text to keep for an agent line: all of it when fully heard, else the heard prefix
 * plus INTERRUPTED_MARK, or undefined when the caller heard none of it (as if never said).
 */
export function heardLine(line: AgentLine): string | undefined {
  const full = line.text.trim();
  if (line.heard === undefined) return full === "" ? undefined : full;
  const heard = typeof line.heard === "number" ? wordPrefixOf(line.text, line.heard) : line.heard.trim();
  // A heard text that is not a prefix of the line cannot be trusted beyond its length.
  const prefix = full.startsWith(heard) ? heard : wordPrefixOf(line.text, heard.length);
  if (prefix === full) return full === "" ? undefined : full;
  return prefix === "" ? undefined : `${prefix} ${INTERRUPTED_MARK}`;
}

/** Record what the caller said (final transcript). Empty turns are not recorded. */
export function addCallerLine(history: ConversationHistory, text: string): ConversationHistory {
  const t = text.trim();
  return t === "" ? history : append(history, { role: "user", text: t });
}

/** Record an agent line, keeping only what the caller heard. */
export function addAgentLine(history: ConversationHistory, line: AgentLine): ConversationHistory {
  const text = heardLine(line);
  return text === undefined ? history : append(history, { role: "assistant", text });
}

/** Facts fixed for the whole call: who the agent is and what it knows about this caller. */
export interface CallContext {
  persona: string;
  facts: Readonly<Record<string, string | number | boolean>>;
}

/**
 * The per-call system text placed right after the fixed system prompt. Rendered from facts
 * fixed at call start, keys sorted, so it is byte-identical on every turn of the call and the
 * provider's prompt cache covers fixed prefix + this + all earlier history.
 */
export function buildCallSystem(context: CallContext): string {
  const keys = Object.keys(context.facts).sort();
  const lines = keys.map((k) => `${k}: ${String(context.facts[k])}`);
  return [context.persona.trim(), ...lines].join("\n");
}

/** The per-call part of an LLM decision request (see `DecisionRequest` in providers/ports). */
export interface PromptParts {
  system: string;
  history: readonly HistoryEntry[];
}

/** Assemble the per-call prompt parts for this turn. */
export function buildPromptParts(context: CallContext, history: ConversationHistory): PromptParts {
  return { system: buildCallSystem(context), history: history.entries };
}
