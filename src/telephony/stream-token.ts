/**
 * Short-lived, single-use stream tokens. The voice webhook mints one per `<Stream>` it answers with,
 * bound to the CallSid and signing every other custom parameter; Twilio hands it back in
 * `start.customParameters`, and the call's Durable Object refuses a start whose token does not verify
 * or whose token id it has already seen (see `consumeStreamToken` in the call session).
 *
 * Format: `v2.<tokenId>.<expiresAtMs>.<base64url HMAC-SHA256(message)>` where the message is
 * `v2 \n callSid \n tokenId \n expiresAtMs \n canonicalParameters`. Signing the parameters means a
 * captured handshake cannot be replayed with another flow, direction, campaign, `resume` or `var_*`.
 */

import { hmac, timingSafeEqualString } from "../integrations/crypto";

/** The custom parameter carrying the token itself (never part of the signed parameters). */
export const STREAM_TOKEN_PARAM = "token";

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Every parameter but the token, in a fixed order, as one unambiguous string. */
function canonicalParameters(params: Record<string, string>): string {
  const entries = Object.entries(params)
    .filter(([k]) => k !== STREAM_TOKEN_PARAM)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries);
}

function signedMessage(
  callSid: string,
  tokenId: string,
  expiresAtMs: number,
  params: Record<string, string>,
): string {
  return `v2\n${callSid}\n${tokenId}\n${expiresAtMs}\n${canonicalParameters(params)}`;
}

/** A fresh random token id (128 bits, base64url). */
export function newStreamTokenId(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(16)));
}

/**
 * Mint a token for `callSid` and `params` (the `<Stream>` custom parameters it travels with, the
 * token itself excluded) valid until `nowMs + ttlMs`.
 */
export async function mintStreamToken(
  secret: string,
  callSid: string,
  params: Record<string, string>,
  nowMs: number,
  ttlMs: number,
  tokenId: string = newStreamTokenId(),
): Promise<string> {
  const expiresAtMs = nowMs + ttlMs;
  const sig = await hmac("SHA-256", secret, signedMessage(callSid, tokenId, expiresAtMs, params));
  return `v2.${tokenId}.${expiresAtMs}.${base64url(sig)}`;
}

export type StreamTokenCheck =
  | { ok: true; tokenId: string; expiresAtMs: number }
  | { ok: false; reason: "malformed" | "expired" | "bad_signature" };

/**
 * Check the `token` in `params` (a start frame's custom parameters) against the CallSid it must be
 * bound to and the other parameters it must have signed. Single use is the caller's part: remember
 * `tokenId` until `expiresAtMs` and refuse it a second time.
 */
export async function verifyStreamToken(
  secret: string,
  callSid: string,
  params: Record<string, string>,
  nowMs: number,
): Promise<StreamTokenCheck> {
  const parts = (params[STREAM_TOKEN_PARAM] ?? "").split(".");
  const [version, tokenId, expiry, sig] = parts;
  if (
    parts.length !== 4 ||
    version !== "v2" ||
    !tokenId ||
    !/^[A-Za-z0-9_-]{16,64}$/.test(tokenId) ||
    !/^\d{1,15}$/.test(expiry ?? "")
  )
    return { ok: false, reason: "malformed" };
  const expiresAtMs = Number(expiry);
  const expected = base64url(
    await hmac("SHA-256", secret, signedMessage(callSid, tokenId, expiresAtMs, params)),
  );
  if (!timingSafeEqualString(expected, sig ?? "")) return { ok: false, reason: "bad_signature" };
  if (nowMs > expiresAtMs) return { ok: false, reason: "expired" };
  return { ok: true, tokenId, expiresAtMs };
}
