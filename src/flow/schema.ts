/** Call-flow file format: the single zod definition of a flow. The editor JSON Schema is generated from it. */
import { z } from "zod";
import { AppError } from "../lib/errors";

const NAME = /^[a-z][a-z0-9_]*$/;

/** A state name or branch name: lower_snake_case. */
export const NameSchema = z
  .string()
  .regex(NAME, "must be lower_snake_case (a-z, 0-9, _), starting with a letter");

/** Known action names. The integrations layer implements each; the checker rejects any other. */
export const KNOWN_ACTIONS = [
  "cal.com:propose_slots",
  "cal.com:create_booking",
  "crm:create_meeting",
  "crm:add_suppression",
  "transfer_to_human",
  "chat:notify",
] as const;

export const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const HHMM = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$/, "must be HH:MM (24-hour)");

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-GB", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** An IANA time zone such as "Europe/London". */
export const TimeZoneSchema = z
  .string()
  .refine(isTimeZone, "must be an IANA time zone such as Europe/London");

/** Opening hours: local days and a half-open [start, end) local time range; optionally closed on bank holidays. */
export const WorkingHoursSchema = z
  .object({
    days: z.array(z.enum(WEEKDAYS)).min(1),
    start: HHMM,
    end: HHMM,
    closedOnBankHolidays: z.boolean().optional(),
  })
  .strict();

/** When outbound calls may be placed (local time). Bank holidays (England & Wales) are excluded unless disabled. */
export const CallingWindowSchema = z
  .object({
    days: z.array(z.enum(WEEKDAYS)).min(1),
    start: HHMM,
    end: HHMM,
    excludeBankHolidays: z.boolean().optional(),
    closedDates: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/)).optional(),
  })
  .strict();

/** Per-state overrides of the reference VAD settings (snake_case, as in the reference configuration). */
export const VadOverridesSchema = z
  .object({
    min_speech_ms: z.number().int().min(50).max(1000),
    max_pause_ms: z.number().int().min(100).max(3000),
    noise_gate_db: z.number().min(-90).max(0),
    barge_in: z.boolean(),
    tts_gate_ms: z.number().int().min(0).max(500),
  })
  .partial()
  .strict();

/** Per-state overrides of the STT endpointing settings. */
export const EndpointingOverridesSchema = z
  .object({
    silence_duration_ms: z.number().int().min(100).max(5000),
    utterance_end_ms: z.number().int().min(500).max(10_000),
    speech_final: z.boolean(),
  })
  .partial()
  .strict();

/** One action a state runs. A bare string is shorthand for `{ name }`. */
export const ActionSpecSchema = z
  .object({
    name: z.string().min(1),
    params: z.record(z.string(), z.string()).optional(),
    outcomes: z.array(NameSchema).optional(),
    provides: z.array(NameSchema).optional(),
    optional: z.boolean().optional(),
  })
  .strict();

const DtmfMappingSchema = z.union([
  NameSchema,
  z.object({ branch: NameSchema, captures: z.record(NameSchema, z.string()).optional() }).strict(),
]);

/** Bounded re-entry: after `max` re-entries the flow goes to `exhausted` instead (a polite close or a handoff). */
export const RepromptLimitSchema = z
  .object({ max: z.number().int().min(0).max(10), exhausted: NameSchema, say: z.string().min(1).optional() })
  .strict();

/** One state of a call flow. */
export const FlowStateSchema = z
  .object({
    description: z.string().optional(),
    say: z.string().min(1).optional(),
    ask: z.string().min(1).optional(),
    hold: z.string().min(1).optional(),
    capture: z.array(NameSchema).optional(),
    action: z
      .union([
        z.string().min(1),
        ActionSpecSchema,
        z.array(z.union([z.string().min(1), ActionSpecSchema])).min(1),
      ])
      .optional(),
    parallel: z.boolean().optional(),
    on: z.record(NameSchema, NameSchema).optional(),
    next: NameSchema.optional(),
    resume: z.boolean().optional(),
    check: z.literal("working_hours").optional(),
    end: z.enum(["hangup", "transfer"]).optional(),
    transferTarget: z.string().optional(),
    reprompt: RepromptLimitSchema.optional(),
    noSpeechTimeoutMs: z.number().int().min(1000).max(60_000).optional(),
    reasoning: z.boolean().optional(),
    reply: z.boolean().optional(),
    dtmf: z.record(z.string().regex(/^[0-9*#]$/, "must be one DTMF key"), DtmfMappingSchema).optional(),
    vad: VadOverridesSchema.optional(),
    endpointing: EndpointingOverridesSchema.optional(),
    audit: NameSchema.optional(),
  })
  .strict();

/** A template variable: where its value comes from and what to say when it is missing. */
export const VariableSchema = z
  .object({
    description: z.string().optional(),
    type: z.enum(["text", "instant"]).optional(),
    required: z.boolean().optional(),
    fallback: z.string().optional(),
  })
  .strict();

/** A whole call flow file. */
export const FlowSchema = z
  .object({
    $schema: z.string().optional(),
    id: z.string().regex(/^[a-z][a-z0-9-]*$/, "must be kebab-case"),
    description: z.string().optional(),
    direction: z.enum(["outbound", "inbound"]),
    initial: NameSchema,
    timeZone: TimeZoneSchema.default("Europe/London"),
    variables: z.record(NameSchema, VariableSchema).default({}),
    global: z.object({ opt_out: NameSchema, max_duration: NameSchema }).strict(),
    defaults: z
      .object({ noSpeechTimeoutMs: z.number().int().min(1000).max(60_000).optional() })
      .strict()
      .optional(),
    limits: z
      .object({ maxIgnoredEvents: z.number().int().min(1).max(1000).optional() })
      .strict()
      .optional(),
    workingHours: WorkingHoursSchema.optional(),
    callingWindow: CallingWindowSchema.optional(),
    states: z.record(NameSchema, FlowStateSchema),
  })
  .strict();

export type Flow = z.output<typeof FlowSchema>;
export type FlowInput = z.input<typeof FlowSchema>;
export type FlowState = z.output<typeof FlowStateSchema>;
export type ActionSpec = z.output<typeof ActionSpecSchema>;
export type FlowVariable = z.output<typeof VariableSchema>;
export type WorkingHours = z.output<typeof WorkingHoursSchema>;
export type CallingWindow = z.output<typeof CallingWindowSchema>;
export type VadOverrides = z.output<typeof VadOverridesSchema>;
export type EndpointingOverrides = z.output<typeof EndpointingOverridesSchema>;

/** Default no-speech timeout when neither the state nor the flow sets one. */
export const DEFAULT_NO_SPEECH_TIMEOUT_MS = 6000;
/** Default cap on events that change nothing before the flow closes politely. */
export const DEFAULT_MAX_IGNORED_EVENTS = 20;

/** A flow file that does not match the format; `message` names every failing path. */
export class FlowError extends AppError {
  constructor(
    message: string,
    readonly issues: { path: string[]; message: string }[] = [],
  ) {
    super(422, "flow_invalid", message, issues);
    this.name = "FlowError";
  }
}

/** Render a path as `states.greeting.on.yes`. */
export function formatPath(path: readonly (string | number | symbol)[]): string {
  return path.length === 0 ? "(root)" : path.map((p) => String(p)).join(".");
}

/** Validate unknown JSON as a flow. Throws FlowError whose message lists `path: problem` for each issue. */
export function parseFlow(json: unknown): Flow {
  const result = FlowSchema.safeParse(json);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => {
    const nested =
      i.code === "invalid_key" && i.issues.length > 0 ? `: ${i.issues.map((n) => n.message).join("; ")}` : "";
    return { path: i.path.map((p) => String(p)), message: `${i.message}${nested}` };
  });
  const text = issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join("\n");
  throw new FlowError(`invalid flow:\n${text}`, issues);
}
