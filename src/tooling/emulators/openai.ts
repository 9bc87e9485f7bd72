/** OpenAI Chat Completions emulator (Node): SSE streaming and JSON, Bearer auth, a deterministic rule-based "model", faults. */
import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { delay, parseJson, readBody, sendJson, startServer } from "./voice-shared";

/** Options for the OpenAI emulator. */
export interface OpenAiEmulatorOptions {
  port?: number;
  host?: string;
  /** When set, the Bearer key must equal it; otherwise any non-empty key passes. */
  apiKey?: string;
  /** Delay between response headers and the first streamed token. */
  ttftMs?: number;
  /** Delay between streamed chunks. */
  chunkIntervalMs?: number;
}

/**
 * Faults applied to subsequent requests, shaped like OpenAI's own failures (protocols.md §7): error
 * bodies `{"error":{message,type,param,code}}` with `x-request-id`, and on 429 the `retry-after`,
 * `retry-after-ms` and `x-ratelimit-*` headers.
 */
export interface OpenAiFaults {
  /**
   * Fail with this status: 429 → `rate_limit_exceeded` (type `requests`) with retry headers, or with
   * `code: "insufficient_quota"` the quota error (no retry headers); 5xx → `server_error`; other 4xx →
   * `invalid_request_error`.
   */
  status?: number;
  code?: string;
  /** How many requests the status fault applies to (default all). */
  failures?: number;
  /** Wait the error asks for (429 always; 5xx only when set). Default 200 on 429. */
  retryAfterMs?: number;
  /** Only requests for this model are affected (OpenAI's rate limits are per model). Default every model. */
  model?: string;
  /** The next N requests (of `model`, if set) are never answered: the connection stays open until the client gives up. */
  hangRequests?: number;
  /** Hold the request this long before answering (drives client timeouts). */
  stallMs?: number;
  /** Drop the connection after this many SSE chunks. */
  disconnectAfterChunks?: number;
}

/** A received request, for assertions. */
export interface OpenAiRecord {
  authorization: string;
  body: unknown;
}

/** A running OpenAI emulator. */
export interface OpenAiEmulator {
  url: string;
  /** Base URL for SDK clients (`…/v1`). */
  baseURL: string;
  setFaults(faults: OpenAiFaults): void;
  setLatency(latency: { ttftMs?: number; chunkIntervalMs?: number }): void;
  requests(): OpenAiRecord[];
  close(): Promise<void>;
}

type Intent = "optout" | "negative" | "affirmative" | "unclear";

const BRANCH_SYNONYMS: Record<Intent, string[]> = {
  optout: ["opt_out", "optout", "opt", "stop", "do_not_call", "dnc", "unsubscribe", "remove"],
  negative: [
    "no",
    "negative",
    "decline",
    "declined",
    "not_interested",
    "unavailable",
    "reject",
    "rejected",
    "deny",
    "refuse",
  ],
  affirmative: [
    "yes",
    "affirmative",
    "positive",
    "confirm",
    "confirmed",
    "agree",
    "accept",
    "interested",
    "available",
    "slot_selected",
    "book",
    "booked",
    "ok",
    "selected",
  ],
  unclear: ["unclear", "clarify", "unknown", "other", "fallback", "repeat", "no_match", "nomatch", "none"],
};

const DAYS = [
  "monday",
  "tuesday",
  "wednesday",
  "thursday",
  "friday",
  "saturday",
  "sunday",
  "today",
  "tomorrow",
];
const EMAIL = /[\w.+-]+@[\w-]+(\.[\w-]+)+/;
const TIME = /\b(\d{1,2}[:.]\d{2}\s*(?:am|pm)?|\d{1,2}\s*(?:am|pm))\b/i;

/** Classify the caller's words into a coarse intent (pure). */
export function classifyIntent(text: string): Intent {
  const t = ` ${text.toLowerCase().replace(/[^\p{L}\p{N}' ]/gu, " ")} `;
  if (/ (stop calling|remove me|unsubscribe|do not call|don't call|take me off) /.test(t)) return "optout";
  if (/ (no|nope|nah|not|don't|never|can't|cannot|won't) /.test(t)) return "negative";
  if (
    / (yes|yeah|yep|yup|sure|ok|okay|correct|right|please|definitely|absolutely|fine|great|perfect|go ahead) /.test(
      t,
    )
  )
    return "affirmative";
  return "unclear";
}

function normalise(name: string): string {
  return name.toLowerCase().replace(/[\s-]+/g, "_");
}

function matchBranch(branches: string[], intent: Intent): string | undefined {
  const syn = BRANCH_SYNONYMS[intent];
  return (
    branches.find((b) => syn.includes(normalise(b))) ??
    branches.find((b) => syn.some((s) => normalise(b).includes(s)))
  );
}

/** Extract captures by simple patterns, keyed by capture name (pure). */
export function extractCaptures(names: string[], text: string): Record<string, string | null> {
  const lower = text.toLowerCase();
  const time = TIME.exec(text)?.[1]?.trim();
  const day = DAYS.find((d) => lower.includes(d));
  const out: Record<string, string | null> = {};
  for (const name of names) {
    const n = name.toLowerCase();
    let v: string | undefined;
    if (n.includes("email")) v = EMAIL.exec(text)?.[0];
    else if (n.includes("day") || n.includes("date")) v = day;
    else if (n.includes("time") || n.includes("slot") || n.includes("when") || n.includes("start")) {
      v = [day, time].filter((x): x is string => x !== undefined).join(" ") || undefined;
    } else if (n.includes("name")) v = /(?:my name is|this is|i'm|i am)\s+([A-Z][\p{L}'-]+)/u.exec(text)?.[1];
    else if (n.includes("phone") || n.includes("number"))
      v = /\+?\d[\d ]{6,}\d/.exec(text)?.[0]?.replace(/ /g, "");
    out[name] = v ?? null;
  }
  return out;
}

const REPLIES: Record<Intent, string> = {
  optout: "Understood, I'll make sure we don't call again.",
  negative: "No problem at all.",
  affirmative: "Great, thank you.",
  unclear: "Sorry, could you say that again?",
};

interface ToolShape {
  name: string;
  branches: string[];
  captureNames: string[];
  wantsReply: boolean;
}

function readTool(body: Record<string, unknown>): ToolShape | undefined {
  const tools = Array.isArray(body.tools) ? body.tools : [];
  for (const t of tools) {
    const fn = (t as { function?: { name?: unknown; parameters?: { properties?: Record<string, unknown> } } })
      .function;
    const props = fn?.parameters?.properties;
    const branch = props?.branch as { enum?: unknown } | undefined;
    if (typeof fn?.name !== "string" || props === undefined || !Array.isArray(branch?.enum)) continue;
    const captures =
      (props.captures as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
    return {
      name: fn.name,
      branches: branch.enum.filter((b): b is string => typeof b === "string"),
      captureNames: Object.keys(captures),
      wantsReply: "reply" in props,
    };
  }
  return undefined;
}

function lastUserText(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages)
    ? (body.messages as { role?: unknown; content?: unknown }[])
    : [];
  const last = [...messages].reverse().find((m) => m.role === "user");
  if (typeof last?.content === "string") return last.content;
  if (Array.isArray(last?.content))
    return last.content.map((p: { text?: unknown }) => (typeof p.text === "string" ? p.text : "")).join(" ");
  return "";
}

/** The deterministic "model": tool arguments JSON for a request (pure). */
export function decideArguments(tool: ToolShape, userText: string): string {
  const intent = classifyIntent(userText);
  const captures = extractCaptures(tool.captureNames, userText);
  const captured = Object.values(captures).some((v) => v !== null);
  const direct = tool.branches.find(
    (b) => normalise(b).length > 3 && userText.toLowerCase().includes(normalise(b).replace(/_/g, " ")),
  );
  const branch =
    direct ??
    (intent === "unclear" && captured ? matchBranch(tool.branches, "affirmative") : undefined) ??
    matchBranch(tool.branches, intent) ??
    matchBranch(tool.branches, "unclear") ??
    tool.branches[0] ??
    "";
  const args: Record<string, unknown> = { branch };
  if (tool.captureNames.length > 0) args.captures = captures;
  if (tool.wantsReply) args.reply = REPLIES[captured && intent === "unclear" ? "affirmative" : intent];
  return JSON.stringify(args);
}

function usageFor(body: unknown, output: string) {
  const prompt = Math.ceil(JSON.stringify(body).length / 4);
  const completion = Math.ceil(output.length / 4);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function apiError(
  res: ServerResponse,
  status: number,
  message: string,
  type: string,
  code: string | null,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { error: { message, type, param: null, code } }, headers);
}

/** One injected failure with OpenAI's real error body and headers. */
function sendFault(
  res: ServerResponse,
  status: number,
  code: string | undefined,
  retryAfterMs: number | undefined,
  model: string,
): void {
  if (status === 429 && code === "insufficient_quota") {
    apiError(
      res,
      429,
      "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
      "insufficient_quota",
      "insufficient_quota",
    );
    return;
  }
  if (status === 429) {
    const ms = retryAfterMs ?? 200;
    const seconds = Math.max(1, Math.ceil(ms / 1000));
    apiError(
      res,
      429,
      `Rate limit reached for ${model} in organization org-emulator on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in ${ms}ms. Visit https://platform.openai.com/account/rate-limits to learn more.`,
      "requests",
      code ?? "rate_limit_exceeded",
      {
        "retry-after": String(seconds),
        "retry-after-ms": String(ms),
        "x-ratelimit-limit-requests": "500",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": `${ms}ms`,
      },
    );
    return;
  }
  const retryHeaders: Record<string, string> =
    retryAfterMs === undefined
      ? {}
      : {
          "retry-after": String(Math.max(1, Math.ceil(retryAfterMs / 1000))),
          "retry-after-ms": String(retryAfterMs),
        };
  if (status >= 500) {
    const message =
      status === 503
        ? "The server is overloaded or not ready yet."
        : "The server had an error while processing your request. Sorry about that!";
    apiError(res, status, message, "server_error", code ?? null, retryHeaders);
    return;
  }
  apiError(res, status, "Invalid request.", "invalid_request_error", code ?? null, retryHeaders);
}

interface State {
  faults: OpenAiFaults;
  ttftMs: number;
  chunkIntervalMs: number;
  records: OpenAiRecord[];
}

async function completions(
  req: import("node:http").IncomingMessage,
  res: ServerResponse,
  state: State,
  apiKey: string | undefined,
): Promise<void> {
  const auth = req.headers.authorization ?? "";
  const body = parseJson(await readBody(req));
  state.records.push({ authorization: auth, body });
  const key = /^Bearer\s+(.+)$/.exec(auth)?.[1] ?? "";
  if (key === "" || (apiKey !== undefined && key !== apiKey)) {
    apiError(res, 401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key");
    return;
  }
  const f = state.faults;
  const model =
    typeof (body as { model?: unknown } | null)?.model === "string" ? (body as { model: string }).model : "";
  const targeted = f.model === undefined || f.model === model;
  if (targeted && f.hangRequests !== undefined && f.hangRequests > 0) {
    f.hangRequests--;
    // Never answer: hold the socket until the client aborts (or the emulator closes).
    await new Promise<void>((resolve) => res.on("close", () => resolve()));
    return;
  }
  await delay(f.stallMs ?? 0);
  if (res.destroyed) return;
  if (targeted && f.status !== undefined && (f.failures ?? 1) > 0) {
    if (f.failures !== undefined) f.failures--;
    sendFault(res, f.status, f.code, f.retryAfterMs, model || "gpt-4o-mini");
    return;
  }
  if (typeof body !== "object" || body === null) {
    apiError(res, 400, "We could not parse the JSON body of your request.", "invalid_request_error", null);
    return;
  }
  const b = body as Record<string, unknown>;
  if (typeof b.model !== "string" || !Array.isArray(b.messages)) {
    apiError(
      res,
      400,
      "Missing required parameter: 'model' or 'messages'.",
      "invalid_request_error",
      "missing_required_parameter",
    );
    return;
  }
  const tool = b.tool_choice === "none" ? undefined : readTool(b);
  const userText = lastUserText(b);
  const args = tool === undefined ? undefined : decideArguments(tool, userText);
  const text = args === undefined ? "OK." : "";
  const id = `chatcmpl-${randomUUID()}`;
  const callId = `call_${randomUUID().replace(/-/g, "").slice(0, 24)}`;
  const created = Math.floor(Date.now() / 1000);
  const usage = usageFor(b.messages, args ?? text);
  const finish = args === undefined ? "stop" : "tool_calls";
  if (b.stream !== true) {
    const message =
      tool === undefined || args === undefined
        ? { role: "assistant", content: text, refusal: null }
        : {
            role: "assistant",
            content: null,
            refusal: null,
            tool_calls: [{ id: callId, type: "function", function: { name: tool.name, arguments: args } }],
          };
    await delay(state.ttftMs);
    sendJson(res, 200, {
      id,
      object: "chat.completion",
      created,
      model: b.model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
      usage,
    });
    return;
  }
  const includeUsage = (b.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
  const deltas: Record<string, unknown>[] = [{ role: "assistant", content: args === undefined ? "" : null }];
  if (tool !== undefined && args !== undefined) {
    deltas.push({
      tool_calls: [{ index: 0, id: callId, type: "function", function: { name: tool.name, arguments: "" } }],
    });
    for (let i = 0; i < args.length; i += 8)
      deltas.push({ tool_calls: [{ index: 0, function: { arguments: args.slice(i, i + 8) } }] });
  } else {
    deltas.push({ content: text });
  }
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    "x-request-id": randomUUID(),
  });
  const frame = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: b.model, choices, ...(includeUsage ? { usage: null } : {}), ...extra })}\n\n`;
  let sent = 0;
  const chunks = [
    ...deltas.map((delta) => frame([{ index: 0, delta, finish_reason: null }])),
    frame([{ index: 0, delta: {}, finish_reason: finish }]),
    ...(includeUsage ? [frame([], { usage })] : []),
    "data: [DONE]\n\n",
  ];
  for (const chunk of chunks) {
    await delay(sent === 1 ? state.ttftMs : state.chunkIntervalMs);
    if (res.destroyed) return;
    if (f.disconnectAfterChunks !== undefined && sent >= f.disconnectAfterChunks) {
      res.destroy();
      return;
    }
    res.write(chunk);
    sent++;
  }
  res.end();
}

/** Start the OpenAI emulator. Control API: `POST /__emulator/faults|latency|reset`, `GET /__emulator/requests`. */
export async function startOpenAiEmulator(options: OpenAiEmulatorOptions = {}): Promise<OpenAiEmulator> {
  const state: State = {
    faults: {},
    ttftMs: options.ttftMs ?? 0,
    chunkIntervalMs: options.chunkIntervalMs ?? 0,
    records: [],
  };
  const server = await startServer(
    {
      async http(req, res, url) {
        if (req.method === "POST" && url.pathname === "/v1/chat/completions") {
          await completions(req, res, state, options.apiKey);
          return;
        }
        const body = req.method === "POST" ? parseJson(await readBody(req)) : undefined;
        const obj = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
        if (req.method === "POST" && url.pathname === "/__emulator/faults") {
          state.faults = obj as OpenAiFaults;
          sendJson(res, 200, { ok: true });
        } else if (req.method === "POST" && url.pathname === "/__emulator/latency") {
          if (typeof obj.ttftMs === "number") state.ttftMs = obj.ttftMs;
          if (typeof obj.chunkIntervalMs === "number") state.chunkIntervalMs = obj.chunkIntervalMs;
          sendJson(res, 200, { ok: true });
        } else if (req.method === "POST" && url.pathname === "/__emulator/reset") {
          state.faults = {};
          state.records.length = 0;
          sendJson(res, 200, { ok: true });
        } else if (req.method === "GET" && url.pathname === "/__emulator/requests") {
          sendJson(res, 200, { requests: state.records });
        } else {
          apiError(
            res,
            404,
            `Unknown request URL: ${req.method ?? "GET"} ${url.pathname}.`,
            "invalid_request_error",
            "unknown_url",
          );
        }
      },
    },
    options.port,
    options.host,
  );
  return {
    url: server.url,
    baseURL: `${server.url}/v1`,
    setFaults: (f) => {
      state.faults = { ...f };
    },
    setLatency: (l) => {
      if (l.ttftMs !== undefined) state.ttftMs = l.ttftMs;
      if (l.chunkIntervalMs !== undefined) state.chunkIntervalMs = l.chunkIntervalMs;
    },
    requests: () => state.records,
    close: () => server.close(),
  };
}
