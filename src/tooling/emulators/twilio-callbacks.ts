/**
 * How the Twilio emulator delivers a webhook: signed like Twilio's (`X-Twilio-Signature` over the URL
 * and params, GET with the params in the signed URL), an `I-Twilio-Idempotency-Token`, Twilio's 15 s
 * timeout, an optional delay (jitter: separate requests may overtake each other) and an optional
 * repeat with the same token (a retried webhook).
 */
import { randomBytes } from "node:crypto";
import { computeTwilioSignature } from "../../integrations/twilio-signature";

/** A callback the emulator sent. */
export interface SentCallback {
  kind: "status" | "amd";
  url: string;
  params: Record<string, string>;
  status: number;
  /** Wall clock when the request went out (after any jitter). */
  sentAtMs: number;
  /** Same token for a webhook and its repeat (`I-Twilio-Idempotency-Token`). */
  idempotencyToken: string;
}

/** Posts one webhook kind; records every request (repeats too) in `sent`. */
export type WebhookSender = (
  kind: SentCallback["kind"],
  url: string,
  method: string,
  params: Record<string, string>,
  delayMs?: number,
) => Promise<SentCallback>;

/** A sender signing with `authToken`; `duplicates()` is read per webhook (settings may change). */
export function webhookSender(
  authToken: string,
  sent: SentCallback[],
  duplicates: () => boolean,
): WebhookSender {
  /** POST: sign URL + params. GET: params go in the query and the full URL is signed alone. */
  const postOnce = async (
    kind: SentCallback["kind"],
    url: string,
    method: string,
    params: Record<string, string>,
    idempotencyToken: string,
  ): Promise<SentCallback> => {
    const form = new URLSearchParams(params);
    const isGet = method === "GET";
    const target = isGet ? `${url}${url.includes("?") ? "&" : "?"}${form}` : url;
    const signature = await computeTwilioSignature(authToken, target, isGet ? {} : params);
    let status = 0;
    const sentAtMs = Date.now();
    try {
      const res = await fetch(target, {
        method,
        headers: {
          "x-twilio-signature": signature,
          "i-twilio-idempotency-token": idempotencyToken,
          ...(isGet ? {} : { "content-type": "application/x-www-form-urlencoded" }),
        },
        ...(isGet ? {} : { body: form.toString() }),
        // Twilio gives a webhook 15 s; an unreachable app must not keep the emulator's timers alive.
        signal: AbortSignal.timeout(15_000),
      });
      await res.text();
      status = res.status;
    } catch {
      status = 0;
    }
    const record: SentCallback = { kind, url, params, status, sentAtMs, idempotencyToken };
    sent.push(record);
    return record;
  };
  return async (kind, url, method, params, delayMs = 0) => {
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const token = randomBytes(8).toString("hex");
    const record = await postOnce(kind, url, method, params, token);
    if (duplicates()) await postOnce(kind, url, method, params, token);
    return record;
  };
}
