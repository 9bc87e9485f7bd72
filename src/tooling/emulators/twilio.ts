/**
 * Twilio REST emulator (Node) for Calls.json create/update: HTTP Basic auth, form-encoded
 * PascalCase params, Twilio's `{code,message,more_info,status}` errors, and call progress that
 * sends correctly signed status and async-AMD callbacks to the URLs the call was created with.
 * Placed calls progress by themselves (twilio-lifecycle.ts): ringing, answer, AMD 2–5 s later,
 * callbacks jittered so they may arrive out of order; `lifecycle: {mode: "manual"}` turns that off.
 */
import { randomBytes } from "node:crypto";
import { twilioParamsFromForm } from "../../integrations/twilio-signature";
import {
  asRecord,
  type EmulatorBaseOptions,
  type EmulatorControls,
  type EmulatorResponse,
  type RecordedRequest,
  startHttpEmulator,
  tryJson,
} from "./http-shared";
import { type SentCallback, webhookSender } from "./twilio-callbacks";

export type { SentCallback };

import {
  callRandom,
  DEFAULT_LIFECYCLE,
  type LifecycleStep,
  mergeLifecycle,
  planLifecycle,
  type TwilioLifecycleOptions,
  twilioTimestamp,
} from "./twilio-lifecycle";

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
  /** Wall clock of the answer (for `CallDuration`). */
  answeredAtMs?: number;
  sequence: number;
}

/** Options: credentials and how placed calls progress. */
export interface TwilioEmulatorOptions extends EmulatorBaseOptions {
  accountSid?: string;
  authToken?: string;
  /** Placed calls' lifecycle (default: auto, Twilio-like timings; see twilio-lifecycle.ts). */
  lifecycle?: Partial<TwilioLifecycleOptions>;
}

/** Emulator handle: calls, and call progress that fires the signed callbacks. */
export interface TwilioEmulator extends EmulatorControls {
  accountSid: string;
  authToken: string;
  calls(): EmulatedCall[];
  callbacks(): SentCallback[];
  /**
   * Move a call on; sends the status callback if subscribed and, with `answeredBy`, the AMD callback
   * (`detectionMs` as `MachineDetectionDuration`). `jitterMs` delays each callback by a random 0..jitter.
   */
  progressCall(
    sid: string,
    status: EmulatedCallStatus,
    opts?: { answeredBy?: string; detectionMs?: number; jitterMs?: number; random?: () => number },
  ): Promise<SentCallback[]>;
  /** Change the lifecycle of calls placed from now on. */
  setLifecycle(patch: Partial<TwilioLifecycleOptions>): TwilioLifecycleOptions;
  /** Resolves when every scheduled lifecycle step and callback has run (tests). */
  idle(): Promise<void>;
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
  const sent: SentCallback[] = [];
  let lifecycle = mergeLifecycle(DEFAULT_LIFECYCLE, options.lifecycle ?? {});
  let placed = 0;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => undefined);
    return p;
  };
  const later = (ms: number, fn: () => Promise<unknown>) => {
    const t = setTimeout(() => {
      timers.delete(t);
      void track(fn()).catch(() => undefined);
    }, ms);
    timers.add(t);
  };

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

  const post = webhookSender(authToken, sent, () => lifecycle.duplicates);

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
    if (lifecycle.mode === "auto") runLifecycle(call);
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
    if (status !== undefined) {
      const end = call.answered ? "completed" : "canceled";
      // Twilio reports the end of a call however it ended; the planned steps stop here.
      if (lifecycle.mode === "auto" && Object.keys(call.createParams).length > 0) {
        void track(progressCall(call.sid, end, { jitterMs: lifecycle.jitterMs })).catch(() => undefined);
      }
      call.status = end;
    }
    return { status: 200, body: resource(call) };
  };

  /** Run a placed call's planned steps on timers; a step after the call ended is dropped. */
  const runLifecycle = (call: EmulatedCall) => {
    const random = callRandom(lifecycle, placed++);
    const cp = call.createParams;
    const asyncAmd =
      first(cp.AsyncAmd) === "true" &&
      first(cp.AsyncAmdStatusCallback) !== undefined &&
      !!first(cp.MachineDetection);
    const jitterMs = lifecycle.jitterMs;
    for (const step of planLifecycle(lifecycle, { to: call.to, asyncAmd }, random)) {
      later(step.atMs, () => runStep(call, step, jitterMs, random));
    }
  };
  const runStep = async (call: EmulatedCall, step: LifecycleStep, jitterMs: number, random: () => number) => {
    if (TERMINAL.has(call.status)) return [];
    if (step.kind === "amd") {
      return sendAmd(call, step.answeredBy, step.detectionMs, Math.round(random() * jitterMs));
    }
    return progressCall(call.sid, step.status as EmulatedCallStatus, { jitterMs, random });
  };

  const sendAmd = async (
    call: EmulatedCall,
    answeredBy: string,
    detectionMs: number,
    delayMs: number,
  ): Promise<SentCallback[]> => {
    const cp = call.createParams;
    const amdUrl = first(cp.AsyncAmdStatusCallback);
    if (!amdUrl || first(cp.AsyncAmd) !== "true") return [];
    return [
      await post(
        "amd",
        amdUrl,
        first(cp.AsyncAmdStatusCallbackMethod) ?? "POST",
        {
          AccountSid: accountSid,
          CallSid: call.sid,
          AnsweredBy: answeredBy,
          MachineDetectionDuration: String(detectionMs),
        },
        delayMs,
      ),
    ];
  };

  const progressCall: TwilioEmulator["progressCall"] = async (sid, status, opts = {}) => {
    const call = calls.find((c) => c.sid === sid);
    if (!call) throw new Error(`no call ${sid}`);
    call.status = status;
    if (status === "in-progress" && !call.answered) {
      call.answered = true;
      call.answeredAtMs = Date.now();
    }
    const random = opts.random ?? Math.random;
    const jitter = () => Math.round(random() * (opts.jitterMs ?? 0));
    const sends: (() => Promise<SentCallback[]>)[] = [];
    const cp = call.createParams;
    const statusUrl = first(cp.StatusCallback);
    const rawEvents = cp.StatusCallbackEvent;
    const events =
      rawEvents === undefined ? ["completed"] : Array.isArray(rawEvents) ? rawEvents : [rawEvents];
    const subscribed = events.flatMap((e) => e.split(/\s+/)).includes(eventFor(status));
    if (statusUrl && subscribed) {
      // SequenceNumber counts events as Twilio fires them (from 0); each is its own request, so
      // arrival order is not guaranteed.
      const sequence = call.sequence++;
      const durationS =
        call.answeredAtMs === undefined
          ? 0
          : Math.max(1, Math.round((Date.now() - call.answeredAtMs) / 1000));
      const params = {
        AccountSid: accountSid,
        CallSid: sid,
        From: call.from,
        To: call.to,
        ApiVersion: "2010-04-01",
        CallStatus: status,
        Direction: "outbound-api",
        CallbackSource: "call-progress-events",
        SequenceNumber: String(sequence),
        Timestamp: twilioTimestamp(Date.now()),
        ...(TERMINAL.has(status) ? { CallDuration: String(durationS) } : {}),
      };
      const method = first(cp.StatusCallbackMethod) ?? "POST";
      const delayMs = jitter();
      sends.push(() => post("status", statusUrl, method, params, delayMs).then((r) => [r]));
    }
    if (opts.answeredBy !== undefined) {
      const { answeredBy } = opts;
      const delayMs = jitter();
      sends.push(() => sendAmd(call, answeredBy, opts.detectionMs ?? 2_400, delayMs));
    }
    // Jittered callbacks race each other (as Twilio's separate requests do); unjittered ones go in order.
    if ((opts.jitterMs ?? 0) > 0) return (await Promise.all(sends.map((f) => f()))).flat();
    const out: SentCallback[] = [];
    for (const f of sends) out.push(...(await f()));
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
      if (req.path === "/__emulator/lifecycle" && req.method === "POST") {
        lifecycle = mergeLifecycle(lifecycle, asRecord(tryJson(req.body)) ?? {});
        return { status: 200, body: lifecycle };
      }
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
    state: () => ({ calls, callbacks: sent, lifecycle }),
    reset: () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      calls = [];
      sent.length = 0;
      placed = 0;
      lifecycle = mergeLifecycle(DEFAULT_LIFECYCLE, options.lifecycle ?? {});
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
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await controls.close();
    },
    accountSid,
    authToken,
    calls: () => [...calls],
    callbacks: () => [...sent],
    progressCall,
    setLifecycle: (patch) => {
      lifecycle = mergeLifecycle(lifecycle, patch);
      return lifecycle;
    },
    idle: async () => {
      while (timers.size > 0 || inFlight.size > 0) {
        await Promise.all([...inFlight].map((p) => p.catch(() => undefined)));
        if (timers.size > 0) await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}
