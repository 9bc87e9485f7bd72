/**
 * Rate-limit keys for a client address: a hash of `cf-connecting-ip` under a scope, so limiter
 * storage and logs never hold the address itself (and the same address is unlinkable across scopes).
 */
import { sha256Hex } from "../integrations/crypto";

/** `<scope>:<32 hex chars>` for the request's client address ("unknown" when the header is absent). */
export async function clientAddressKey(scope: string, req: { header(name: string): string | undefined }) {
  const ip = req.header("cf-connecting-ip") ?? "unknown";
  return `${scope}:${(await sha256Hex(`${scope}:${ip}`)).slice(0, 32)}`;
}
