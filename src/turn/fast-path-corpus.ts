// Isolates the labelled fast-path corpus format and its scoring (precision on decided turns, abstain share).
import { z } from "zod";
import { classifyFastPath, type FastPathDecision, SLOT_CAPTURE } from "./fast-path";

const SlotSchema = z.object({
  choice: z.string(),
  weekday: z.string().optional(),
  hour: z.number().int().min(0).max(23).optional(),
  minute: z.number().int().min(0).max(59).optional(),
});

const StateSchema = z.object({
  prompt: z.string(),
  branches: z.array(z.string()).min(1),
  captures: z.array(z.string()),
  slots: z.array(SlotSchema).optional(),
  dtmfMap: z.record(z.string(), z.string()).optional(),
});

const CaseSchema = z
  .object({
    state: z.string(),
    text: z.string().optional(),
    dtmf: z.string().optional(),
    language: z.string().optional(),
    /** "abstain", "opt_out", or the expected branch name. */
    expect: z.string(),
    /** Expected `slot_choice` capture when `expect` is `slot_selected`. */
    slot: z.string().optional(),
  })
  .refine((c) => c.text !== undefined || c.dtmf !== undefined, "a case needs text or dtmf");

/** The corpus file: named states and utterances labelled with the expected outcome. */
export const FastPathCorpusSchema = z
  .object({ states: z.record(z.string(), StateSchema), cases: z.array(CaseSchema) })
  .refine((c) => c.cases.every((k) => c.states[k.state] !== undefined), "every case names a known state");

export type FastPathCorpus = z.infer<typeof FastPathCorpusSchema>;
export type FastPathCase = FastPathCorpus["cases"][number];

/** One case's outcome. */
export interface CaseResult {
  case: FastPathCase;
  decision: FastPathDecision;
  /** The classifier decided (did not abstain). */
  decided: boolean;
  /** The outcome matches the label (an abstain is correct only when the label is "abstain"). */
  correct: boolean;
}

/** Corpus-level scores. */
export interface CorpusScore {
  total: number;
  decided: number;
  correctDecided: number;
  /** correct decisions / decisions (1 when nothing was decided). */
  precision: number;
  /** abstentions / total. */
  abstainShare: number;
  /** labelled decisions the classifier took / labelled decisions. */
  recall: number;
  results: CaseResult[];
}

function matches(c: FastPathCase, d: FastPathDecision): boolean {
  if (d.decision === "abstain") return c.expect === "abstain";
  if (d.decision === "opt_out") return c.expect === "opt_out";
  if (d.branch !== c.expect) return false;
  return c.slot === undefined || d.captures[SLOT_CAPTURE] === c.slot;
}

/** Run the classifier over every case and score it. */
export function scoreFastPathCorpus(corpus: FastPathCorpus): CorpusScore {
  const results = corpus.cases.map((c): CaseResult => {
    const state = corpus.states[c.state];
    const decision = classifyFastPath({
      text: c.text,
      dtmf: c.dtmf,
      language: c.language,
      branches: state?.branches ?? [],
      captures: state?.captures ?? [],
      slots: state?.slots,
      dtmfMap: state?.dtmfMap,
    });
    return { case: c, decision, decided: decision.decision !== "abstain", correct: matches(c, decision) };
  });
  const decided = results.filter((r) => r.decided);
  const correctDecided = decided.filter((r) => r.correct).length;
  const labelled = results.filter((r) => r.case.expect !== "abstain");
  return {
    total: results.length,
    decided: decided.length,
    correctDecided,
    precision: decided.length === 0 ? 1 : correctDecided / decided.length,
    abstainShare: results.length === 0 ? 0 : (results.length - decided.length) / results.length,
    recall:
      labelled.length === 0 ? 1 : labelled.filter((r) => r.decided && r.correct).length / labelled.length,
    results,
  };
}
