/** Campaign API shapes (zod): a campaign's settings and the leads added to it. Pure: no I/O. */
import { z } from "zod";
import { CallingWindowSchema } from "../flow/schema";
import { UK_DEFAULT_CALLING_WINDOW } from "../flow/time";

const E164 = z.string().regex(/^\+[1-9]\d{7,14}$/, "must be an E.164 number such as +447700900123");

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-GB", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const TimeZone = z
  .string()
  .min(1)
  .max(64)
  .refine(isTimeZone, "must be an IANA time zone such as Europe/London");

/** Retry policy for attempts that ended `no-answer` or `busy` (other outcomes are never retried). */
export const RetryPolicySchema = z
  .object({
    /** Total attempts per lead, the first one included. */
    maxAttempts: z.number().int().min(1).max(10).default(3),
    /** Wait after a no-answer/busy attempt before the next one. At least 10 minutes. */
    delayMs: z
      .number()
      .int()
      .min(600_000)
      .max(7 * 86_400_000)
      .default(4 * 3_600_000),
  })
  .strict();

/** `POST /api/campaigns` body. */
export const CampaignInputSchema = z
  .object({
    /** Flow the calls run (a bundled flow id). */
    flow: z.string().regex(/^[a-z0-9-]{1,64}$/, "must be a flow id"),
    /** Caller ID presented on every call (a dialable number that reaches us: Ofcom CLI rules). */
    callerId: E164,
    /** Zone for leads that name none. */
    timeZone: TimeZone.default("Europe/London"),
    /** Local-time window in each lead's own zone. Default UK 08:00-21:00 Mon-Sat, no bank holidays. */
    callingWindow: CallingWindowSchema.default(UK_DEFAULT_CALLING_WINDOW),
    maxConcurrentCalls: z.number().int().min(1).max(100).default(2),
    pacingPerMinute: z.number().int().min(1).max(600).default(6),
    retry: RetryPolicySchema.default({ maxAttempts: 3, delayMs: 4 * 3_600_000 }),
  })
  .strict();
export type CampaignInput = z.output<typeof CampaignInputSchema>;

/** One lead to dial. Consent is what the lead agreed to (e.g. on a form); without it the lead is never dialled. */
export const LeadInputSchema = z
  .object({
    phone: E164,
    first_name: z.string().trim().min(1).max(100),
    email: z.email().max(254),
    timezone: TimeZone.optional(),
    consent: z.object({ given: z.boolean(), text: z.string().trim().max(500).default("") }).strict(),
  })
  .strict();
export type LeadInput = z.output<typeof LeadInputSchema>;

/** `POST /api/campaigns/:id/leads` body. */
export const LeadBatchSchema = z.object({ leads: z.array(LeadInputSchema).min(1).max(1000) }).strict();

/** The settings the dialer runs with: the API input plus where Twilio's webhooks point. */
export interface CampaignSettings extends CampaignInput {
  id: string;
  /** Origin of the public webhooks (PUBLIC_BASE_URL, else the origin the campaign was created through). */
  publicBaseUrl: string;
  createdAtMs: number;
}

/** Campaign ids: `cmp_` and 20 lower-case hex characters. */
export const CAMPAIGN_ID = /^cmp_[0-9a-f]{20}$/;

/** A new random campaign id. */
export function newCampaignId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  return `cmp_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
