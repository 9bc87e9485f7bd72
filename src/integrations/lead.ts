/**
 * The web-form lead body: one zod schema with human-readable messages, UK phone normalisation to
 * E.164, IANA time-zone check and the honeypot. Pure: no I/O, no clock.
 */
import { z } from "zod";
import { normaliseToE164 } from "../lead/number-policy";

/**
 * Normalise a phone number to E.164 with the numbering plan (libphonenumber-js): national UK numbers
 * (`07700 900123`, `(0)20 7946 0000`) become `+44…`; `00` international prefixes become `+`; spaces,
 * dots, dashes and brackets are dropped. Returns undefined when the number cannot exist. Whether a
 * lead's number may be dialled is a separate decision (`checkNumber` in src/lead/number-policy.ts).
 */
export function normalisePhone(raw: string): string | undefined {
  return normaliseToE164(raw);
}

/** True when `tz` is an IANA zone this runtime knows (`Europe/London`). */
export function isValidTimeZone(tz: string): boolean {
  if (!/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(tz)) return false;
  try {
    new Intl.DateTimeFormat("en-GB", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** "x is required" when absent, "x must be …" when present with the wrong type. */
const typeError =
  (field: string, what = "a string") =>
  (issue: { input?: unknown }) =>
    issue.input === undefined ? `${field} is required` : `${field} must be ${what}`;

const text = (field: string, max: number) =>
  z
    .string({ error: typeError(field) })
    .trim()
    .min(1, { error: `${field} is required` })
    .max(max, { error: `${field} must be at most ${max} characters` });

/** Schema for `POST /api/ingest/lead`. Unknown fields (utm_* and the like) are stripped. */
export const leadSchema = z.object({
  // Angle brackets are no part of any person's name and are how chat markup (`<!channel>`, links) starts.
  name: text("name", 200).refine((v) => !/[<>]/.test(v), { error: "name must not contain < or >" }),
  email: z
    .string({ error: typeError("email") })
    .trim()
    .toLowerCase()
    .pipe(z.email({ error: "email must be a valid email address" }).max(254, { error: "email is too long" })),
  phone: z
    .string({ error: typeError("phone") })
    .max(40, { error: "phone is too long" })
    .transform((v, ctx) => {
      const e164 = normalisePhone(v);
      if (e164 === undefined) {
        ctx.addIssue({
          code: "custom",
          message:
            "phone must be an international number like +447700900123 or a UK number like 07700 900123",
        });
        return z.NEVER;
      }
      return e164;
    }),
  intent: text("intent", 500),
  source: text("source", 200),
  site_id: z
    .string({ error: typeError("site_id") })
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, { error: "site_id must be 1-64 letters, digits, _ or -" }),
  consent: z
    .object(
      {
        given: z.boolean({ error: typeError("consent.given", "true or false") }),
        text: z
          .string({ error: typeError("consent.text") })
          .trim()
          .max(2_000, {
            error: "consent.text must be at most 2000 characters",
          }),
        /** The site's consent wording version the form showed (see `LEAD_SITES[site].consent`). */
        version: z
          .string({ error: typeError("consent.version") })
          .trim()
          .max(64, { error: "consent.version must be at most 64 characters" })
          .optional(),
      },
      { error: typeError("consent", "an object { given, text }") },
    )
    .refine((c) => !c.given || c.text.length > 0, {
      error: "consent.text must say what was consented to when consent.given is true",
      path: ["text"],
    }),
  timezone: z
    .string({ error: typeError("timezone") })
    .refine(isValidTimeZone, { error: "timezone must be an IANA zone such as Europe/London" })
    .optional(),
  /** Cloudflare Turnstile token from the form's widget (also accepted under the widget's own field name). */
  turnstile_token: z
    .string({ error: typeError("turnstile_token") })
    .max(2_048)
    .optional(),
  "cf-turnstile-response": z
    .string({ error: typeError("cf-turnstile-response") })
    .max(2_048)
    .optional(),
  website: z.string({ error: "website must be empty" }).max(0, { error: "website must be empty" }).optional(),
  idempotency_key: z
    .string({ error: typeError("idempotency_key") })
    .regex(/^[A-Za-z0-9_.:-]{8,128}$/, { error: "idempotency_key must be 8-128 letters, digits or _.:-" })
    .optional(),
});

/** A validated, normalised lead. */
export type Lead = z.infer<typeof leadSchema>;

/** One problem with a submitted lead, for the 4xx body. */
export interface LeadIssue {
  path: string;
  message: string;
}

/** Validate a parsed JSON body. Never throws. */
export function parseLead(body: unknown): { ok: true; lead: Lead } | { ok: false; issues: LeadIssue[] } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, issues: [{ path: "", message: "body must be a JSON object" }] };
  }
  const result = leadSchema.safeParse(body);
  if (result.success) return { ok: true, lead: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((i) => ({
      path: i.path.map(String).join("."),
      message: i.message,
    })),
  };
}
