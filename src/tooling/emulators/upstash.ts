/**
 * Local Upstash Redis REST endpoint in front of a real redis-server: POST `/` (one command), `/pipeline`,
 * `/multi-exec`, Bearer token check, `{result}` / `{error}` bodies, `Upstash-Encoding: base64` replies,
 * `upstash-sync-token` header. Control API under `/__emulator/` (stats, fault injection).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { RespConnection, type RespReply } from "../dev/redis";

/** Options for `startUpstashEmulator`. */
export interface UpstashEmulatorOptions {
  /** The real Redis behind the endpoint. */
  redis: { host: string; port: number };
  /** Bearer token clients must send (default `local-upstash-token`). */
  token?: string;
  port?: number;
  host?: string;
}

/** A running emulator. */
export interface UpstashEmulator {
  url: string;
  token: string;
  /** Commands received so far (each pipeline element counts). */
  commandCount(): number;
  close(): Promise<void>;
}

type Json = string | number | null | Json[];
type Entry = { result: Json } | { error: string };

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Map a RESP reply to Upstash JSON. Under base64, every string except a literal simple `OK` is base64. */
function toJson(r: RespReply, base64: boolean): Json {
  switch (r.kind) {
    case "simple":
      return base64 && r.value !== "OK" ? Buffer.from(r.value).toString("base64") : r.value;
    case "integer":
      return r.value;
    case "bulk":
      if (r.value === null) return null;
      return base64 ? r.value.toString("base64") : r.value.toString("utf8");
    case "array":
      return r.value === null
        ? null
        : r.value.map((x) => (x.kind === "error" ? x.message : toJson(x, base64)));
    case "error":
      return r.message;
  }
}

function toEntry(r: RespReply, base64: boolean): Entry {
  return r.kind === "error" ? { error: r.message } : { result: toJson(r, base64) };
}

function parseCommand(v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0) throw new HttpError(400, "ERR failed to parse command");
  return v.map((a) => {
    if (typeof a === "string") return a;
    if (typeof a === "number" || typeof a === "boolean") return String(a);
    throw new HttpError(400, "ERR failed to parse command");
  });
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "ERR failed to parse command");
  }
}

/** Start the emulator. Each request borrows its own Redis connection, so MULTI blocks never interleave. */
export async function startUpstashEmulator(options: UpstashEmulatorOptions): Promise<UpstashEmulator> {
  const token = options.token ?? "local-upstash-token";
  const idle: RespConnection[] = [];
  const all = new Set<RespConnection>();
  let commands = 0;
  let syncToken = 0;
  let failNext = 0;
  let failStatus = 503;

  const borrow = async () => {
    for (let c = idle.pop(); c !== undefined; c = idle.pop()) if (c.healthy) return c;
    const c = await RespConnection.open(options.redis.host, options.redis.port);
    all.add(c);
    return c;
  };
  const giveBack = (c: RespConnection) => {
    if (c.healthy) idle.push(c);
    else all.delete(c);
  };

  const run = async (
    path: string,
    body: unknown,
    base64: boolean,
  ): Promise<{ status: number; json: unknown }> => {
    const conn = await borrow();
    try {
      if (path === "/") {
        const cmd = parseCommand(body);
        commands++;
        const entry = toEntry(await conn.send(cmd), base64);
        return { status: "error" in entry ? 400 : 200, json: entry };
      }
      if (!Array.isArray(body)) throw new HttpError(400, "ERR failed to parse pipeline request");
      const cmds = body.map(parseCommand);
      commands += cmds.length;
      if (path === "/pipeline") {
        const replies = await Promise.all(cmds.map((c) => conn.send(c)));
        return { status: 200, json: replies.map((r) => toEntry(r, base64)) };
      }
      // /multi-exec: atomic. A command Redis refuses to queue aborts the whole transaction.
      await conn.send(["MULTI"]);
      const queued = await Promise.all(cmds.map((c) => conn.send(c)));
      const refused = queued.find((q) => q.kind === "error");
      if (refused !== undefined && refused.kind === "error") {
        await conn.send(["DISCARD"]);
        return { status: 400, json: { error: refused.message } };
      }
      const exec = await conn.send(["EXEC"]);
      if (exec.kind === "error") return { status: 400, json: { error: exec.message } };
      if (exec.kind !== "array" || exec.value === null)
        return { status: 400, json: { error: "ERR transaction aborted" } };
      return { status: 200, json: exec.value.map((r) => toEntry(r, base64)) };
    } finally {
      giveBack(conn);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(json));
    };
    if (url.pathname.startsWith("/__emulator/")) {
      if (url.pathname === "/__emulator/stats") return send(200, { commands, connections: all.size });
      if (url.pathname === "/__emulator/faults" && req.method === "POST") {
        const b = (await readBody(req)) as { failNext?: number; status?: number };
        failNext = b.failNext ?? 0;
        failStatus = b.status ?? 503;
        return send(200, { failNext, status: failStatus });
      }
      return send(404, { error: "unknown emulator control path" });
    }
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, { error: "Unauthorized" });
    if (req.method !== "POST" || !["/", "/pipeline", "/multi-exec"].includes(url.pathname)) {
      return send(404, {
        error: "ERR unsupported path (this emulator speaks POST /, /pipeline, /multi-exec)",
      });
    }
    if (failNext > 0) {
      failNext--;
      return send(failStatus, { error: "emulated outage" });
    }
    const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
    const { status, json } = await run(url.pathname, await readBody(req), base64);
    syncToken++;
    send(status, json, { "upstash-sync-token": String(syncToken) });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (!res.headersSent) {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
      }
    });
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    token,
    commandCount: () => commands,
    close: async () => {
      for (const c of all) c.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
