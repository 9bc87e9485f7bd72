/**
 * The call-script format shared by `npm run simulate`, the conversation replay suite and
 * `npm run replay:live`: caller turns (speech, DTMF, silence, AMD, hang-up) and what to expect.
 * Pure: zod schemas and parsing only.
 */
import { z } from "zod";

/** Twilio `AnsweredBy` values (protocols.md §4). */
export const ANSWERED_BY = [
  "human",
  "machine_start",
  "machine_end_beep",
  "machine_end_silence",
  "machine_end_other",
  "fax",
  "unknown",
] as const;

/**
 * Where an AMD delay counts from. `answer`: the call was answered (stream start); `agentAudio`: the
 * agent's first audio; `turnStart`: this turn begins (after any wait for the agent); `speechEnd`: the
 * caller's speech in this turn ended; `agentReply`: the agent's next audio after this turn's speech.
 */
export const AMD_ANCHORS = ["answer", "agentAudio", "turnStart", "speechEnd", "agentReply"] as const;
const CASE_ANCHORS: readonly AmdAnchor[] = ["answer", "agentAudio"];

/** Twilio's async AMD callback, posted concurrently with the conversation at a delay from an anchor. */
export const AmdScheduleSchema = z.object({
  answeredBy: z.enum(ANSWERED_BY),
  afterMs: z
    .number()
    .int()
    .min(0)
    .max(120_000)
    .optional()
    .describe("Delay after the anchor (default: a seeded 2000–5000 ms after answer, else 0)."),
  from: z.enum(AMD_ANCHORS).optional().describe("Anchor (turn default `turnStart`, case default `answer`)."),
});

/**
 * How the local STT emulator returns this turn's words: the awkward-but-legal shapes real Deepgram
 * produces (deepgram-session.ts). Ignored against a deployed app.
 */
export const SttShapeSchema = z.object({
  speechFinal: z
    .boolean()
    .optional()
    .describe("false: the final has no speech_final; UtteranceEnd ends the turn."),
  splitFinal: z
    .boolean()
    .optional()
    .describe("The words come in two finals, the first without speech_final."),
  emptyFinalBefore: z.boolean().optional().describe("An empty final comes first."),
  interimOnlyMs: z
    .number()
    .int()
    .min(0)
    .max(10_000)
    .optional()
    .describe("Interims only, this long, before the final."),
  finalDelayMs: z.number().int().min(0).max(10_000).optional().describe("The final arrives this much later."),
});

/** The decision a turn should produce in a given state (checked by the replay suite and replay:live). */
export const TurnDecisionSchema = z.object({
  state: z.string().min(1).describe("Flow state the call must be listening in when the turn starts."),
  branch: z.string().min(1).describe("Branch the turn should take (`opt_out` for the global opt-out)."),
});

/** One caller turn. Steps run in this order: silence, speech, DTMF, AMD callback, hang-up. */
export const CallerTurnSchema = z
  .object({
    say: z
      .string()
      .min(1)
      .max(500)
      .optional()
      .describe("What the caller says (registered with the local STT emulator as what it recognises)."),
    fixture: z
      .string()
      .regex(/^[a-z0-9/-]{1,80}$/)
      .optional()
      .describe("Recorded speech fixture to stream instead of synthetic speech-like audio."),
    dtmf: z
      .string()
      .regex(/^[0-9*#]{1,8}$/)
      .optional()
      .describe("Keys pressed after the speech."),
    waitForAgent: z
      .boolean()
      .default(true)
      .describe("Wait until the agent has spoken and its audio has played out before this turn."),
    bargeInAfterMs: z
      .number()
      .int()
      .min(0)
      .max(60_000)
      .optional()
      .describe("Instead of waiting for the agent to finish, start talking this long into its next line."),
    silenceMs: z
      .number()
      .int()
      .min(0)
      .max(120_000)
      .optional()
      .describe("Caller stays silent this long (wall clock) before the rest of the turn."),
    trailingSilenceMs: z
      .number()
      .int()
      .min(0)
      .max(10_000)
      .optional()
      .describe("Silence streamed after the speech (default 1200 ms) so the STT endpoints."),
    noiseSnrDb: z
      .number()
      .min(-10)
      .max(60)
      .optional()
      .describe("Mix white line noise into this turn's audio at this signal-to-noise ratio."),
    stt: SttShapeSchema.optional(),
    amd: z
      .union([z.enum(ANSWERED_BY), AmdScheduleSchema])
      .optional()
      .describe(
        "Twilio's async AMD callback: a bare result is posted after the turn's speech, in turn order; " +
          "a schedule fires concurrently at its delay without holding the turn up.",
      ),
    hangup: z.boolean().optional().describe("The caller hangs up (Twilio sends `stop`) after this turn."),
    decision: TurnDecisionSchema.optional(),
    note: z.string().max(300).optional(),
  })
  .refine(
    (t) =>
      t.say !== undefined ||
      t.fixture !== undefined ||
      t.dtmf !== undefined ||
      t.silenceMs !== undefined ||
      t.amd !== undefined ||
      t.hangup === true,
    { message: "a turn needs at least one of say, fixture, dtmf, silenceMs, amd, hangup" },
  );

/** A simulated call: which flow, its variables, who calls whom, and the caller's turns. */
export const CallScriptSchema = z.object({
  name: z.string().max(120).optional(),
  description: z.string().max(1000).optional(),
  flow: z.string().regex(/^[a-z0-9-]{1,64}$/),
  vars: z.record(z.string().regex(/^[a-z0-9_]{1,40}$/), z.string().max(200)).default({}),
  from: z.string().default("+447700900123"),
  to: z.string().default("+442071234567"),
  direction: z.enum(["inbound", "outbound-api"]).optional(),
  campaign: z.string().max(64).optional(),
  turns: z.array(CallerTurnSchema).max(100),
  amdAt: z
    .array(
      AmdScheduleSchema.refine((a) => a.from === undefined || CASE_ANCHORS.includes(a.from), {
        message: "a call-level AMD counts from answer or agentAudio",
      }),
    )
    .max(4)
    .default([])
    .describe("AMD callbacks scheduled for the whole call (Twilio's real timing: 2–5 s after answer)."),
});

/** `{ present: true }` (any value) or an exact value; `null` = must be absent. */
export const CaptureExpectationSchema = z.union([
  z.string(),
  z.null(),
  z.object({ present: z.literal(true) }),
]);

/** What a replay case asserts about the finished call. */
export const ExpectationSchema = z.object({
  path: z.array(z.string()).optional().describe("Exact state path of the flow snapshot."),
  pathStartsWith: z.array(z.string()).optional(),
  pathIncludes: z.array(z.string()).optional(),
  pathExcludes: z.array(z.string()).optional(),
  ended: z.boolean().default(true),
  endReason: z.string().optional(),
  captures: z.record(z.string(), CaptureExpectationSchema).default({}),
  booking: z.boolean().optional().describe("A Cal.com booking exists for this call."),
  bookedSlot: z.enum(["slot_1", "slot_2"]).optional().describe("The booking starts at this offered slot."),
  optOut: z.boolean().optional().describe("An opt_out.recorded event is in the audit trail."),
  events: z.array(z.string()).default([]).describe("Audit event types that must be present."),
  absentEvents: z.array(z.string()).default([]),
  slack: z
    .object({
      contains: z.array(z.string()).min(1).optional(),
      absent: z.array(z.string()).min(1).optional(),
    })
    .optional()
    .describe("Some Slack message contains all of `contains`; no message contains all of `absent`."),
  agentAudio: z.boolean().default(true).describe("The caller heard agent audio."),
  clears: z
    .object({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() })
    .optional(),
  amdLanded: z
    .array(z.enum(["agent_speaking", "agent_silent", "not_sent"]))
    .optional()
    .describe("Per scheduled AMD callback, in firing order: was the caller's phone playing agent audio."),
  spokenContains: z
    .array(z.string())
    .default([])
    .describe("Text the agent sent to TTS on this call must contain these (computed placeholders allowed)."),
});

/** Per-emulator faults injected before a replay case runs (and cleared after). */
export const FaultsSchema = z.object({
  calcom: z.array(z.record(z.string(), z.unknown())).optional(),
  hubspot: z.array(z.record(z.string(), z.unknown())).optional(),
  slack: z.array(z.record(z.string(), z.unknown())).optional(),
  openai: z.record(z.string(), z.unknown()).optional(),
  deepgram: z.record(z.string(), z.unknown()).optional(),
  elevenlabs: z.record(z.string(), z.unknown()).optional(),
});

const HoursVariantSchema = z.object({ turns: z.array(CallerTurnSchema), expect: ExpectationSchema });

/** A conversation replay case: a call script plus its expectations. */
export const ReplayCaseSchema = CallScriptSchema.extend({
  name: z.string().min(1).max(120),
  description: z.string().min(1).max(1000),
  expect: ExpectationSchema,
  faults: FaultsSchema.optional(),
  /** Agent audio plays this many times faster than real time (1 for barge-in and backchannel cases). */
  playbackSpeed: z.number().min(1).max(50).default(20),
  /** Flows that route on the clock: the turns and expectations for open and closed hours. */
  byHours: z.object({ open: HoursVariantSchema, closed: HoursVariantSchema }).optional(),
  /** A product bug this case exposes; the suite skips it with this reason until it is fixed. */
  knownIssue: z.string().min(1).optional(),
});

export type TurnDecision = z.infer<typeof TurnDecisionSchema>;
export type SttShape = z.infer<typeof SttShapeSchema>;
/** One utterance for the STT emulator: its text, or its text and the shape it comes back in. */
export type ScriptedUtterance = string | ({ text: string } & SttShape);
export type AmdAnchor = (typeof AMD_ANCHORS)[number];
export type AmdSchedule = z.infer<typeof AmdScheduleSchema>;
export type CallerTurn = z.infer<typeof CallerTurnSchema>;
export type CallScript = z.infer<typeof CallScriptSchema>;
export type Expectation = z.infer<typeof ExpectationSchema>;
export type ReplayCase = z.infer<typeof ReplayCaseSchema>;
export type CaseFaults = z.infer<typeof FaultsSchema>;

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
}

/** Parse a call script (JSON text or value); throws an Error naming every problem. */
export function parseCallScript(input: unknown, source = "script"): CallScript {
  const value = typeof input === "string" ? (JSON.parse(input) as unknown) : input;
  const r = CallScriptSchema.safeParse(value);
  if (!r.success) throw new Error(`${source}: ${describeIssues(r.error)}`);
  return r.data;
}

/** Parse a replay case (JSON text or value); throws an Error naming every problem. */
export function parseReplayCase(input: unknown, source = "case"): ReplayCase {
  const value = typeof input === "string" ? (JSON.parse(input) as unknown) : input;
  const r = ReplayCaseSchema.safeParse(value);
  if (!r.success) throw new Error(`${source}: ${describeIssues(r.error)}`);
  return r.data;
}

/** The turns and expectations that apply, given whether the flow's working hours are open now. */
export function caseVariant(c: ReplayCase, open: boolean): { turns: CallerTurn[]; expect: Expectation } {
  if (!c.byHours) return { turns: c.turns, expect: c.expect };
  return open ? c.byHours.open : c.byHours.closed;
}

/** Utterances the local STT emulator should recognise, one per spoken turn, in order. */
export function scriptedUtterances(turns: readonly CallerTurn[]): ScriptedUtterance[] {
  return turns
    .filter((t) => t.say !== undefined || t.fixture !== undefined)
    .map((t) => (t.stt ? { text: t.say ?? "", ...t.stt } : (t.say ?? "")));
}
