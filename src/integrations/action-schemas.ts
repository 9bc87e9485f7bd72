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

/** Parameter schema per action. */
export const ACTION_PARAM_SCHEMAS = {
  "cal.com:propose_slots": z.strictObject({
    timezone: timeZone.optional(),
    horizon_days: z.coerce.number().int().min(1).max(14).optional(),
  }),
  "cal.com:create_booking": z.strictObject({
    slot_iso: isoInstant,
    name: shortText(200),
    email,
    timezone: timeZone.optional(),
    phone: phone.optional(),
    notes: z.string().max(1_000).optional(),
  }),
  "crm:create_meeting": z.strictObject({
    slot_iso: isoInstant,
    email,
    name: shortText(200).optional(),
    phone: phone.optional(),
    length_minutes: z.coerce.number().int().min(5).max(240).optional(),
    title: shortText(200).optional(),
    booking_uid: shortText(100).optional(),
  }),
  "crm:add_suppression": z.strictObject({
    phone: phone.optional(),
    reason: shortText(200).optional(),
  }),
  transfer_to_human: z.strictObject({
    to: phone.optional(),
    reason: shortText(200).optional(),
  }),
  "chat:notify": z.strictObject({
    text: shortText(3_000),
  }),
} satisfies Record<ActionName, z.ZodType>;

/** Parsed parameters of action `N`. */
export type ActionParams<N extends ActionName> = z.infer<(typeof ACTION_PARAM_SCHEMAS)[N]>;

/** Type guard for action names coming from flow files. */
export function isActionName(name: string): name is ActionName {
  return (ACTION_NAMES as readonly string[]).includes(name);
}
