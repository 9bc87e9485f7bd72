/**
 * Replay against a real model: each scripted caller turn that names the decision it expects is
 * classified by a {@link LanguageModel} with the flow's listening spec for that state, as the call
 * engine would ask it, and compared with the expected branch. No audio, no Worker: the prompt is
 * the unit under test.
 */
import { initialSnapshot } from "../../flow/interpreter";
import type { Flow } from "../../flow/schema";
import { listeningSpec } from "../../flow/transitions";
import type { HistoryEntry, LanguageModel } from "../../providers/ports";
import type { CallerTurn, ReplayCase } from "./script";

/** The call engine's per-call system text (durable-objects/call-session.ts). */
export const ENGINE_PERSONA = "You are a polite UK phone assistant. Keep any reply under 30 words.";

/** One classified turn. */
export interface LiveTurnResult {
  turn: number;
  state: string;
  text: string;
  expected: string;
  got: string | null;
  pass: boolean;
  error?: string;
  firstTokenMs?: number;
}

/** One case (or one working-hours variant of it). */
export interface LiveCaseResult {
  name: string;
  variant: "open" | "closed" | null;
  knownIssue: string | null;
  turns: LiveTurnResult[];
  pass: boolean;
}

/** Models to ask, as the engine picks them (`reasoning: true` states use the reasoning model). */
export interface LiveModels {
  fast: string;
  reasoning: string;
}

function statePrompt(flow: Flow, stateId: string): string {
  const s = flow.states[stateId];
  return s?.ask ?? s?.say ?? "";
}

async function classifyTurns(
  flow: Flow,
  c: ReplayCase,
  turns: readonly CallerTurn[],
  llm: LanguageModel,
  models: LiveModels,
  nowMs: number,
): Promise<LiveTurnResult[]> {
  const base = initialSnapshot(flow, c.vars, nowMs);
  const history: HistoryEntry[] = [];
  const out: LiveTurnResult[] = [];
  for (const [i, turn] of turns.entries()) {
    const d = turn.decision;
    const text = turn.say;
    if (!d || text === undefined || d.branch === "no_speech") continue;
    history.push({ role: "assistant", text: statePrompt(flow, d.state) });
    history.push({ role: "user", text });
    const spec = listeningSpec(flow, { ...base, state: d.state, status: "active", phase: "listening" });
    if (!spec) {
      out.push({
        turn: i + 1,
        state: d.state,
        text,
        expected: d.branch,
        got: null,
        pass: false,
        error: "state does not listen",
      });
      continue;
    }
    try {
      const decision = await llm.decide({
        model: spec.reasoning ? models.reasoning : models.fast,
        system: ENGINE_PERSONA,
        history,
        state: {
          id: spec.stateId,
          prompt: statePrompt(flow, spec.stateId),
          branches: [...spec.branches, ...spec.globalBranches],
          captures: spec.captures,
          wantsReply: spec.reply,
        },
      });
      out.push({
        turn: i + 1,
        state: d.state,
        text,
        expected: d.branch,
        got: decision.branch,
        pass: decision.branch === d.branch,
        firstTokenMs: Math.round(decision.firstTokenMs),
      });
    } catch (err) {
      out.push({
        turn: i + 1,
        state: d.state,
        text,
        expected: d.branch,
        got: null,
        pass: false,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
  return out;
}

/** Classify every decision-bearing turn of a case (both working-hours variants when it has them). */
export async function classifyCase(
  c: ReplayCase,
  flow: Flow,
  llm: LanguageModel,
  models: LiveModels,
  nowMs: number,
): Promise<LiveCaseResult[]> {
  const variants: { variant: "open" | "closed" | null; turns: readonly CallerTurn[] }[] = c.byHours
    ? [
        { variant: "open", turns: c.byHours.open.turns },
        { variant: "closed", turns: c.byHours.closed.turns },
      ]
    : [{ variant: null, turns: c.turns }];
  const results: LiveCaseResult[] = [];
  for (const v of variants) {
    const turns = await classifyTurns(flow, c, v.turns, llm, models, nowMs);
    results.push({
      name: c.name,
      variant: v.variant,
      knownIssue: c.knownIssue ?? null,
      turns,
      pass: turns.every((t) => t.pass),
    });
  }
  return results;
}

/** A one-line-per-turn text summary. */
export function formatLiveResults(results: readonly LiveCaseResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    const label = `${r.name}${r.variant ? ` [${r.variant}]` : ""}`;
    lines.push(
      `${r.pass ? "PASS" : "FAIL"}  ${label}${r.turns.length === 0 ? " (no spoken decisions)" : ""}`,
    );
    for (const t of r.turns) {
      if (t.pass) continue;
      lines.push(
        `      turn ${t.turn} in ${t.state}: expected ${t.expected}, got ${t.got ?? "nothing"}${t.error ? ` (${t.error})` : ""}`,
      );
    }
  }
  const passed = results.filter((r) => r.pass).length;
  lines.push(`${passed}/${results.length} passed`);
  return lines.join("\n");
}
