/**
 * Node-only: a real `redis-server` child process on an ephemeral port (no persistence) for tests and the dev
 * stack, plus a minimal RESP2 client the Upstash REST emulator uses to talk to it.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { type AddressInfo, createServer, type Socket, connect as tcpConnect } from "node:net";

/** A RESP2 reply. Bulk strings stay bytes so the caller decides between UTF-8 and base64. */
export type RespReply =
  | { kind: "simple"; value: string }
  | { kind: "error"; message: string }
  | { kind: "integer"; value: number }
  | { kind: "bulk"; value: Buffer | null }
  | { kind: "array"; value: RespReply[] | null };

type ParseResult = { reply: RespReply; next: number } | undefined;

/** Parse one reply starting at `offset`; undefined when more bytes are needed. */
export function parseResp(buf: Buffer, offset: number): ParseResult {
  const lineEnd = buf.indexOf("\r\n", offset);
  if (lineEnd < 0) return undefined;
  const prefix = String.fromCharCode(buf[offset] ?? 0);
  const line = buf.toString("utf8", offset + 1, lineEnd);
  const after = lineEnd + 2;
  switch (prefix) {
    case "+":
      return { reply: { kind: "simple", value: line }, next: after };
    case "-":
      return { reply: { kind: "error", message: line }, next: after };
    case ":":
      return { reply: { kind: "integer", value: Number(line) }, next: after };
    case "$": {
      const len = Number(line);
      if (len < 0) return { reply: { kind: "bulk", value: null }, next: after };
      if (buf.length < after + len + 2) return undefined;
      return {
        reply: { kind: "bulk", value: Buffer.from(buf.subarray(after, after + len)) },
        next: after + len + 2,
      };
    }
    case "*": {
      const n = Number(line);
      if (n < 0) return { reply: { kind: "array", value: null }, next: after };
      const items: RespReply[] = [];
      let pos = after;
      for (let i = 0; i < n; i++) {
        const r = parseResp(buf, pos);
        if (r === undefined) return undefined;
        items.push(r.reply);
        pos = r.next;
      }
      return { reply: { kind: "array", value: items }, next: pos };
    }
    default:
      throw new Error(`unexpected RESP prefix ${JSON.stringify(prefix)}`);
  }
}

/** Encode a command as a RESP array of bulk strings. */
export function encodeCommand(args: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === "string" ? Buffer.from(a, "utf8") : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

/** One RESP connection; replies are matched to commands in order (so commands may be pipelined). */
export class RespConnection {
  private buf: Buffer = Buffer.alloc(0);
  private readonly pending: Array<{ resolve: (r: RespReply) => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    const fail = (err: Error) => {
      this.failure = err;
      for (const p of this.pending.splice(0)) p.reject(err);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("redis connection closed")));
  }

  static open(host: string, port: number): Promise<RespConnection> {
    return new Promise((resolve, reject) => {
      const socket = tcpConnect({ host, port }, () => {
        socket.off("error", reject);
        resolve(new RespConnection(socket));
      });
      socket.once("error", reject);
    });
  }

  get healthy(): boolean {
    return this.failure === undefined && !this.socket.destroyed;
  }

  send(args: readonly (string | Buffer)[]): Promise<RespReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(encodeCommand(args));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let offset = 0;
    for (;;) {
      const r = parseResp(this.buf, offset);
      if (r === undefined) break;
      offset = r.next;
      this.pending.shift()?.resolve(r.reply);
    }
    this.buf = this.buf.subarray(offset);
  }
}

/** A running redis-server. */
export interface RedisServer {
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Thrown when `redis-server` is not installed: tests must fail loudly, never skip. */
export class RedisServerMissingError extends Error {
  constructor() {
    super(
      "redis-server is not installed or not on PATH. Install it (Debian/Ubuntu: `apt-get install -y redis-server`); .ci/run installs it for CI.",
    );
    this.name = "RedisServerMissingError";
  }
}

async function freePort(host: string): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, host, resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function waitForPing(
  host: string,
  port: number,
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    try {
      const c = await RespConnection.open(host, port);
      const r = await c.send(["PING"]);
      c.close();
      if (r.kind === "simple" && r.value === "PONG") return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`redis-server did not answer PING within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Start `redis-server` on an ephemeral port with persistence off; `close()` stops it. */
export async function startRedisServer(
  options: { host?: string; port?: number; bin?: string } = {},
): Promise<RedisServer> {
  const bin = options.bin ?? "redis-server";
  if (spawnSync(bin, ["--version"], { stdio: "ignore" }).error !== undefined)
    throw new RedisServerMissingError();
  const host = options.host ?? "127.0.0.1";
  // redis-server treats --port 0 as "no TCP", so pick a free port first.
  const port = options.port ?? (await freePort(host));
  const child = spawn(
    bin,
    ["--port", String(port), "--bind", host, "--save", "", "--appendonly", "no", "--protected-mode", "no"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  });
  child.stderr?.on("data", (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  });
  try {
    await waitForPing(host, port, child, 10_000);
  } catch (err) {
    child.kill("SIGKILL");
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${output}`);
  }
  return {
    host,
    port,
    url: `redis://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
