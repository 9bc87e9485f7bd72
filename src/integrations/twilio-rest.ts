/**
 * Twilio REST client for the two call operations the agent needs: create an outbound call (with
 * async AMD) and update a live call (new TwiML/URL for transfer, or hang up). Base URL configurable.
 */
import { z } from "zod";
import { fetchJson, type HttpDeps, jsonField } from "./http";

/** Connection settings. `baseUrl` defaults to `https://api.twilio.com`. */
export interface TwilioRestConfig {
  accountSid: string;
  authToken: string;
  baseUrl?: string;
  timeoutMs?: number;
}

/** Answering-machine detection options (names as in Twilio's API, without the prefix noise). */
export interface AmdOptions {
  mode: "Enable" | "DetectMessageEnd";
  async?: boolean;
  asyncStatusCallback?: string;
  asyncStatusCallbackMethod?: "GET" | "POST";
  timeoutSeconds?: number;
  speechThresholdMs?: number;
  speechEndThresholdMs?: number;
  silenceTimeoutMs?: number;
}

/** Parameters for Calls.json create. One of `url` or `twiml` is required. */
export interface CreateCallParams {
  to: string;
  from: string;
  url?: string;
  twiml?: string;
  method?: "GET" | "POST";
  statusCallback?: string;
  statusCallbackEvents?: readonly ("initiated" | "ringing" | "answered" | "completed")[];
  statusCallbackMethod?: "GET" | "POST";
  timeoutSeconds?: number;
  timeLimitSeconds?: number;
  amd?: AmdOptions;
}

/** Parameters for a live-call update: replace TwiML, redirect to a URL, or end the call. */
export type UpdateCallParams =
  | { twiml: string }
  | { url: string; method?: "GET" | "POST" }
  | { status: "completed" | "canceled" };

const callSchema = z.looseObject({
  sid: z.string(),
  status: z.string(),
  to: z.string().nullable().optional(),
  from: z.string().nullable().optional(),
});

/** The fields of a call resource we rely on. */
export type TwilioCall = z.infer<typeof callSchema>;

function describeTwilioError(_status: number, text: string): string {
  return jsonField(text, "message") ?? text.slice(0, 200);
}

function basicAuth(user: string, password: string): string {
  return `Basic ${btoa(`${user}:${password}`)}`;
}

/** Build the form body for Calls.json create (exported for tests and the emulator contract). */
export function createCallForm(p: CreateCallParams): URLSearchParams {
  if (p.url === undefined && p.twiml === undefined) throw new Error("createCall needs url or twiml");
  const f = new URLSearchParams({ To: p.to, From: p.from });
  if (p.url !== undefined) f.set("Url", p.url);
  else if (p.twiml !== undefined) f.set("Twiml", p.twiml);
  if (p.method) f.set("Method", p.method);
  if (p.statusCallback) f.set("StatusCallback", p.statusCallback);
  for (const ev of p.statusCallbackEvents ?? []) f.append("StatusCallbackEvent", ev);
  if (p.statusCallbackMethod) f.set("StatusCallbackMethod", p.statusCallbackMethod);
  if (p.timeoutSeconds !== undefined) f.set("Timeout", String(p.timeoutSeconds));
  if (p.timeLimitSeconds !== undefined) f.set("TimeLimit", String(p.timeLimitSeconds));
  const amd = p.amd;
  if (amd) {
    f.set("MachineDetection", amd.mode);
    if (amd.async !== undefined) f.set("AsyncAmd", String(amd.async));
    if (amd.asyncStatusCallback) f.set("AsyncAmdStatusCallback", amd.asyncStatusCallback);
    if (amd.asyncStatusCallbackMethod) f.set("AsyncAmdStatusCallbackMethod", amd.asyncStatusCallbackMethod);
    if (amd.timeoutSeconds !== undefined) f.set("MachineDetectionTimeout", String(amd.timeoutSeconds));
    if (amd.speechThresholdMs !== undefined)
      f.set("MachineDetectionSpeechThreshold", String(amd.speechThresholdMs));
    if (amd.speechEndThresholdMs !== undefined)
      f.set("MachineDetectionSpeechEndThreshold", String(amd.speechEndThresholdMs));
    if (amd.silenceTimeoutMs !== undefined)
      f.set("MachineDetectionSilenceTimeout", String(amd.silenceTimeoutMs));
  }
  return f;
}

/** Build the form body for a live-call update. */
export function updateCallForm(p: UpdateCallParams): URLSearchParams {
  if ("twiml" in p) return new URLSearchParams({ Twiml: p.twiml });
  if ("url" in p) return new URLSearchParams({ Url: p.url, Method: p.method ?? "POST" });
  return new URLSearchParams({ Status: p.status });
}

/**
 * Twilio REST client. Create is retried only on 429 (nothing was dialled); a repeated create after a
 * timeout could dial twice. Update is idempotent (same TwiML twice, or hanging up twice, is harmless).
 */
export interface TwilioRestClient {
  createCall(params: CreateCallParams, signal?: AbortSignal): Promise<TwilioCall>;
  updateCall(callSid: string, params: UpdateCallParams, signal?: AbortSignal): Promise<TwilioCall>;
}

/** Create a client; build it per request or per Durable Object, never at module scope. */
export function createTwilioRestClient(config: TwilioRestConfig, deps: HttpDeps = {}): TwilioRestClient {
  const base = `${(config.baseUrl ?? "https://api.twilio.com").replace(/\/+$/, "")}/2010-04-01/Accounts/${encodeURIComponent(config.accountSid)}`;
  const headers = {
    authorization: basicAuth(config.accountSid, config.authToken),
    accept: "application/json",
  };
  const timeoutMs = config.timeoutMs ?? 5_000;
  return {
    createCall: (params, signal) =>
      fetchJson(
        {
          provider: "twilio",
          url: `${base}/Calls.json`,
          method: "POST",
          headers,
          form: createCallForm(params),
          timeoutMs,
          signal,
          retry: "rate-limit-only",
          schema: callSchema,
          describeError: describeTwilioError,
        },
        deps,
      ),
    updateCall: (callSid, params, signal) =>
      fetchJson(
        {
          provider: "twilio",
          url: `${base}/Calls/${encodeURIComponent(callSid)}.json`,
          method: "POST",
          headers,
          form: updateCallForm(params),
          timeoutMs,
          signal,
          // Replacing TwiML or hanging up twice has the same effect as once.
          retry: "idempotent",
          schema: callSchema,
          describeError: describeTwilioError,
        },
        deps,
      ),
  };
}
