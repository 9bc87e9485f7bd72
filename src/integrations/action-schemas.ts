/**
 * The narrow parameter schemas of the in-call actions the flow can name. Each accepts only what
 * its action needs, so a flow (or an LLM extraction) cannot smuggle anything else through.
 */
import { z } from "zod";
import { isValidTimeZone, normalisePhone } from "./lead";

/** Action names a flow state may use in `action`. */
export const ACTION_NAMES = [
  "cal.com:propose_slots",
  "cal.com:create_booking",
  "crm:create_meeting",
  "crm:add_suppression",
  "transfer_to_human",
  "chat:notify",
] as const;

/** One of {@link ACTION_NAMES}. */
export type ActionName = (typeof ACTION_NAMES)[number];

const timeZone = z.string().refine(isValidTimeZone, { error: "timezone must be an IANA zone" });
const isoInstant = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s)), {
  error: "must be an ISO 8601 date-time",
});
const phone = z.string().transform((v, ctx) => {
  const e164 = normalisePhone(v);
  if (e164 === undefined) {
    ctx.addIssue({ code: "custom", message: "must be a phone number in E.164 form" });
    return z.NEVER;
  }
  return e164;
});
const email = z.string().trim().toLowerCase().pipe(z.email());
const shortText = (max: number) => z.string().trim().min(1).max(max);

const ROUTING_KEYS = ["channel", "url", "webhook", "webhook_url"];

/** Free-text context a flow passes along (names, reasons); short strings only. */
const contextField = z.string().max(500);

/** Parameter schema per action. Names follow the flow files (`start`, `subject`); older aliases are accepted. */
export const ACTION_PARAM_SCHEMAS = {
  "cal.com:propose_slots": z.strictObject({
    timezone: timeZone.optional(),
    horizon_days: z.coerce.number().int().min(1).max(14).optional(),
    /** The caller's words ("Thursday afternoon"); narrows the offered slots when it names a day or part of day. */
    preferred_time: z.string().max(200).optional(),
  }),
  "cal.com:create_booking": z
    .strictObject({
      start: isoInstant.optional(),
      slot_iso: isoInstant.optional(),
      name: shortText(200),
      email,
      timezone: timeZone.optional(),
      phone: phone.optional(),
      notes: z.string().max(1_000).optional(),
    })
    .refine((p) => p.start !== undefined || p.slot_iso !== undefined, { error: "start: required" })
    .transform(({ slot_iso, start, ...rest }) => ({ ...rest, slot_iso: (start ?? slot_iso) as string })),
  "crm:create_meeting": z
    .strictObject({
      start: isoInstant.optional(),
      slot_iso: isoInstant.optional(),
      /** Free-text time ("after five") when no exact start is known: recorded as a follow-up note. */
      when: shortText(200).optional(),
      email,
      name: shortText(200).optional(),
      phone: phone.optional(),
      length_minutes: z.coerce.number().int().min(5).max(240).optional(),
      subject: shortText(200).optional(),
      title: shortText(200).optional(),
      booking_uid: shortText(100).optional(),
    })
    .refine((p) => p.start !== undefined || p.slot_iso !== undefined || p.when !== undefined, {
      error: "start or when: required",
    })
    .transform(({ start, slot_iso, subject, title, ...rest }) => ({
      ...rest,
      slot_iso: start ?? slot_iso,
      title: subject ?? title,
    })),
  "crm:add_suppression": z.strictObject({
    phone: phone.optional(),
    reason: shortText(200).optional(),
  }),
  transfer_to_human: z.strictObject({
    to: phone.optional(),
    reason: shortText(200).optional(),
    first_name: contextField.optional(),
  }),
  "chat:notify": z
    .object({
      text: shortText(3_000).optional(),
      queue: shortText(80).optional(),
      template: shortText(80).optional(),
    })
    .catchall(contextField)
    .refine((p) => Object.keys(p).length > 0, { error: "text or fields: required" })
    // Where the message goes is configuration, never something a flow or a caller can choose.
    .refine((p) => !ROUTING_KEYS.some((k) => k in p), {
      error: "channel, url and webhook are not parameters",
    }),
} satisfies Record<ActionName, z.ZodType>;

/** Parsed parameters of action `N`. */
export type ActionParams<N extends ActionName> = z.output<(typeof ACTION_PARAM_SCHEMAS)[N]>;

/** Type guard for action names coming from flow files. */
export function isActionName(name: string): name is ActionName {
  return (ACTION_NAMES as readonly string[]).includes(name);
}
