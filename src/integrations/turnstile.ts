/**
 * Cloudflare Turnstile, server side: the `BotCheck` port and its siteverify adapter
 * (`POST {base}/turnstile/v0/siteverify`, form fields secret/response/remoteip/idempotency_key).
 * The base URL is configuration, so the same code talks to Cloudflare or the local emulator.
 */
import { z } from "zod";
import { ProviderError } from "../lib/errors";
import { fetchJson, type HttpDeps } from "./http";

/** One token to check for one site. */
export interface BotCheckInput {
  secret: string;
  token: string;
  remoteIp: string | undefined;
  /** A UUID: a retry of the same check with the same key gets the first verdict, not "already spent". */
  idempotencyKey: string;
}

/** Verdict: passed, or refused with Turnstile's error codes. */
export type BotCheckResult =
  | { ok: true; hostname: string | undefined }
  | { ok: false; errorCodes: readonly string[] };

/** The port the lead route depends on. */
export interface BotCheck {
  verify(input: BotCheckInput, signal?: AbortSignal): Promise<BotCheckResult>;
}

const siteverifyResponse = z.looseObject({
  success: z.boolean(),
  hostname: z.string().optional(),
  "error-codes": z.array(z.string()).default([]),
});

/** Siteverify over HTTP. Network errors and 5xx throw ProviderError (the route answers 503, not 403). */
export function createTurnstileClient(
  config: { baseUrl: string; timeoutMs?: number },
  deps: HttpDeps = {},
): BotCheck {
  const url = `${config.baseUrl.replace(/\/+$/, "")}/turnstile/v0/siteverify`;
  return {
    async verify(input, signal) {
      const form = new URLSearchParams({
        secret: input.secret,
        response: input.token,
        idempotency_key: input.idempotencyKey,
      });
      if (input.remoteIp !== undefined) form.set("remoteip", input.remoteIp);
      const body = await fetchJson(
        {
          provider: "turnstile",
          url,
          method: "POST",
          form,
          timeoutMs: config.timeoutMs ?? 3_000,
          signal,
          // Safe to retry: the idempotency key makes a repeat return the first verdict.
          retry: "idempotent",
          schema: siteverifyResponse,
        },
        deps,
      );
      if (body.success) return { ok: true, hostname: body.hostname };
      if (body["error-codes"].includes("internal-error")) {
        throw new ProviderError("turnstile", "siteverify internal-error", 200, { retryable: true });
      }
      return { ok: false, errorCodes: body["error-codes"] };
    },
  };
}
