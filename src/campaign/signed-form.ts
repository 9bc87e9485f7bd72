/**
 * Signed Twilio form bodies for the campaign and transfer webhooks: the same check as the core Twilio
 * routes (X-Twilio-Signature over the public URL and every posted field), then a zod parse.
 */
import type { z } from "zod";
import type { AppConfig } from "../config/config";
import { validateTwilioSignature } from "../integrations/twilio-signature";
import { AppError } from "../lib/errors";
import { publicUrl } from "../routes/twilio";

/** The parts of a Hono request this needs. */
export interface FormRequest {
  url: string;
  header(name: string): string | undefined;
  parseBody(): Promise<Record<string, unknown>>;
}

/** Parse and check a Twilio webhook; 403 when unsigned or forged, 400 when the fields do not match `schema`. */
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

/** A CallSid as Twilio sends it. */
export const CALL_SID = /^CA[0-9a-fA-F]{32}$/;
