/** Data the interpreter consumes and produces: events in, effects out, and the JSON snapshot stored per call. */
import type { EndpointingOverrides, VadOverrides } from "./schema";

/** Something that happened on the call, fed to `step`. */
export type FlowEvent =
  | { type: "start" }
  | { type: "intent"; branch: string; captures?: Record<string, string>; text?: string }
  | { type: "no_speech" }
  | { type: "dtmf"; digit: string }
  | { type: "amd"; result: "human" | "machine" | "unknown" }
  | {
      type: "action_result";
      actionId: string;
      ok: boolean;
      outcome?: string;
      data?: Record<string, string | number | boolean>;
    }
  | { type: "opt_out" }
  | { type: "max_duration" }
  | { type: "caller_hangup" };

/** What the current state listens for; the turn engine classifies the caller's turn into `branches`. */
export interface ListeningSpec {
  stateId: string;
  /** Caller-intent branch names of the state (no system events or action outcomes). */
  branches: string[];
  /** Branches valid in every listening state (e.g. opt_out). */
  globalBranches: string[];
  captures: string[];
  /** DTMF keys the state maps to branches. */
  dtmfKeys: string[];
  /** Use the larger model for this turn. */
  reasoning: boolean;
  /** The state wants a short free-text reply written by the model. */
  reply: boolean;
  noSpeechTimeoutMs: number;
  vad: VadOverrides;
  endpointing: EndpointingOverrides;
}

/** A JSON-safe audit/log record. */
export interface FlowLogEvent {
  type: string;
  [key: string]: string | number | boolean | null | string[] | undefined;
}

/** One action to run; params are rendered from variables (a param whose variables are unknown is omitted). */
export interface ActionCall {
  id: string;
  name: string;
  params: Record<string, string>;
}

/** Instructions for the shell (the call's Durable Object). */
export type Effect =
  | { type: "say"; text: string; cacheable: boolean; stateId: string; lineId: string }
  | ({ type: "listen" } & ListeningSpec)
  | { type: "run_actions"; actions: ActionCall[]; parallel: boolean }
  | { type: "transfer"; target?: string }
  | { type: "hangup"; reason: string }
  | { type: "capture"; key: string; value: string }
  | { type: "log"; event: FlowLogEvent };

/** Actions the current state is waiting on. */
export interface PendingActions {
  stateId: string;
  parallel: boolean;
  actions: {
    id: string;
    name: string;
    optional: boolean;
    outcomes: string[];
    params: Record<string, string>;
  }[];
  results: Record<string, { ok: boolean; outcome: string | null }>;
}

/** Everything needed to resume a call mid-flow. Plain JSON: stored on every transition. */
export interface FlowSnapshot {
  version: 1;
  flowId: string;
  status: "ready" | "active" | "ended";
  state: string;
  phase: "idle" | "listening" | "actions" | "ended";
  vars: Record<string, string>;
  /** Times each state has been entered. */
  visits: Record<string, number>;
  /** Where a `resume` state returns to. */
  returnTo: string | null;
  pending: PendingActions | null;
  ignoredEvents: number;
  transitions: number;
  /** States entered, in order (the most recent MAX_PATH entries). */
  path: string[];
  endReason: string | null;
  optedOut: boolean;
  startedAtMs: number;
  updatedAtMs: number;
}

/** The outcome of one `step`. */
export interface StepResult {
  snapshot: FlowSnapshot;
  effects: Effect[];
}
