/** Pure LLM decision plumbing: the one narrow tool generated from a flow state, the prompt layout, argument parsing. */
import { z } from "zod";
import type { DecisionState, HistoryEntry, NamedSpec } from "./ports";

/** Tool function name; constant so the serialized prefix varies as little as possible between states. */
export const DECISION_TOOL_NAME = "decide";

/**
 * Fixed system prompt prefix. Byte-identical across turns and calls so the provider's prompt cache
 * applies; everything per-call or per-state goes after it.
 */
export const DECISION_SYSTEM_PROMPT =
  "You classify a caller's last turn on a phone call. Call the decide function exactly once. " +
  "Pick the branch that best matches what the caller meant; if unsure, pick the branch meaning unclear if there is one. " +
  "Fill a capture only with what the caller actually said. A reply, when asked for, is one short spoken sentence, at most 30 tokens, British English.";

/** JSON schema of the decision tool in Chat Completions `tools[]` form. */
export interface DecisionTool {
  type: "function";
  function: {
    name: string;
    description: string;
    strict: true;
    parameters: Record<string, unknown>;
  };
}

function specName(spec: NamedSpec): string {
  return typeof spec === "string" ? spec : spec.name;
}

function specDescription(spec: NamedSpec): string | undefined {
  return typeof spec === "string" ? undefined : spec.description;
}

/** Branch names of a state, in order. */
export function branchNames(state: DecisionState): string[] {
  return state.branches.map(specName);
}

/**
 * Build the single narrow function for a state: `branch` is an enum of the state's branches, each
 * capture is an optional (nullable) string, `reply` exists only when the state wants one and comes
 * last so it can be streamed. Strict mode: every property required, optional ones nullable.
 */
export function buildDecisionTool(state: DecisionState): DecisionTool {
  const branches = branchNames(state);
  if (branches.length === 0) throw new Error(`state ${state.id} has no branches`);
  const properties: Record<string, unknown> = { branch: { type: "string", enum: branches } };
  const required = ["branch"];
  if (state.captures.length > 0) {
    const captureProps: Record<string, unknown> = {};
    for (const c of state.captures) {
      const description = specDescription(c);
      captureProps[specName(c)] = {
        type: ["string", "null"],
        ...(description === undefined ? {} : { description }),
      };
    }
    properties.captures = {
      type: "object",
      properties: captureProps,
      required: state.captures.map(specName),
      additionalProperties: false,
    };
    required.push("captures");
  }
  if (state.wantsReply) {
    properties.reply = { type: "string", description: "One short spoken sentence, at most 30 tokens." };
    required.push("reply");
  }
  const hints = state.branches
    .filter((b) => specDescription(b) !== undefined)
    .map((b) => `${specName(b)}: ${specDescription(b) ?? ""}`);
  return {
    type: "function",
    function: {
      name: DECISION_TOOL_NAME,
      description: hints.length > 0 ? `Branches: ${hints.join("; ")}` : "Classify the caller's turn.",
      strict: true,
      parameters: { type: "object", properties, required, additionalProperties: false },
    },
  };
}

/** Chat message shape we send (a subset of the Chat Completions message union). */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/**
 * Prompt layout, most stable first: fixed prefix, per-call system text, history, then the state.
 * Only the tail changes turn to turn.
 */
export function buildDecisionMessages(
  system: string,
  history: readonly HistoryEntry[],
  state: DecisionState,
): ChatMessage[] {
  return [
    { role: "system", content: DECISION_SYSTEM_PROMPT },
    { role: "system", content: system },
    ...history.map((h): ChatMessage => ({ role: h.role, content: h.text })),
    { role: "system", content: `Current step ${state.id}: ${state.prompt}` },
  ];
}

const decisionArgs = z.object({
  branch: z.string(),
  captures: z.record(z.string(), z.string().nullable()).optional(),
  reply: z.string().nullable().optional(),
});

/** Parsed tool arguments. */
export interface ParsedDecision {
  branch: string;
  captures: Record<string, string>;
  reply?: string;
}

/** Validate tool-call arguments against the state; returns an error message instead of throwing. */
export function parseDecisionArguments(
  json: string,
  state: DecisionState,
): { ok: true; value: ParsedDecision } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return { ok: false, error: "arguments are not JSON" };
  }
  const parsed = decisionArgs.safeParse(raw);
  if (!parsed.success) return { ok: false, error: "arguments do not match the decision schema" };
  if (!branchNames(state).includes(parsed.data.branch)) return { ok: false, error: "branch not in state" };
  const allowed = new Set(state.captures.map(specName));
  const captures: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed.data.captures ?? {})) {
    if (allowed.has(k) && typeof v === "string" && v.length > 0) captures[k] = v;
  }
  const reply = parsed.data.reply;
  return {
    ok: true,
    value: {
      branch: parsed.data.branch,
      captures,
      ...(state.wantsReply && typeof reply === "string" ? { reply } : {}),
    },
  };
}

/**
 * Incrementally extracts the decoded value of the top-level `"reply"` string from streamed JSON
 * argument fragments, so reply text can go to TTS before the tool call completes.
 */
export class ReplyFieldExtractor {
  private buffer = "";
  private valueStart = -1;
  private scanned = 0;
  private finished = false;

  /** Feed the next fragment; returns newly decoded reply text ("" if none yet). */
  push(fragment: string): string {
    this.buffer += fragment;
    if (this.finished) return "";
    if (this.valueStart < 0) {
      const m = /"reply"\s*:\s*"/.exec(this.buffer);
      if (m === null) return "";
      this.valueStart = m.index + m[0].length;
      this.scanned = this.valueStart;
    }
    let out = "";
    let i = this.scanned;
    while (i < this.buffer.length) {
      const ch = this.buffer[i];
      if (ch === '"') {
        this.finished = true;
        i++;
        break;
      }
      if (ch === "\\") {
        const next = this.buffer[i + 1];
        if (next === undefined) break;
        if (next === "u") {
          const hex = this.buffer.slice(i + 2, i + 6);
          if (hex.length < 4) break;
          out += String.fromCharCode(Number.parseInt(hex, 16));
          i += 6;
          continue;
        }
        const map: Record<string, string> = { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f" };
        out += map[next] ?? next;
        i += 2;
        continue;
      }
      out += ch;
      i++;
    }
    this.scanned = i;
    return out;
  }
}
