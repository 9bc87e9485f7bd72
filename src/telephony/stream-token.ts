/**
 * Short-lived stream tokens: the voice webhook mints one bound to the CallSid, Twilio hands it back
 * in `start.customParameters`, and the call's Durable Object refuses audio without a valid one.
 * Format: `v1.<expiresAtMs>.<base64url HMAC-SHA256("v1.<callSid>.<expiresAtMs>")>`.
 */

import { hmac, timingSafeEqualString } from "../integrations/crypto";

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Mint a token for `callSid` valid until `nowMs + ttlMs`. */
export async function mintStreamToken(
  secret: string,
  callSid: string,
  nowMs: number,
  ttlMs: number,
): Promise<string> {
  const expiresAtMs = nowMs + ttlMs;
  const sig = await hmac("SHA-256", secret, `v1.${callSid}.${expiresAtMs}`);
  return `v1.${expiresAtMs}.${base64url(sig)}`;
}

export type StreamTokenCheck =
  | { ok: true }
  | { ok: false; reason: "malformed" | "expired" | "bad_signature" };

/** Check a token against the CallSid it must be bound to. */
export async function verifyStreamToken(
  secret: string,
  callSid: string,
  token: string | undefined,
  nowMs: number,
): Promise<StreamTokenCheck> {
  const parts = (token ?? "").split(".");
  if (parts.length !== 3 || parts[0] !== "v1" || !/^\d+$/.test(parts[1] ?? ""))
    return { ok: false, reason: "malformed" };
  const expiresAtMs = Number(parts[1]);
  const expected = base64url(await hmac("SHA-256", secret, `v1.${callSid}.${expiresAtMs}`));
  if (!timingSafeEqualString(expected, parts[2] ?? "")) return { ok: false, reason: "bad_signature" };
  if (nowMs > expiresAtMs) return { ok: false, reason: "expired" };
  return { ok: true };
}
