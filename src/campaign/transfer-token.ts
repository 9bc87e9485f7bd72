/**
 * Signed, short-lived parameters for the warm-transfer webhooks: the context the human hears is carried
 * in the URL, so it is HMAC-signed (nobody can make the whisper say something else) and carries its
 * issue time (each route accepts it only for as long as its step can last). Runtime-neutral (WebCrypto).
 */
import { z } from "zod";
import { hmac, timingSafeEqualString } from "../integrations/crypto";

/** What the human hears before the caller is connected: who, why, and what the agent captured. */
export const TransferContextSchema = z.object({
  who: z.string().max(120),
  why: z.string().max(240),
  captured: z.record(z.string().max(40), z.string().max(200)).default({}),
});
export type TransferContext = z.output<typeof TransferContextSchema>;

/** The signed payload. `ctx` is present only on the whisper's token (the caller's TwiML stays short). */
export const TransferTokenSchema = z.object({
  v: z.literal(1),
  callSid: z.string().regex(/^CA[0-9a-fA-F]{32}$/),
  conf: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  flow: z.string().regex(/^[a-z0-9-]{1,64}$/),
  campaign: z.string().max(64).optional(),
  iat: z.number().int().nonnegative(),
  ctx: TransferContextSchema.optional(),
});
export type TransferToken = z.output<typeof TransferTokenSchema>;

const encoder = new TextEncoder();

function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromB64url(text: string): string | null {
  try {
    const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return null;
  }
}

/** Sign a payload: `wt1.<base64url JSON>.<base64url HMAC-SHA256>`. */
export async function signTransferToken(secret: string, payload: TransferToken): Promise<string> {
  const body = b64url(encoder.encode(JSON.stringify(payload)));
  const sig = b64url(await hmac("SHA-256", secret, `wt1.${body}`));
  return `wt1.${body}.${sig}`;
}

/** Why a token was refused. */
export type TransferTokenCheck =
  | { ok: true; token: TransferToken }
  | { ok: false; reason: "malformed" | "bad_signature" | "expired" };

/** Verify the signature first, then the shape, then the age (`maxAgeMs` after `iat`). */
export async function verifyTransferToken(
  secret: string,
  token: string | undefined,
  nowMs: number,
  maxAgeMs: number,
): Promise<TransferTokenCheck> {
  const parts = (token ?? "").split(".");
  if (parts.length !== 3 || parts[0] !== "wt1" || !parts[1] || !parts[2])
    return { ok: false, reason: "malformed" };
  const expected = b64url(await hmac("SHA-256", secret, `wt1.${parts[1]}`));
  if (!timingSafeEqualString(expected, parts[2])) return { ok: false, reason: "bad_signature" };
  const json = fromB64url(parts[1]);
  if (json === null) return { ok: false, reason: "malformed" };
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return { ok: false, reason: "malformed" };
  }
  const parsed = TransferTokenSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: "malformed" };
  if (nowMs < parsed.data.iat - 60_000 || nowMs > parsed.data.iat + maxAgeMs)
    return { ok: false, reason: "expired" };
  return { ok: true, token: parsed.data };
}
