/**
 * Twilio REST emulator (Node) for Calls.json create/update: HTTP Basic auth, form-encoded
 * PascalCase params, Twilio's `{code,message,more_info,status}` errors, and call progress that
 * sends correctly signed status and async-AMD callbacks to the URLs the call was created with.
 */
import { randomBytes } from "node:crypto";
import { computeTwilioSignature, twilioParamsFromForm } from "../integrations/twilio-signature";
import {
  asRecord,
  type EmulatorBaseOptions,
  type EmulatorControls,
  type EmulatorResponse,
  type RecordedRequest,
  startHttpEmulator,
  tryJson,
} from "./http-shared";

/** Call states (twilio-node CallStatus) plus `initiated` for the first progress event. */
export type EmulatedCallStatus =
  | "queued"
  | "initiated"
  | "ringing"
  | "in-progress"
  | "completed"
  | "busy"
  | "failed"
  | "no-answer"
  | "canceled";

/** A call the emulator created, with every param it was created or updated with. */
export interface EmulatedCall {
  sid: string;
  to: string;
  from: string;
  status: EmulatedCallStatus;
  createParams: Record<string, string | string[]>;
  updates: Record<string, string | string[]>[];
  answered: boolean;
  sequence: number;
}

/** A callback the emulator sent. */
export interface SentCallback {
  kind: "status" | "amd";
  url: string;
  params: Record<string, string>;
  status: number;
}

/** Options: credentials. */
export interface TwilioEmulatorOptions extends EmulatorBaseOptions {
  accountSid?: string;
  authToken?: string;
}

/** Emulator handle: calls, and call progress that fires the signed callbacks. */
export interface TwilioEmulator extends EmulatorControls {
  accountSid: string;
  authToken: string;
  calls(): EmulatedCall[];
  callbacks(): SentCallback[];
  /** Move a call on; sends the status callback if subscribed and, with `answeredBy`, the AMD callback. */
  progressCall(
    sid: string,
    status: EmulatedCallStatus,
    opts?: { answeredBy?: string },
  ): Promise<SentCallback[]>;
}

const CALL_STATUSES = new Set<EmulatedCallStatus>([
  "queued",
  "initiated",
  "ringing",
  "in-progress",
  "completed",
  "busy",
  "failed",
  "no-answer",
  "canceled",
]);
const TERMINAL = new Set<EmulatedCallStatus>(["completed", "busy", "failed", "no-answer", "canceled"]);

function twilioError(status: number, code: number, message: string): EmulatorResponse {
  return { status, body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status } };
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function eventFor(status: EmulatedCallStatus): string {
  if (status === "in-progress") return "answered";
  if (TERMINAL.has(status)) return "completed";
  return status;
}

/** Start the Twilio REST emulator. Defaults: account `AC` + 32 zeros, token `test_auth_token`. */
export async function startTwilioEmulator(options: TwilioEmulatorOptions = {}): Promise<TwilioEmulator> {
  const accountSid = options.accountSid ?? `AC${"0".repeat(32)}`;
  const authToken = options.authToken ?? "test_auth_token";
  const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString("base64")}`;
  let calls: EmulatedCall[] = [];
  let sent: SentCallback[] = [];

  const resource = (c: EmulatedCall) => ({
    sid: c.sid,
    account_sid: accountSid,
    to: c.to,
    from: c.from,
    status: c.status === "initiated" ? "queued" : c.status,
    direction: "outbound-api",
    api_version: "2010-04-01",
    date_created: new Date().toUTCString(),
    answered_by: null,
    uri: `/2010-04-01/Accounts/${accountSid}/Calls/${c.sid}.json`,
  });

  /** POST: sign URL + params. GET: params go in the query and the full URL is signed alone. */
  const post = async (
    kind: SentCallback["kind"],
    url: string,
    method: string,
    params: Record<string, string>,
  ) => {
    const form = new URLSearchParams(params);
    const isGet = method === "GET";
    const target = isGet ? `${url}${url.includes("?") ? "&" : "?"}${form}` : url;
    const signature = await computeTwilioSignature(authToken, target, isGet ? {} : params);
    let status = 0;
    try {
      const res = await fetch(target, {
        method,
        headers: {
          "x-twilio-signature": signature,
          "i-twilio-idempotency-token": randomBytes(8).toString("hex"),
          ...(isGet ? {} : { "content-type": "application/x-www-form-urlencoded" }),
        },
        ...(isGet ? {} : { body: form.toString() }),
      });
      await res.text();
      status = res.status;
    } catch {
      status = 0;
    }
    const record: SentCallback = { kind, url, params, status };
    sent.push(record);
    return record;
  };

  const create = (req: RecordedRequest): EmulatorResponse => {
    const p = twilioParamsFromForm(new URLSearchParams(req.body));
    const to = first(p.To);
    const from = first(p.From);
    if (!to) return twilioError(400, 21201, "No 'To' number is specified");
    if (!from) return twilioError(400, 21213, "No 'From' number is specified");
    const twiml = first(p.Twiml);
    if (!first(p.Url) && !twiml && !first(p.ApplicationSid)) {
      return twilioError(400, 21205, "Url parameter is required.");
    }
    if (twiml !== undefined && twiml.length > 4000) return twilioError(400, 21220, "Twiml is too long");
    const md = first(p.MachineDetection);
    if (md !== undefined && md !== "Enable" && md !== "DetectMessageEnd") {
      return twilioError(400, 21630, "MachineDetection must be Enable or DetectMessageEnd");
    }
    const call: EmulatedCall = {
      sid: `CA${randomBytes(16).toString("hex")}`,
      to,
      from,
      status: "queued",
      createParams: p,
      updates: [],
      answered: false,
      sequence: 0,
    };
    calls.push(call);
    return { status: 201, body: resource(call) };
  };

  const update = (req: RecordedRequest, call: EmulatedCall): EmulatorResponse => {
    const p = twilioParamsFromForm(new URLSearchParams(req.body));
    const status = first(p.Status);
    if (status !== undefined && status !== "completed" && status !== "canceled") {
      return twilioError(400, 21218, "Status must be completed or canceled");
    }
    if (TERMINAL.has(call.status)) {
      return twilioError(400, 21220, "Call is not in-progress. Cannot redirect.");
    }
    call.updates.push(p);
    if (status !== undefined) call.status = call.answered ? "completed" : "canceled";
    return { status: 200, body: resource(call) };
  };

  const progressCall: TwilioEmulator["progressCall"] = async (sid, status, opts = {}) => {
    const call = calls.find((c) => c.sid === sid);
    if (!call) throw new Error(`no call ${sid}`);
    call.status = status;
    if (status === "in-progress") call.answered = true;
    const out: SentCallback[] = [];
    const cp = call.createParams;
    const statusUrl = first(cp.StatusCallback);
    const rawEvents = cp.StatusCallbackEvent;
    const events =
      rawEvents === undefined ? ["completed"] : Array.isArray(rawEvents) ? rawEvents : [rawEvents];
    const subscribed = events.flatMap((e) => e.split(/\s+/)).includes(eventFor(status));
    const base = {
      AccountSid: accountSid,
      CallSid: sid,
      From: call.from,
      To: call.to,
      ApiVersion: "2010-04-01",
    };
    if (statusUrl && subscribed) {
      call.sequence += 1;
      out.push(
        await post("status", statusUrl, first(cp.StatusCallbackMethod) ?? "POST", {
          ...base,
          CallStatus: status,
          Direction: "outbound-api",
          CallbackSource: "call-progress-events",
          SequenceNumber: String(call.sequence - 1),
          Timestamp: new Date().toUTCString(),
          ...(TERMINAL.has(status) ? { CallDuration: call.answered ? "1" : "0" } : {}),
        }),
      );
    }
    const amdUrl = first(cp.AsyncAmdStatusCallback);
    if (opts.answeredBy !== undefined && amdUrl && first(cp.AsyncAmd) === "true") {
      out.push(
        await post("amd", amdUrl, first(cp.AsyncAmdStatusCallbackMethod) ?? "POST", {
          AccountSid: accountSid,
          CallSid: sid,
          AnsweredBy: opts.answeredBy,
          MachineDetectionDuration: "2400",
        }),
      );
    }
    return out;
  };

  /**
   * A call Twilio carries that this emulator did not place (the call simulator's, inbound or outbound):
   * registered in progress so the app's REST updates (hang-up, redirect) find it, as they would at Twilio.
   */
  const registerCall = (req: RecordedRequest): EmulatorResponse => {
    const body = asRecord(tryJson(req.body)) ?? {};
    const { sid, from, to } = body;
    if (typeof sid !== "string" || !/^CA[0-9a-f]{32}$/.test(sid)) {
      return { status: 400, body: { error: "sid must be a call SID (CA + 32 hex)" } };
    }
    if (typeof from !== "string" || typeof to !== "string") {
      return { status: 400, body: { error: "from and to are required" } };
    }
    if (calls.some((c) => c.sid === sid)) return { status: 409, body: { error: "call already known" } };
    const call: EmulatedCall = {
      sid,
      to,
      from,
      status: "in-progress",
      createParams: {},
      updates: [],
      answered: true,
      sequence: 0,
    };
    calls.push(call);
    return { status: 201, body: resource(call) };
  };

  const impl = {
    name: "twilio",
    async control(req: RecordedRequest): Promise<EmulatorResponse | undefined> {
      if (req.path === "/__emulator/calls" && req.method === "POST") return registerCall(req);
      const m = /^\/__emulator\/calls\/([^/]+)\/progress$/.exec(req.path);
      if (!m?.[1] || req.method !== "POST") return undefined;
      const body = asRecord(tryJson(req.body)) ?? {};
      const status = body.status;
      if (typeof status !== "string" || !CALL_STATUSES.has(status as EmulatedCallStatus)) {
        return { status: 400, body: { error: "status must be a call status" } };
      }
      if (!calls.some((c) => c.sid === m[1])) return { status: 404, body: { error: "no such call" } };
      const answeredBy = typeof body.answeredBy === "string" ? body.answeredBy : undefined;
      const out = await progressCall(m[1], status as EmulatedCallStatus, answeredBy ? { answeredBy } : {});
      return { status: 200, body: out };
    },
    state: () => ({ calls, callbacks: sent }),
    reset: () => {
      calls = [];
      sent = [];
    },
    handle(req: RecordedRequest): EmulatorResponse {
      const m = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls(?:\/([^/]+))?\.json$/.exec(req.path);
      if (!m) return twilioError(404, 20404, "The requested resource was not found");
      if (req.headers.authorization !== expectedAuth || m[1] !== accountSid) {
        return twilioError(401, 20003, "Authenticate");
      }
      if (req.method !== "POST") return twilioError(405, 20004, "Method not allowed");
      if (m[2] === undefined) return create(req);
      const call = calls.find((c) => c.sid === m[2]);
      if (!call) return twilioError(404, 20404, `The requested resource ${req.path} was not found`);
      return update(req, call);
    },
  };
  const controls = await startHttpEmulator(impl, options);
  return {
    ...controls,
    accountSid,
    authToken,
    calls: () => [...calls],
    callbacks: () => [...sent],
    progressCall,
  };
}
