/**
 * Who may make the product ring a number: the checks a lead passes before it is accepted, apart
 * from the route's plumbing. Browser posts need the site's `Origin` and a Turnstile token that
 * siteverify accepts; a CRM posts server to server with the site's own bearer token. Consent is the
 * site's configured wording, matched by version; the submitter's `given: true` alone is not consent.
 */
import type { LeadSite } from "../config/config";
import { timingSafeEqualString } from "../integrations/crypto";
import type { Lead } from "../integrations/lead";
import type { BotCheck } from "../integrations/turnstile";
import { AppError, ProviderError } from "../lib/errors";

/** How a lead reached us. */
export type LeadChannel = "browser" | "server";

/** The request facts admission needs. */
export interface AdmissionRequest {
  origin: string | undefined;
  authorization: string | undefined;
  remoteIp: string | undefined;
}

/**
 * Which channel a request may use for this site, before the body is validated: a bearer token means
 * server to server (and must be the site's); anything else is a browser and needs a listed Origin.
 */
export function admitChannel(site: LeadSite, req: AdmissionRequest): LeadChannel {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.authorization ?? "")?.[1];
  if (req.authorization !== undefined) {
    if (
      bearer === undefined ||
      site.serverToken === undefined ||
      !timingSafeEqualString(bearer, site.serverToken)
    ) {
      throw new AppError(401, "bad_server_token", "The server token is not valid for this site");
    }
    return "server";
  }
  if (req.origin === undefined) {
    throw new AppError(
      403,
      "origin_required",
      "Browser posts must carry an Origin; servers use a site token",
    );
  }
  if (!site.origins.includes(req.origin)) {
    throw new AppError(403, "origin_not_allowed", "This origin may not post leads for this site");
  }
  return "browser";
}

/** The Turnstile token a form sends, under our field name or the widget's own. */
export function turnstileToken(lead: Lead): string | undefined {
  const t = lead.turnstile_token ?? lead["cf-turnstile-response"];
  return t === undefined || t === "" ? undefined : t;
}

/** A UUID-shaped key from a digest, for siteverify's `idempotency_key` (a retry gets the first verdict). */
export function uuidFromHex(hex: string): string {
  const h = hex.padEnd(32, "0");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Verify a browser post's Turnstile token with the site's secret. Fails closed: no secret, no post. */
export async function checkBot(
  site: LeadSite,
  lead: Lead,
  bot: BotCheck,
  q: { remoteIp: string | undefined; idempotencyKey: string },
): Promise<void> {
  if (site.turnstileSecret === undefined) {
    throw new AppError(
      403,
      "bot_check_not_configured",
      "This site takes no browser posts (no Turnstile secret)",
    );
  }
  const token = turnstileToken(lead);
  if (token === undefined) {
    throw new AppError(403, "bot_check_required", "turnstile_token is required for browser posts");
  }
  let verdict: Awaited<ReturnType<BotCheck["verify"]>>;
  try {
    verdict = await bot.verify({
      secret: site.turnstileSecret,
      token,
      remoteIp: q.remoteIp,
      idempotencyKey: q.idempotencyKey,
    });
  } catch (err) {
    if (err instanceof ProviderError) {
      throw new AppError(503, "bot_check_unavailable", "The bot check could not be made; retry shortly");
    }
    throw err;
  }
  if (!verdict.ok) {
    throw new AppError(403, "bot_check_failed", "The bot check failed", { errorCodes: verdict.errorCodes });
  }
}

const squash = (s: string) => s.replace(/\s+/g, " ").trim().toLowerCase();

/**
 * The consent to record, or undefined when there is none a call may rest on. A serious product keeps
 * the wording people agree to on its own side, versioned, and records which version each lead agreed
 * to: a form (or a script) can say `given: true` about anything. So a call needs `given: true` AND the
 * version the site configures now AND, when the form echoes its wording, that very wording; what is
 * recorded is the site's text, never the submitter's.
 */
export function consentFor(
  site: LeadSite,
  consent: Lead["consent"],
): { version: string; text: string } | undefined {
  if (!consent.given || site.consent === undefined) return undefined;
  if (consent.version !== site.consent.version) return undefined;
  if (consent.text !== "" && squash(consent.text) !== squash(site.consent.text)) return undefined;
  return { version: site.consent.version, text: site.consent.text };
}
