/**
 * The web-form lead body: one zod schema with human-readable messages, UK phone normalisation to
 * E.164, IANA time-zone check and the honeypot. Pure: no I/O, no clock.
 */
import { z } from "zod";

const E164 = /^\+[1-9]\d{7,14}$/;

/**
 * Normalise a phone number to E.164. National UK numbers (`07700 900123`, `(0)20 7946 0000`) become
 * `+44…`; `00` international prefixes become `+`; spaces, dots, dashes and brackets are dropped.
 * Returns undefined when the result is not a plausible E.164 number.
 */
export function normalisePhone(raw: string): string | undefined {
  let s = raw.trim().replace(/\(0\)/g, "");
  if (!/^\+?[\d\s().-]+$/.test(s)) return undefined;
  s = s.replace(/[\s().-]/g, "");
  if (s.startsWith("00")) s = `+${s.slice(2)}`;
  else if (s.startsWith("0")) s = `+44${s.slice(1)}`;
  else if (!s.startsWith("+")) return undefined;
  if (!E164.test(s)) return undefined;
  // UK numbers have 9 or 10 digits after the country code.
  if (s.startsWith("+44") && !/^\+44\d{9,10}$/.test(s)) return undefined;
  return s;
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
  name: text("name", 200),
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
