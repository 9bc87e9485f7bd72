/**
 * Dashboard sessions: a password check in constant time and a signed, expiring session cookie value
 * carrying the sign-in epoch's version. The HMAC-SHA256 key mixes the epoch's random secret (kept in
 * edge state, replaced on sign-out) with the configured password, so a sign-out or a password change
 * ends every session, and a stolen cookie cannot be used to guess the password offline.
 * WebCrypto only; callers pass `nowMs` and the epoch.
 */
import type { SessionEpoch } from "../lead/edge-store";

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

async function hmac(epochSecret: string, password: string, message: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(`dashboard-session:${epochSecret}:${password}`),
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

/** A session cookie value valid until `nowMs + SESSION_TTL_MS`: `<version>.<expiresMs>.<signature>`. */
export async function issueSession(password: string, epoch: SessionEpoch, nowMs: number): Promise<string> {
  const payload = `${epoch.version}.${nowMs + SESSION_TTL_MS}`;
  return `${payload}.${base64url(await hmac(epoch.secret, password, payload))}`;
}

/** Why a session value was refused (for logs; the visitor only sees "sign in"). */
export type SessionCheck = "ok" | "missing" | "malformed" | "expired" | "stale_version" | "bad_signature";

/**
 * "ok" when `value` was issued in `epoch` under `password` and has not expired at `nowMs`. A cookie
 * from an earlier epoch (before a sign-out) is "stale_version"; one minted under another password
 * fails its signature.
 */
export async function checkSession(
  password: string,
  epoch: SessionEpoch,
  value: string | undefined,
  nowMs: number,
): Promise<SessionCheck> {
  if (value === undefined) return "missing";
  const m = /^((\d{1,12})\.(\d{1,16}))\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m?.[1] || !m[2] || !m[3] || !m[4]) return "malformed";
  const expiresMs = Number(m[3]);
  if (!(expiresMs > nowMs) || expiresMs > nowMs + SESSION_TTL_MS) return "expired";
  if (Number(m[2]) !== epoch.version) return "stale_version";
  const expected = base64url(await hmac(epoch.secret, password, m[1]));
  return equalBytes(enc.encode(expected), enc.encode(m[4])) ? "ok" : "bad_signature";
}

/** Only same-dashboard paths may be a post-login destination (no open redirect). */
export function safeNext(next: string | undefined): string {
  if (next === undefined || !/^\/dashboard(\/[A-Za-z0-9/_?=&%.:-]*)?$/.test(next)) return "/dashboard";
  return next;
}
