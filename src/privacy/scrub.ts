/** Scrubbing personal data out of audit payloads (JSON) at any depth. Pure. */

/** Payload keys that carry personal data wherever they appear in a payload. */
export const PERSONAL_KEYS = new Set([
  "text",
  "value",
  "from",
  "to",
  "email",
  "name",
  "first_name",
  "last_name",
  "phone",
  "transcript",
  "attendee_name",
  "attendee_email",
  "attendee_phone",
  "caller",
  "callee",
  "digits",
  "digit",
]);
/** Remove personal keys at any depth and blank any string that contains the subject's number or email. */
export function scrubPayload(value: unknown, needles: string[]): unknown {
  if (typeof value === "string") return needles.some((n) => value.includes(n)) ? "[erased]" : value;
  if (Array.isArray(value)) return value.map((v) => scrubPayload(v, needles));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (PERSONAL_KEYS.has(k.toLowerCase())) continue;
      out[k] = scrubPayload(v, needles);
    }
    return out;
  }
  return value;
}
