/** The line that asks a listening state's question again (after the agent answered a caller's question). Pure. */
import type { Flow, FlowState } from "./schema";
import { templateVariables } from "./template";
import { renderSpokenLine } from "./transitions";
import type { FlowSnapshot } from "./types";

/**
 * The question inside a state's `say` line. The last sentence ending in "?" is enough when it names
 * something itself ("Am I speaking with {{first_name}}?"), so the greeting's introduction is not
 * repeated; a bare question ("Which suits you better?") needs the sentences before it, so the whole
 * line is said again.
 */
function questionOfSay(say: string): string {
  const sentences = say.split(/(?<=[.!?])\s+/);
  const last = [...sentences].reverse().find((s) => s.trim().endsWith("?"));
  return last !== undefined && templateVariables(last).length > 0 ? last.trim() : say;
}

/** The raw template that asks `state`'s question: its `ask`, else the question in its `say`. */
export function reaskTemplate(state: FlowState): string | null {
  if (state.ask !== undefined) return state.ask;
  if (state.say !== undefined) return questionOfSay(state.say);
  return null;
}

/** The state's question as the caller would hear it now, or null when the state asks nothing. */
export function reaskLine(flow: Flow, snapshot: FlowSnapshot, nowMs: number): string | null {
  const state = flow.states[snapshot.state];
  const template = state === undefined ? null : reaskTemplate(state);
  if (template === null) return null;
  const text = renderSpokenLine(flow, snapshot.vars, template, nowMs).text;
  return text === "" ? null : text;
}
