/**
 * Twilio webhooks, checked once for every route: `X-Twilio-Signature` over the public URL and every
 * posted field (403 when unsigned or forged), then a zod parse (400 with the field at fault).
 */
import { z } from "zod";
import type { AppConfig } from "../config/config";
import { validateTwilioSignature } from "../integrations/twilio-signature";
import { AppError } from "../lib/errors";

/** A CallSid as Twilio sends it. */
export const CALL_SID = /^CA[0-9a-fA-F]{32}$/;
const callSid = z.string().regex(CALL_SID, "CallSid must be CA followed by 32 hex characters");

/** Call status callback fields. */
export const StatusParams = z.object({
  CallSid: callSid,
  CallStatus: z.enum([
    "queued",
    "initiated",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "failed",
    "no-answer",
    "canceled",
  ]),
  CallDuration: z.coerce.number().int().nonnegative().optional(),
});

/** Asynchronous answering-machine-detection callback fields. */
export const AmdParams = z.object({
  CallSid: callSid,
  AnsweredBy: z.enum([
    "human",
    "machine_start",
    "machine_end_beep",
    "machine_end_silence",
    "machine_end_other",
    "fax",
    "unknown",
  ]),
});

/** The URL Twilio signed: the configured public base (behind proxies) or the request URL itself. */
export function publicUrl(config: AppConfig, requestUrl: string, scheme?: "wss"): string {
  const req = new URL(requestUrl);
  const base = config.publicBaseUrl ? new URL(config.publicBaseUrl) : req;
  const out = new URL(`${req.pathname}${req.search}`, `${base.protocol}//${base.host}`);
  if (scheme === "wss") out.protocol = "wss:";
  return out.toString();
}

/** The parts of a Hono request this needs. */
export interface FormRequest {
  url: string;
  header(name: string): string | undefined;
  parseBody(): Promise<Record<string, unknown>>;
}

/** Parse and check a Twilio webhook form. */
export async function signedTwilioForm<T>(
  config: AppConfig,
  req: FormRequest,
  schema: z.ZodType<T>,
): Promise<T> {
  const body = await req.parseBody().catch(() => {
    throw new AppError(400, "bad_form", "Body must be application/x-www-form-urlencoded");
  });
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string") params[k] = v;
  const signature = req.header("x-twilio-signature");
  if (!signature) throw new AppError(403, "signature_missing", "X-Twilio-Signature header is required");
  const ok = await validateTwilioSignature({
    authToken: config.twilio.credential,
    url: publicUrl(config, req.url),
    params,
    signature,
  });
  if (!ok) throw new AppError(403, "signature_invalid", "X-Twilio-Signature does not match this request");
  const parsed = schema.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(
      400,
      "bad_params",
      `${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}`,
    );
  }
  return parsed.data;
}
