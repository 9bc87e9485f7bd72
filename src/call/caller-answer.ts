/**
 * The agent's deterministic reply to a caller's question about the call (who, AI, why, where from,
 * recorded): facts from the flow and the call's variables, then the state's own question again.
 * Pure: flow and snapshot in, text out; never needs the LLM.
 */
import { actionsOf, intentBranches } from "../flow/graph";
import { reaskLine } from "../flow/reask";
import type { Flow } from "../flow/schema";
import type { FlowSnapshot } from "../flow/types";
import { answerCallerQuestions, type CallerFacts, type CallerQuestionKind } from "../turn/caller-question";
import { recordingAllowed } from "./recorder";

/**
 * Call variables the answers read (a flow declares them with spoken fallbacks; a call may override):
 * `agent_name`, `business_name`, `call_purpose` (completes "I'm calling …"), `lead_source`
 * (completes "We have your details from …").
 */
export const CALLER_FACT_VARIABLES = ["agent_name", "business_name", "call_purpose", "lead_source"] as const;

function factVar(flow: Flow, snapshot: FlowSnapshot, name: string): string | undefined {
  const value = (snapshot.vars[name] ?? flow.variables[name]?.fallback ?? "").replace(/[{}]/g, "").trim();
  return value === "" ? undefined : value;
}

/** A state hands the call to a person: it runs `transfer_to_human` or ends in a transfer. */
function transfers(flow: Flow, name: string): boolean {
  const state = flow.states[name];
  return (
    state !== undefined &&
    (state.end === "transfer" || actionsOf(state).some((a) => a.name === "transfer_to_human"))
  );
}

/** The caller can reach a person from `stateName` by asking: one of its intent branches leads to a transfer. */
export function personReachable(flow: Flow, stateName: string): boolean {
  const state = flow.states[stateName];
  if (state === undefined) return false;
  return intentBranches(state).some((b) => {
    const target = state.on?.[b];
    return target !== undefined && target !== stateName && transfers(flow, target);
  });
}

/** What this call may truthfully say about itself, from where it is now. */
export function callerFacts(flow: Flow, snapshot: FlowSnapshot): CallerFacts {
  const agentName = factVar(flow, snapshot, "agent_name");
  const businessName = factVar(flow, snapshot, "business_name");
  const purpose = factVar(flow, snapshot, "call_purpose");
  const leadSource = factVar(flow, snapshot, "lead_source");
  return {
    direction: flow.direction,
    ...(agentName ? { agentName } : {}),
    ...(businessName ? { businessName } : {}),
    ...(purpose ? { purpose } : {}),
    ...(leadSource ? { leadSource } : {}),
    // The same rule the shell uses to decide whether to record (src/call/recorder.ts).
    recorded: recordingAllowed(flow),
    personAvailable: personReachable(flow, snapshot.state),
  };
}

/** The answer to the caller's questions, then the state's question again (when it has one). */
export function callerQuestionReply(
  flow: Flow,
  snapshot: FlowSnapshot,
  kinds: readonly CallerQuestionKind[],
  nowMs: number,
): { text: string; reasked: boolean } {
  const answer = answerCallerQuestions(kinds, callerFacts(flow, snapshot));
  const again = reaskLine(flow, snapshot, nowMs);
  return { text: again === null ? answer : `${answer} ${again}`.trim(), reasked: again !== null };
}
