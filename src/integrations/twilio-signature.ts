/**
 * Twilio request validation (`X-Twilio-Signature`), WebCrypto only: the signing string, the URL
 * variants twilio-node accepts, and the `bodySHA256` check for JSON bodies. Pure apart from crypto.
 */
import { hmac, sha256Hex, timingSafeEqualString, toBase64 } from "./crypto";

/** Form parameters as Twilio sent them; a repeated name carries an array. */
export type TwilioParams = Readonly<Record<string, string | readonly string[]>>;

/** Collect a form body into {@link TwilioParams}, keeping repeated names as arrays. */
export function twilioParamsFromForm(form: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of form) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[k] = [prev, v];
  }
  return out;
}

/** URL followed by each param name+value, names sorted; an array adds each distinct value, sorted. */
export function twilioSigningString(url: string, params: TwilioParams): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const value = params[name];
    if (value === undefined) continue;
    if (typeof value === "string") {
      data += name + value;
    } else {
      for (const v of Array.from(new Set(value)).sort()) data += name + v;
    }
  }
  return data;
}

/** The signature Twilio would send for this URL and params (base64 HMAC-SHA1, 28 chars). */
export async function computeTwilioSignature(
  authToken: string,
  url: string,
  params: TwilioParams,
): Promise<string> {
  return toBase64(await hmac("SHA-1", authToken, twilioSigningString(url, params)));
}

interface UrlParts {
  scheme: string;
  userInfo: string;
  host: string;
  port: string;
  rest: string;
}

/** Split without normalising, so the path and query keep the exact characters Twilio signed. */
function splitUrl(url: string): UrlParts | undefined {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i.exec(url);
  if (!match) return undefined;
  const [prefix, scheme = "", authority = ""] = match;
  const userInfoEnd = authority.lastIndexOf("@");
  const hostAndPort = authority.slice(userInfoEnd + 1);
  const portStart = hostAndPort.indexOf(":", hostAndPort.lastIndexOf("]") + 1);
  return {
    scheme,
    userInfo: authority.slice(0, userInfoEnd + 1),
    host: portStart === -1 ? hostAndPort : hostAndPort.slice(0, portStart),
    port: portStart === -1 ? "" : hostAndPort.slice(portStart),
    rest: url.slice(prefix.length),
  };
}

function withPort(url: string): string {
  const p = splitUrl(url);
  if (!p || p.port) return url;
  const scheme = p.scheme.toLowerCase();
  const port = scheme === "https://" || scheme === "wss://" ? ":443" : ":80";
  return p.scheme + p.userInfo + p.host + port + p.rest;
}

function withoutPort(url: string): string {
  const p = splitUrl(url);
  return p ? p.scheme + p.userInfo + p.host + p.rest : url;
}

function decodeQueryPart(s: string): string {
  const plus = s.replace(/\+/g, " ");
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
}

/** Re-encode the query the way Node's legacy `querystring.stringify(parse(q))` does. */
function withLegacyQuery(url: string): string {
  const q = url.indexOf("?");
  if (q === -1 || q === url.length - 1) return url;
  const grouped = new Map<string, string[]>();
  for (const piece of url.slice(q + 1).split("&")) {
    if (piece === "") continue;
    const eq = piece.indexOf("=");
    const key = decodeQueryPart(eq === -1 ? piece : piece.slice(0, eq));
    const value = eq === -1 ? "" : decodeQueryPart(piece.slice(eq + 1));
    const list = grouped.get(key);
    if (list) list.push(value);
    else grouped.set(key, [value]);
  }
  const parts: string[] = [];
  for (const [k, values] of grouped) {
    for (const v of values) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  }
  return `${url.slice(0, q)}?${parts.join("&")}`;
}

/**
 * URLs twilio-node accepts for one request: as received with and without the standard port, then
 * the WHATWG-normalised URL with and without the port, each also with a legacy-encoded query.
 */
export function twilioUrlCandidates(url: string): string[] {
  const out = [withoutPort(url), withPort(url)];
  let normalised: string | undefined;
  try {
    normalised = new URL(url).toString();
  } catch {
    normalised = undefined;
  }
  if (normalised !== undefined) {
    const a = withoutPort(normalised);
    const b = withPort(normalised);
    out.push(a, b, withLegacyQuery(a), withLegacyQuery(b));
  }
  return Array.from(new Set(out));
}

/** Input to {@link validateTwilioSignature}. `url` is the public URL Twilio was configured with. */
export interface TwilioSignatureInput {
  authToken: string;
  url: string;
  params: TwilioParams;
  signature: string | null | undefined;
}

/** True when `signature` matches any accepted URL variant. Constant-time per comparison. */
export async function validateTwilioSignature(input: TwilioSignatureInput): Promise<boolean> {
  const signature = input.signature ?? "";
  if (signature === "") return false;
  let ok = false;
  for (const candidate of twilioUrlCandidates(input.url)) {
    const expected = await computeTwilioSignature(input.authToken, candidate, input.params);
    // No early return: every candidate is checked so timing does not depend on which one matched.
    if (timingSafeEqualString(signature, expected)) ok = true;
  }
  return ok;
}

/**
 * JSON-body webhooks: Twilio puts `bodySHA256=<hex sha256(body)>` in the query and signs the URL
 * with no params. Valid only if the signature matches and the hash matches the raw body.
 */
export async function validateTwilioJsonBody(input: {
  authToken: string;
  url: string;
  rawBody: string;
  signature: string | null | undefined;
}): Promise<boolean> {
  const signed = await validateTwilioSignature({
    authToken: input.authToken,
    url: input.url,
    params: {},
    signature: input.signature,
  });
  let claimed: string | null;
  try {
    claimed = new URL(input.url).searchParams.get("bodySHA256");
  } catch {
    claimed = null;
  }
  if (claimed === null) return false;
  const actual = await sha256Hex(input.rawBody);
  return timingSafeEqualString(claimed, actual) && signed;
}
