/** WebCrypto helpers shared by the webhook-signature checks: HMAC, SHA-256, encodings, constant-time compare. */

const encoder = new TextEncoder();

/** HMAC of a UTF-8 string with a UTF-8 key, using WebCrypto so it runs in workerd and Node alike. */
export async function hmac(hash: "SHA-1" | "SHA-256", key: string, data: string): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash }, false, [
    "sign",
  ]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(data)));
}

/** Lower-case hex SHA-256 of a UTF-8 string. */
export async function sha256Hex(data: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(data))));
}

/** Lower-case hex encoding. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** Standard (padded) base64 encoding without Node's Buffer. */
export function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/**
 * Compare two strings without an early exit on the first differing character, so the time taken
 * does not reveal how much of a forged signature was right. Lengths are public (fixed per scheme).
 */
export function timingSafeEqualString(a: string, b: string): boolean {
  const ab = encoder.encode(a);
  const bb = encoder.encode(b);
  if (ab.length !== bb.length) return false;
  let diff = 0;
  for (let i = 0; i < ab.length; i++) diff |= (ab[i] ?? 0) ^ (bb[i] ?? 0);
  return diff === 0;
}
