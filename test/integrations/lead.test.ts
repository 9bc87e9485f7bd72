import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalisePhone, parseLead } from "../../src/integrations/lead";

const GOOD = {
  name: "Jo Bloggs",
  email: "Jo@Example.co.uk",
  phone: "07700 900123",
  intent: "demo",
  source: "pricing-page",
  site_id: "acme-main",
  consent: { given: true, text: "I agree to be called about my enquiry." },
  timezone: "Europe/London",
  website: "",
  idempotency_key: "form-2026-03-02-abc123",
};

describe("lead schema", () => {
  it("accepts a good lead and normalises email and UK phone", () => {
    const res = parseLead(GOOD);
    expect(res.ok).toBe(true);
    if (res.ok) {
      expect(res.lead.phone).toBe("+447700900123");
      expect(res.lead.email).toBe("jo@example.co.uk");
    }
  });

  it("accepts a minimal lead without the optional fields and strips unknown ones", () => {
    const { timezone: _t, website: _w, idempotency_key: _k, ...minimal } = GOOD;
    const res = parseLead({ ...minimal, utm_source: "x", consent: { given: false, text: "" } });
    expect(res.ok).toBe(true);
    expect(res.ok && "utm_source" in res.lead).toBe(false);
  });

  it.each([
    ["07700 900123", "+447700900123"],
    ["07700-900-123", "+447700900123"],
    ["+44 (0)7700 900123", "+447700900123"],
    ["0044 7700 900123", "+447700900123"],
    ["020 7946 0000", "+442079460000"],
    ["+1 415 867 5309", "+14158675309"],
  ])("normalises %s to %s", (raw, e164) => {
    expect(normalisePhone(raw)).toBe(e164);
  });

  it.each(["", "07700", "7700900123", "+44 7700 900123 999", "+0 123 4567", "call me", "0770090012a"])(
    "rejects the phone number %j",
    (raw) => {
      expect(normalisePhone(raw)).toBeUndefined();
    },
  );

  it.each([
    [{ ...GOOD, website: "http://spam.example" }, "website", "website must be empty"],
    [{ ...GOOD, timezone: "Mars/Olympus" }, "timezone", "IANA"],
    [{ ...GOOD, consent: { given: true, text: "" } }, "consent.text", "consented"],
    [{ ...GOOD, consent: true }, "consent", "consent must be"],
    [{ ...GOOD, email: "not-an-email" }, "email", "valid email"],
    [{ ...GOOD, name: undefined }, "name", "name is required"],
    [{ ...GOOD, phone: 7700900123 }, "phone", "phone must be a string"],
    [{ ...GOOD, site_id: "../etc" }, "site_id", "site_id"],
    [{ ...GOOD, idempotency_key: "x" }, "idempotency_key", "8-128"],
  ])("rejects %# with a reason on %s", (body, path, message) => {
    const res = parseLead(body);
    expect(res.ok).toBe(false);
    if (!res.ok) {
      const issue = res.issues.find((i) => i.path === path);
      expect(issue?.message).toContain(message);
    }
  });

  it("rejects non-object bodies", () => {
    for (const body of [null, [], "lead", 42]) {
      expect(parseLead(body)).toEqual({
        ok: false,
        issues: [{ path: "", message: "body must be a JSON object" }],
      });
    }
  });

  it("rejects 1,000 generated bad payloads, each with a field and a reason", () => {
    const required = ["name", "email", "phone", "intent", "source", "site_id", "consent"] as const;
    const badValue = fc.oneof(
      fc.constant(undefined),
      fc.constant(null),
      fc.integer(),
      fc.boolean(),
      fc.constant(""),
      fc.constant("   "),
      fc.array(fc.string(), { maxLength: 2 }),
      fc.string({ minLength: 3000, maxLength: 3100 }),
    );
    const mutation = fc.oneof(
      // A required field missing, wrong-typed, blank or oversized.
      fc.record({ field: fc.constantFrom(...required), value: badValue }),
      // Malformed values that are the right type.
      fc.record({
        field: fc.constant("email"),
        value: fc.string({ maxLength: 30 }).filter((s) => !s.includes("@")),
      }),
      fc.record({ field: fc.constant("phone"), value: fc.stringMatching(/^[a-z]{1,12}$/) }),
      fc.record({ field: fc.constant("site_id"), value: fc.stringMatching(/^[/. ]{1,5}[a-z]{0,5}$/) }),
      fc.record({ field: fc.constant("timezone"), value: fc.stringMatching(/^Nowhere\/[A-Z][a-z]{2,8}$/) }),
      // The honeypot filled in by a bot.
      fc.record({ field: fc.constant("website"), value: fc.string({ minLength: 1, maxLength: 40 }) }),
      fc.record({
        field: fc.constant("consent"),
        value: fc.oneof(fc.constant({ given: true, text: "" }), fc.constant({ given: "yes", text: "ok" })),
      }),
    );
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
        const body: Record<string, unknown> = { ...GOOD };
        for (const m of mutations) {
          if (m.value === undefined) delete body[m.field];
          else body[m.field] = m.value;
        }
        const res = parseLead(body);
        expect(res.ok).toBe(false);
        if (!res.ok) {
          expect(res.issues.length).toBeGreaterThan(0);
          for (const issue of res.issues) expect(issue.message.length).toBeGreaterThan(5);
          const fields = new Set(res.issues.map((i) => i.path.split(".")[0]));
          expect(mutations.some((m) => fields.has(m.field))).toBe(true);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it("never throws on arbitrary input", () => {
    fc.assert(
      fc.property(fc.anything(), (body) => {
        expect(typeof parseLead(body).ok).toBe("boolean");
      }),
      { numRuns: 500 },
    );
  });
});
