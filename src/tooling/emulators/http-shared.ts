/**
 * Shared plumbing for the HTTP provider emulators (Node only): a node:http server on an ephemeral
 * port, request recording, latency and fault injection (status codes, 429 + Retry-After, stalls),
 * and the `/__emulator/...` control API every emulator exposes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** A request as the emulator received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
  atMs: number;
}

/** What a handler returns. `body` objects are sent as JSON. */
export interface EmulatorResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * One injected fault, consumed by the next matching request(s).
 * `stall` holds the request open without answering (until the emulator closes).
 */
export interface FaultSpec {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  retryAfterSeconds?: number;
  stall?: boolean;
  /** Run the real handler first (the write happens), then answer with this fault: a lost response. */
  failAfterHandling?: boolean;
  /** Extra delay before answering this request. */
  delayMs?: number;
  /** Only requests whose path starts with this. */
  pathPrefix?: string;
  method?: string;
  /** How many requests it applies to. Default 1. */
  times?: number;
}

/** Latency and fault options common to every emulator. */
export interface EmulatorBaseOptions {
  port?: number;
  host?: string;
  /** Added before every answer. */
  latencyMs?: number;
  /** Faults queued at start. */
  faults?: FaultSpec[];
}

/** Control surface common to every emulator (also reachable over HTTP under `/__emulator`). */
export interface EmulatorControls {
  url: string;
  close(): Promise<void>;
  /** Requests received, oldest first (control API calls excluded). */
  requests(): RecordedRequest[];
  injectFault(fault: FaultSpec): void;
  clearFaults(): void;
  setLatency(ms: number): void;
  /** Forget recorded requests and faults, and reset emulator state. */
  reset(): void;
}

/** The per-emulator part: a route handler, its state snapshot and reset. */
export interface EmulatorImpl {
  name: string;
  handle(req: RecordedRequest): Promise<EmulatorResponse> | EmulatorResponse;
  state(): unknown;
  reset(): void;
  /** Emulator-specific `/__emulator/...` endpoints; undefined falls through to the common ones. */
  control?(req: RecordedRequest): Promise<EmulatorResponse | undefined>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, r: EmulatorResponse): void {
  const headers: Record<string, string> = { ...r.headers };
  let payload = "";
  if (typeof r.body === "string") {
    payload = r.body;
    headers["content-type"] ??= "text/plain; charset=utf-8";
  } else if (r.body !== undefined) {
    payload = JSON.stringify(r.body);
    headers["content-type"] ??= "application/json";
  }
  res.writeHead(r.status, headers);
  res.end(payload);
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Parse a JSON body, or undefined when it is not JSON. */
export function tryJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** Narrow an unknown to a plain object. */
export function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** Start an emulator server around `impl`. */
export async function startHttpEmulator(
  impl: EmulatorImpl,
  options: EmulatorBaseOptions = {},
): Promise<EmulatorControls> {
  let latencyMs = options.latencyMs ?? 0;
  let faults: FaultSpec[] = [...(options.faults ?? [])];
  let recorded: RecordedRequest[] = [];
  const sockets = new Set<Socket>();

  const takeFault = (req: RecordedRequest): FaultSpec | undefined => {
    const i = faults.findIndex(
      (f) =>
        (f.pathPrefix === undefined || req.path.startsWith(f.pathPrefix)) &&
        (f.method === undefined || f.method.toUpperCase() === req.method),
    );
    if (i === -1) return undefined;
    const fault = faults[i];
    if (fault === undefined) return undefined;
    const left = (fault.times ?? 1) - 1;
    if (left <= 0) faults.splice(i, 1);
    else faults[i] = { ...fault, times: left };
    return fault;
  };

  const control = (req: RecordedRequest): EmulatorResponse => {
    const sub = req.path.slice("/__emulator".length);
    const body = asRecord(tryJson(req.body)) ?? {};
    if (sub === "/requests" && req.method === "GET") return { status: 200, body: recorded };
    if (sub === "/requests" && req.method === "DELETE") {
      recorded = [];
      return { status: 204 };
    }
    if (sub === "/faults" && req.method === "POST") {
      faults.push(body as FaultSpec);
      return { status: 204 };
    }
    if (sub === "/faults" && req.method === "DELETE") {
      faults = [];
      return { status: 204 };
    }
    if (sub === "/latency" && req.method === "POST") {
      latencyMs = typeof body.ms === "number" ? body.ms : 0;
      return { status: 204 };
    }
    if (sub === "/state" && req.method === "GET") return { status: 200, body: impl.state() };
    if (sub === "/reset" && req.method === "POST") {
      controls.reset();
      return { status: 204 };
    }
    return { status: 404, body: { error: "unknown control endpoint" } };
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://emulator.local");
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === "string") headers[k] = v;
        else if (Array.isArray(v)) headers[k] = v.join(", ");
      }
      const rec: RecordedRequest = {
        method: (req.method ?? "GET").toUpperCase(),
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers,
        body: await readBody(req),
        atMs: Date.now(),
      };
      if (rec.path.startsWith("/__emulator/")) {
        send(res, (await impl.control?.(rec)) ?? control(rec));
        return;
      }
      recorded.push(rec);
      const fault = takeFault(rec);
      const wait = latencyMs + (fault?.delayMs ?? 0);
      if (wait > 0) await delay(wait);
      if (fault?.stall) return; // never answered; the socket is destroyed on close()
      if (fault?.failAfterHandling) await impl.handle(rec);
      if (fault?.status !== undefined) {
        const h: Record<string, string> = { ...fault.headers };
        if (fault.retryAfterSeconds !== undefined) h["retry-after"] = String(fault.retryAfterSeconds);
        send(res, { status: fault.status, body: fault.body ?? "", headers: h });
        return;
      }
      send(res, await impl.handle(rec));
    })().catch((err: unknown) => {
      if (!res.headersSent) send(res, { status: 500, body: { error: String(err) } });
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve),
  );
  const addr = server.address() as AddressInfo;

  const controls: EmulatorControls = {
    url: `http://${addr.address}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
    requests: () => [...recorded],
    injectFault: (f) => {
      faults.push(f);
    },
    clearFaults: () => {
      faults = [];
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    reset: () => {
      recorded = [];
      faults = [];
      impl.reset();
    },
  };
  return controls;
}

/** The bearer token of a request, if any. */
export function bearerToken(req: RecordedRequest): string | undefined {
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "");
  return m?.[1]?.trim();
}
