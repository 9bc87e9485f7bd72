import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  callingZones,
  checkNumber,
  DEFAULT_NUMBER_COUNTRIES,
  DEFAULT_NUMBER_TYPES,
  NUMBER_TYPES,
  type NumberPolicy,
  numberFacts,
} from "../../src/lead/number-policy";

const UK_DEFAULT: NumberPolicy = { countries: DEFAULT_NUMBER_COUNTRIES, types: DEFAULT_NUMBER_TYPES };

describe("lead number policy", () => {
  it.each([
    ["+447400123456", "MOBILE"],
    ["+442079460000", "FIXED_LINE"],
    ["+441612345678", "FIXED_LINE"],
  ])("dials the UK geographic or mobile number %s (%s) by default", (n, type) => {
    const r = checkNumber(n, UK_DEFAULT);
    expect(r.ok).toBe(true);
    expect(r.ok && r.facts.type).toBe(type);
  });

  it.each([
    ["+449098790000", "number_type_not_allowed"], // 09 premium rate
    ["+448711234567", "number_type_not_allowed"], // 087
    ["+448451234567", "number_type_not_allowed"], // 084
    ["+447012345678", "number_type_not_allowed"], // 070 personal number
    ["+448001234567", "number_type_not_allowed"], // freephone
    ["+443001234567", "number_type_not_allowed"], // 03 UAN
    ["+445612345678", "number_type_not_allowed"], // 056 VoIP
    ["+12025550123", "country_not_allowed"],
    ["+33612345678", "country_not_allowed"],
    ["+447624123456", "country_not_allowed"], // Isle of Man mobile: +44 but not GB
    ["+447700900123", "invalid_number"], // Ofcom drama range: never allocated
  ])("refuses %s by default (%s)", (n, reason) => {
    const r = checkNumber(n, UK_DEFAULT);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toBe(reason);
  });

  it("dials premium or international numbers only when the site lists them", () => {
    expect(checkNumber("+449098790000", { countries: ["GB"], types: ["PREMIUM_RATE"] }).ok).toBe(true);
    expect(checkNumber("+33612345678", { countries: ["GB", "FR"], types: ["MOBILE"] }).ok).toBe(true);
  });

  it("never accepts an international or non-geographic/mobile number unless the site allows it (property)", () => {
    // Real numbers of every type and many countries, from the numbering plan's own examples.
    const samples = [
      "+449098790000",
      "+448711234567",
      "+447012345678",
      "+448001234567",
      "+443001234567",
      "+445612345678",
      "+447624123456",
      "+441534123456",
      "+12025550123",
      "+33612345678",
      "+4915123456789",
      "+61412345678",
      "+353851234567",
      "+447400123456",
      "+442079460000",
      "+8613912345678",
      "+919812345678",
      "+27821234567",
      "+34612345678",
      "+16135550123",
    ];
    const policy = fc.record({
      countries: fc.subarray(["GB", "FR", "US", "DE", "IE", "JE", "IM", "AU", "CN", "IN", "ZA", "ES", "CA"]),
      types: fc.subarray([...NUMBER_TYPES]),
    });
    fc.assert(
      fc.property(fc.constantFrom(...samples), policy, (n, p) => {
        const facts = numberFacts(n);
        const r = checkNumber(n, p);
        if (!r.ok) return true;
        // Accepted: the site listed both its country and its type.
        expect(facts?.country !== undefined && p.countries.includes(facts.country)).toBe(true);
        expect(facts?.type !== undefined && (p.types as string[]).includes(facts.type)).toBe(true);
        return true;
      }),
      { seed: 11, numRuns: 500 },
    );
  });

  it("refuses every generated non-GB or non-geographic/mobile number under the default policy (property)", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\+[1-9]\d{7,13}$/), (n) => {
        const r = checkNumber(n, UK_DEFAULT);
        if (!r.ok) return true;
        return (
          r.facts.country === "GB" &&
          ["FIXED_LINE", "MOBILE", "FIXED_LINE_OR_MOBILE"].includes(r.facts.type ?? "")
        );
      }),
      { seed: 5, numRuns: 2_000 },
    );
  });

  it("takes the calling zone from the number's country; the form's zone only narrows it when it agrees", () => {
    expect(callingZones("GB", undefined)).toEqual(["Europe/London"]);
    expect(callingZones("GB", "Pacific/Auckland")).toEqual(["Europe/London"]);
    expect(callingZones("US", "America/Chicago")).toEqual(["America/Chicago"]);
    const us = callingZones("US", "Europe/London");
    expect(us.length).toBeGreaterThan(3);
    expect(us).toContain("America/New_York");
    expect(us).toContain("America/Los_Angeles");
    expect(callingZones(undefined, "Europe/London")).toEqual([]);
  });
});
