/**
 * Which numbers a web lead may make the product dial, decided from the numbering plan itself
 * (libphonenumber-js with its `max` metadata: number type and country), never from hand-written
 * prefix tables. Pure: no I/O, no clock.
 *
 * Default: UK (GB) geographic and mobile numbers only. Premium rate (09, and 084/087 which the
 * metadata files as premium), personal numbers (070), shared cost, UAN (03), VoIP (056), pagers,
 * freephone and every other country are refused unless the site lists that type and country.
 * Numbers that are not allocated (such as Ofcom's drama ranges) are never dialled.
 */
import { type CountryCode, type NumberType, parsePhoneNumberFromString } from "libphonenumber-js/max";

/** Number types a site may allow (libphonenumber's names). */
export const NUMBER_TYPES = [
  "FIXED_LINE",
  "MOBILE",
  "FIXED_LINE_OR_MOBILE",
  "TOLL_FREE",
  "PREMIUM_RATE",
  "SHARED_COST",
  "VOIP",
  "PERSONAL_NUMBER",
  "PAGER",
  "UAN",
  "VOICEMAIL",
] as const;
export type DiallableType = (typeof NUMBER_TYPES)[number];

/** Geographic and mobile: what a UK speed-to-lead call may ring without the site saying more. */
export const DEFAULT_NUMBER_TYPES: readonly DiallableType[] = [
  "FIXED_LINE",
  "MOBILE",
  "FIXED_LINE_OR_MOBILE",
];
/** Only the UK proper: Crown Dependencies (JE, GG, IM) and every other country must be listed by the site. */
export const DEFAULT_NUMBER_COUNTRIES: readonly string[] = ["GB"];

/** What a site allows (from `LEAD_SITES[site].numbers`). */
export interface NumberPolicy {
  countries: readonly string[];
  types: readonly DiallableType[];
}

/** A number as the numbering plan sees it. */
export interface NumberFacts {
  e164: string;
  /** ISO 3166 alpha-2, undefined when the plan cannot place it (e.g. unallocated +44 ranges). */
  country: string | undefined;
  type: NumberType | undefined;
  valid: boolean;
}

/** Why a number was refused; stable codes for the 4xx body. */
export type NumberRefusal = "invalid_number" | "country_not_allowed" | "number_type_not_allowed";

/** Parse an E.164 number (or a UK national one) into its facts; undefined when it cannot be parsed. */
export function numberFacts(raw: string): NumberFacts | undefined {
  const parsed = parsePhoneNumberFromString(raw, "GB");
  if (parsed === undefined) return undefined;
  const valid = parsed.isValid();
  return {
    e164: parsed.number,
    country: parsed.country,
    type: valid ? parsed.getType() : undefined,
    valid,
  };
}

/** Whether the site's policy lets the product dial this number, with the reason when not. */
export function checkNumber(
  raw: string,
  policy: NumberPolicy,
): { ok: true; facts: NumberFacts } | { ok: false; reason: NumberRefusal; message: string } {
  const facts = numberFacts(raw);
  if (facts === undefined || !facts.valid || facts.country === undefined || facts.type === undefined) {
    return { ok: false, reason: "invalid_number", message: "phone is not an allocated, diallable number" };
  }
  if (!policy.countries.includes(facts.country)) {
    return {
      ok: false,
      reason: "country_not_allowed",
      message: `phone numbers from ${facts.country} are not called for this site`,
    };
  }
  if (!(policy.types as readonly string[]).includes(facts.type)) {
    return {
      ok: false,
      reason: "number_type_not_allowed",
      message: `phone numbers of type ${facts.type.toLowerCase()} are not called for this site`,
    };
  }
  return { ok: true, facts };
}

/**
 * Normalise what a person typed into E.164 with the numbering plan: UK national numbers
 * (`07700 900123`, `(0)20 7946 0000`) become `+44…`, `00` becomes `+`. The input must start with `+`
 * or `0` and hold only digits, spaces, dots, dashes and brackets. Returns undefined when the
 * number cannot exist (wrong length for its country). Whether it may be dialled is `checkNumber`.
 */
export function normaliseToE164(raw: string): string | undefined {
  let s = raw.trim().replace(/\(0\)/g, "");
  if (!/^\+?[\d\s().-]+$/.test(s)) return undefined;
  s = s.replace(/[\s().-]/g, "");
  if (s.startsWith("00")) s = `+${s.slice(2)}`;
  if (!s.startsWith("+") && !s.startsWith("0")) return undefined;
  const parsed = parsePhoneNumberFromString(s, "GB" satisfies CountryCode);
  if (parsed === undefined || !parsed.isPossible()) return undefined;
  return /^\+[1-9]\d{7,14}$/.test(parsed.number) ? parsed.number : undefined;
}

/** Fallback zones where the runtime's `Intl.Locale` cannot list a region's zones. */
const KNOWN_ZONES: Record<string, readonly string[]> = {
  GB: ["Europe/London"],
  JE: ["Europe/Jersey"],
  GG: ["Europe/Guernsey"],
  IM: ["Europe/Isle_of_Man"],
};

/** The IANA zones of a country (CLDR, from the runtime's Intl data). */
export function zonesOfCountry(country: string): readonly string[] {
  try {
    const locale = new Intl.Locale(`und-${country}`) as Intl.Locale & {
      getTimeZones?: () => string[];
      timeZones?: string[];
    };
    const zones = locale.getTimeZones?.() ?? locale.timeZones;
    if (zones !== undefined && zones.length > 0) return zones;
  } catch {
    // An unknown region: fall through to the table.
  }
  return KNOWN_ZONES[country] ?? [];
}

/**
 * The zones whose calling window must be open before the number is rung: the number's country
 * decides; the form's `timezone` only narrows it to one zone when it is one of that country's zones.
 * A country with several zones and no agreeing form zone gives all of them (the window must be open
 * in every one). An empty list means no zone is known: do not call automatically.
 */
export function callingZones(country: string | undefined, formZone: string | undefined): readonly string[] {
  if (country === undefined) return [];
  const zones = zonesOfCountry(country);
  if (formZone !== undefined && zones.includes(formZone)) return [formZone];
  return zones;
}
