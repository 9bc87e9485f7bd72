/**
 * Placing a call as Twilio does, over any `fetch`: the signed voice webhook, the TwiML answer
 * parsed for `<Connect><Stream>` and its `<Parameter>`s, the signed AMD and status callbacks, and
 * the media-stream handshake signature (the `wss://` URL with no params, protocols.md §2).
 * Runs in Node (global fetch) and workerd (`SELF.fetch`).
 */
import { computeTwilioSignature } from "../../integrations/twilio-signature";

/** A `fetch` to the app under test. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** The `<Connect><Stream>` Twilio was told to open. */
export interface StreamInstruction {
  url: string;
  parameters: Record<string, string>;
  /** Where Twilio goes if the stream drops (`<Redirect>` after `</Connect>`), if any. */
  redirectUrl: string | null;
}

function unescapeXml(s: string): string {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCharCode(Number(d)))
    .replace(/&amp;/g, "&");
}

function attr(tag: string, name: string): string | undefined {
  const m =
    new RegExp(`\\s${name}\\s*=\\s*"([^"]*)"`).exec(tag) ??
    new RegExp(`\\s${name}\\s*=\\s*'([^']*)'`).exec(tag);
  return m?.[1] === undefined ? undefined : unescapeXml(m[1]);
}

/** Parse a TwiML answer for its bidirectional stream; throws when there is none. */
export function parseStreamTwiml(twiml: string): StreamInstruction {
  const connect = /<Connect\b[^>]*>([\s\S]*?)<\/Connect>/.exec(twiml);
  if (!connect) throw new Error("TwiML has no <Connect>");
  const streamTag = /<Stream\b[^>]*>/.exec(connect[1] ?? "")?.[0];
  const url = streamTag === undefined ? undefined : attr(streamTag, "url");
  if (url === undefined) throw new Error("TwiML <Connect> has no <Stream url>");
  if (!url.startsWith("wss://")) throw new Error(`Twilio only opens wss:// streams, got ${url}`);
  if (url.includes("?")) throw new Error("Twilio refuses a <Stream> url with a query string");
  const parameters: Record<string, string> = {};
  for (const m of (connect[1] ?? "").matchAll(/<Parameter\b[^>]*\/?>/g)) {
    const name = attr(m[0], "name");
    if (name !== undefined) parameters[name] = attr(m[0], "value") ?? "";
  }
  const redirect = /<Redirect\b[^>]*>([\s\S]*?)<\/Redirect>/.exec(
    twiml.slice(connect.index + connect[0].length),
  );
  return { url, parameters, redirectUrl: redirect?.[1] ? unescapeXml(redirect[1].trim()) : null };
}

/** A random CallSid (`CA` + 32 hex). */
export function randomCallSid(): string {
  const hex = [...crypto.getRandomValues(new Uint8Array(16))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
  return `CA${hex}`;
}

/** POST a form as Twilio does, signed over `url` and the params with `authToken`. */
export async function postSignedForm(
  fetchFn: FetchLike,
  url: string,
  params: Record<string, string>,
  authToken: string,
): Promise<Response> {
  const signature = await computeTwilioSignature(authToken, url, params);
  return fetchFn(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
    body: new URLSearchParams(params).toString(),
  });
}

/** Who is calling whom, and how Twilio reached the app. */
export interface VoiceWebhookRequest {
  baseUrl: string;
  authToken: string;
  accountSid: string;
  callSid: string;
  flow: string;
  vars: Record<string, string>;
  from: string;
  to: string;
  direction: string;
  campaign?: string;
}

/** The answer URL Twilio is given: `/twilio/voice?flow=…&var_name=…`. */
export function voiceWebhookUrl(
  req: Pick<VoiceWebhookRequest, "baseUrl" | "flow" | "vars" | "campaign">,
): string {
  const url = new URL("/twilio/voice", req.baseUrl);
  url.searchParams.set("flow", req.flow);
  for (const [k, v] of Object.entries(req.vars)) url.searchParams.set(`var_${k}`, v);
  if (req.campaign) url.searchParams.set("campaign", req.campaign);
  return url.toString();
}

/** The signed voice webhook; returns the stream Twilio would open. */
export async function answerCall(fetchFn: FetchLike, req: VoiceWebhookRequest): Promise<StreamInstruction> {
  const res = await postSignedForm(
    fetchFn,
    voiceWebhookUrl(req),
    {
      CallSid: req.callSid,
      AccountSid: req.accountSid,
      From: req.from,
      To: req.to,
      Direction: req.direction,
      CallStatus: req.direction === "inbound" ? "ringing" : "in-progress",
      ApiVersion: "2010-04-01",
    },
    req.authToken,
  );
  const body = await res.text();
  if (res.status !== 200) throw new Error(`voice webhook answered ${res.status}: ${body.slice(0, 300)}`);
  return parseStreamTwiml(body);
}

/** Signature for the media-stream upgrade: the `wss://` URL with an empty param map. */
export function streamSignature(authToken: string, streamUrl: string): Promise<string> {
  return computeTwilioSignature(authToken, streamUrl, {});
}

/** The URL to dial for a stream: `wss://` as given, or `ws://` when the app itself is plain http. */
export function dialableStreamUrl(streamUrl: string, baseUrl: string): string {
  return new URL(baseUrl).protocol === "http:" ? streamUrl.replace(/^wss:/, "ws:") : streamUrl;
}

/**
 * Twilio's asynchronous AMD callback, with the fields Twilio posts (`MachineDetectionDuration` in ms:
 * how long detection listened; by default the ~2.4 s speech threshold).
 */
export async function postAmd(
  fetchFn: FetchLike,
  baseUrl: string,
  authToken: string,
  callSid: string,
  accountSid: string,
  answeredBy: string,
  machineDetectionDurationMs = 2_400,
): Promise<void> {
  const res = await postSignedForm(
    fetchFn,
    new URL("/twilio/amd", baseUrl).toString(),
    {
      CallSid: callSid,
      AccountSid: accountSid,
      AnsweredBy: answeredBy,
      MachineDetectionDuration: String(Math.round(machineDetectionDurationMs)),
    },
    authToken,
  );
  if (!res.ok) throw new Error(`AMD callback answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
}

/** Twilio's final status callback (`completed` with the duration). */
export async function postCompleted(
  fetchFn: FetchLike,
  baseUrl: string,
  authToken: string,
  callSid: string,
  accountSid: string,
  durationMs: number,
): Promise<number> {
  const res = await postSignedForm(
    fetchFn,
    new URL("/twilio/status", baseUrl).toString(),
    {
      CallSid: callSid,
      AccountSid: accountSid,
      CallStatus: "completed",
      CallDuration: String(Math.round(durationMs / 1000)),
    },
    authToken,
  );
  await res.body?.cancel();
  return res.status;
}
