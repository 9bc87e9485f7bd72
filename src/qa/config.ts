/**
 * QA scorecard configuration: criterion weights, clarity and latency thresholds, what counts as a pitch,
 * which flows need consent, and the calling window. One zod schema with defaults for the shipped flows.
 */
import { z } from "zod";
import { CallingWindowSchema } from "../flow/schema";
import { UK_DEFAULT_CALLING_WINDOW } from "../flow/time";

/** The scorecard's criterion ids, in the order they are shown. */
export const CRITERION_IDS = ["answered", "consent", "compliance", "clarity", "outcome", "latency"] as const;
export type CriterionId = (typeof CRITERION_IDS)[number];

const weight = z.number().min(0).max(100);

/** Schema of the QA configuration; every field has a default. */
export const QaConfigSchema = z.object({
  /** Relative weight of each criterion in the 0–100 score. */
  weights: z
    .object({
      /**
       * Every caller turn answered. A caller who spoke and got no answer is the worst call we can make, so
       * this weight outweighs all the others together: with 70 of 170, a dead call that passes every other
       * criterion scores 100/170 = 59 (never above 60), and the usual dead call (no outcome either) 50.
       */
      answered: weight.default(70),
      consent: weight.default(25),
      compliance: weight.default(30),
      clarity: weight.default(15),
      outcome: weight.default(15),
      latency: weight.default(15),
    })
    .prefault({}),
  /**
   * States that count as the pitch, per flow id. A flow not listed here: every state entered after the
   * first one counts as a pitch unless it is in `neutralStates` (strict by default).
   */
  pitchStates: z.record(z.string(), z.array(z.string())).default({
    "outbound-booking": [
      "qualify",
      "clarify",
      "book",
      "alternative_times",
      "confirm",
      "objection",
      "send_video",
    ],
    "inbound-triage": [],
  }),
  /** States that are never a pitch (greetings, reprompts, closes, opt-out lines, voicemail). */
  neutralStates: z
    .array(z.string())
    .default([
      "greeting",
      "reprompt",
      "close",
      "opt_out",
      "opt_out_noted",
      "leave_voicemail",
      "wrong_party",
      "check_hours",
    ]),
  disclosure: z
    .object({
      /** Events proving the AI disclosure was given (the shipped greetings disclose both in one marked line). */
      aiDisclosureTypes: z.array(z.string()).default(["flow.ai_disclosure", "flow.recording_notice"]),
      /** Events proving the recording notice was given. */
      recordingNoticeTypes: z.array(z.string()).default(["flow.recording_notice"]),
    })
    .prefault({}),
  /** Flow ids whose calls must record a granted consent (`consent.recorded`) before the first pitch. */
  consentRequiredFlows: z.array(z.string()).default([]),
  compliance: z
    .object({
      /** After an opt-out request, the suppression (`opt_out.recorded`) must follow within this time. */
      optOutMaxDelayMs: z.number().int().positive().default(5_000),
      /** Outbound calls always expect an AMD result (Twilio async AMD on every dial). */
      amdExpectedOnOutbound: z.boolean().default(false),
      /** Calling window (local time) for outbound calls, and the zone it is read in. */
      callingWindow: CallingWindowSchema.default(UK_DEFAULT_CALLING_WINDOW),
      timeZone: z.string().default("Europe/London"),
    })
    .prefault({}),
  clarity: z
    .object({
      maxReprompts: z.number().int().nonnegative().default(2),
      maxLowConfidenceTurns: z.number().int().nonnegative().default(1),
      maxBargeIns: z.number().int().nonnegative().default(3),
      maxLongSilences: z.number().int().nonnegative().default(1),
      /** A reply slower than this (voice to voice) is dead air for the caller. */
      longSilenceMs: z.number().int().positive().default(3_000),
    })
    .prefault({}),
  answered: z
    .object({
      /**
       * A caller turn is answered when the agent responds (a new line, a flow step, or the agent ending the
       * call) within this time. A caller who hangs up sooner is not left unanswered.
       */
      turnBudgetMs: z.number().int().positive().default(6_000),
    })
    .prefault({}),
  latency: z
    .object({
      p50BudgetMs: z.number().int().positive().default(1_000),
      p95BudgetMs: z.number().int().positive().default(1_600),
    })
    .prefault({}),
  /** Outcomes that pass the outcome criterion. */
  passingOutcomes: z
    .array(z.string())
    .default(["booked", "callback", "transfer", "opt_out", "voicemail", "message"]),
});

export type QaConfig = z.output<typeof QaConfigSchema>;
export type QaConfigInput = z.input<typeof QaConfigSchema>;

/** Parse a (partial) QA configuration; throws a ZodError on bad values. */
export function qaConfig(input: QaConfigInput = {}): QaConfig {
  return QaConfigSchema.parse(input);
}

/** The defaults. */
export const DEFAULT_QA_CONFIG: QaConfig = qaConfig();
