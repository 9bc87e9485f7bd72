/**
 * The fast-path classifier against the replay suite's labelled turns: how many caller turns it decides
 * without the LLM (share) and how many of those match the labelled branch (agreement). Pure.
 */
import { initialSnapshot } from "../../flow/interpreter";
import type { Flow } from "../../flow/schema";
import { listeningSpec } from "../../flow/transitions";
import { classifyFastPath } from "../../turn/fast-path";
import type { CallerTurn, ReplayCase } from "./script";

/** One labelled turn the fast path decided differently from its label. */
export interface FastPathDisagreement {
  caseName: string;
  turn: number;
  state: string;
  expected: string;
  got: string;
}

export interface ReplayFastPathScore {
  /** Spoken turns with a labelled decision. */
  turns: number;
  /** Turns the fast path decided (the rest go to the LLM). */
  decided: number;
  /** Decided turns whose branch matched the label. */
  agreed: number;
  disagreements: FastPathDisagreement[];
}

function turnsOf(c: ReplayCase): readonly CallerTurn[] {
  return c.byHours ? [...c.byHours.open.turns, ...c.byHours.closed.turns] : c.turns;
}

/** Score the fast path on every spoken, labelled turn of the cases (each with its flow). */
export function scoreFastPathOnReplay(
  cases: readonly { replay: ReplayCase; flow: Flow }[],
): ReplayFastPathScore {
  const score: ReplayFastPathScore = { turns: 0, decided: 0, agreed: 0, disagreements: [] };
  for (const { replay, flow } of cases) {
    const base = initialSnapshot(flow, replay.vars, 0);
    for (const [i, turn] of turnsOf(replay).entries()) {
      const d = turn.decision;
      if (!d || turn.say === undefined || d.branch === "no_speech") continue;
      const spec = listeningSpec(flow, { ...base, state: d.state, status: "active", phase: "listening" });
      if (!spec) continue;
      score.turns++;
      const fast = classifyFastPath({ text: turn.say, branches: spec.branches, captures: spec.captures });
      if (fast.decision === "abstain") continue;
      score.decided++;
      const got = fast.decision === "opt_out" ? "opt_out" : fast.branch;
      if (got === d.branch) score.agreed++;
      else
        score.disagreements.push({
          caseName: replay.name,
          turn: i + 1,
          state: d.state,
          expected: d.branch,
          got,
        });
    }
  }
  return score;
}
