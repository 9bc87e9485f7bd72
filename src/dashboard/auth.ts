/**
 * Dashboard sessions: a password check in constant time and a signed, expiring session cookie value
 * (HMAC-SHA256 keyed by the configured password, so changing the password ends every session).
 * WebCrypto only; callers pass `nowMs`.
 */

/** Session cookie name. */
export const SESSION_COOKIE = "dash_session";
/** How long a login lasts. */
export const SESSION_TTL_MS = 12 * 3_600_000;

const enc = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function hmac(secret: string, message: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(`dashboard-session:${secret}`),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(message)));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Compare a submitted password with the configured one through their digests (no early exit, no length leak). */
export async function passwordMatches(submitted: string, configured: string): Promise<boolean> {
  const [x, y] = await Promise.all([
    crypto.subtle.digest("SHA-256", enc.encode(submitted)),
    crypto.subtle.digest("SHA-256", enc.encode(configured)),
  ]);
  return equalBytes(new Uint8Array(x), new Uint8Array(y));
}

/** A session cookie value valid until `nowMs + SESSION_TTL_MS`: `<expiresMs>.<signature>`. */
export async function issueSession(secret: string, nowMs: number): Promise<string> {
  const expiresMs = nowMs + SESSION_TTL_MS;
  return `${expiresMs}.${base64url(await hmac(secret, String(expiresMs)))}`;
}

/** True when `value` was issued with `secret` and has not expired at `nowMs`. */
export async function verifySession(
  secret: string,
  value: string | undefined,
  nowMs: number,
): Promise<boolean> {
  if (value === undefined) return false;
  const m = /^(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m?.[1] || !m[2]) return false;
  const expiresMs = Number(m[1]);
  if (!(expiresMs > nowMs) || expiresMs > nowMs + SESSION_TTL_MS) return false;
  const expected = base64url(await hmac(secret, m[1]));
  return equalBytes(enc.encode(expected), enc.encode(m[2]));
}

/** Only same-dashboard paths may be a post-login destination (no open redirect). */
export function safeNext(next: string | undefined): string {
  if (next === undefined || !/^\/dashboard(\/[A-Za-z0-9/_?=&%.:-]*)?$/.test(next)) return "/dashboard";
  return next;
}
