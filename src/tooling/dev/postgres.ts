/**
 * Node-only: embedded Postgres for `npm run dev` and tests. PGlite served by pglite-socket on a TCP port,
 * fronted by a WebSocket-to-TCP proxy speaking what Neon's wsproxy speaks (`/v2?address=host:port`, each
 * binary WebSocket message = raw Postgres protocol bytes), so the Neon driver reaches it exactly as
 * production reaches Neon.
 *
 * Concurrency: PGlite is one backend. pglite-socket's multiplexer interleaves clients per protocol message,
 * which corrupts the unnamed prepared statement when two clients run extended-protocol queries at once.
 * The proxy therefore lends the backend to one client at a time, from that client's first message until
 * every sync point it sent has been answered by ReadyForQuery with status idle (like a transaction-mode
 * pooler): transactions stay whole and queries never interleave.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { type Socket, connect as tcpConnect } from "node:net";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { type RawData, type WebSocket, WebSocketServer } from "ws";

/** Options for `startEmbeddedPostgres`. */
export interface EmbeddedPostgresOptions {
  /** Directory for a persistent database; omitted = in memory. */
  dataDir?: string;
  /** TCP port for the Postgres socket server (0 or omitted = ephemeral). */
  port?: number;
  /** Port for the WebSocket proxy (0 or omitted = ephemeral). */
  wsPort?: number;
  host?: string;
}

/** A running embedded Postgres. */
export interface EmbeddedPostgres {
  /** `postgres://postgres:postgres@127.0.0.1:<port>/postgres` (the proxy's `address`). */
  databaseUrl: string;
  /** `ws://127.0.0.1:<wsPort>/v2`; give it to `neonConfigForLocal`. */
  wsProxyUrl: string;
  /** Stop accepting connections; existing WebSocket clients are closed (the database keeps its data). */
  pauseProxy(): Promise<void>;
  /** Accept connections again on the same port after `pauseProxy`. */
  resumeProxy(): Promise<void>;
  close(): Promise<void>;
}

const SSL_REQUEST_CODE = 80877103;
const GSSENC_REQUEST_CODE = 80877104;
const CANCEL_REQUEST_CODE = 80877102;
const DRAIN_TIMEOUT_MS = 10_000;

function frontendMessage(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, "latin1");
  header.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([header, body]);
}
const SYNC_MESSAGE = frontendMessage("S", Buffer.alloc(0));
const ROLLBACK_MESSAGE = frontendMessage("Q", Buffer.from("ROLLBACK\0", "latin1"));
const TERMINATE_MESSAGE = frontendMessage("X", Buffer.alloc(0));

/** FIFO lock over the single PGlite backend. */
class BackendLock {
  private holder: ProxySession | undefined;
  private readonly waiters: ProxySession[] = [];

  acquire(s: ProxySession): void {
    if (this.holder === s || this.waiters.includes(s)) return;
    if (this.holder === undefined) {
      this.holder = s;
      s.granted();
    } else {
      this.waiters.push(s);
    }
  }

  release(s: ProxySession): void {
    const i = this.waiters.indexOf(s);
    if (i >= 0) this.waiters.splice(i, 1);
    if (this.holder !== s) return;
    this.holder = this.waiters.shift();
    this.holder?.granted();
  }
}

/** One WebSocket client bridged to its own TCP connection to pglite-socket. */
class ProxySession {
  private clientBuf: Buffer = Buffer.alloc(0);
  private serverBuf: Buffer = Buffer.alloc(0);
  private queued: Buffer[] = [];
  private startupSeen = false;
  private pendingSyncs = 0;
  private holding = false;
  private closed = false;
  private draining = false;
  private drainTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly tcp: Socket,
    private readonly lock: BackendLock,
  ) {
    ws.on("message", (data: RawData, isBinary: boolean) => {
      if (isBinary) this.fromClient(toBuffer(data));
      else this.close();
    });
    ws.on("close", () => this.close());
    ws.on("error", () => this.close());
    tcp.on("data", (chunk: Buffer) => this.fromServer(chunk));
    tcp.on("close", () => this.onTcpGone());
    tcp.on("error", () => this.onTcpGone());
  }

  private onTcpGone(): void {
    this.tcp.destroy();
    if (this.draining) this.finish();
    else this.close();
  }

  /** The lock was handed to this session: send what waited for it. */
  granted(): void {
    if (this.closed) {
      this.lock.release(this);
      return;
    }
    this.holding = true;
    for (const b of this.queued) this.tcp.write(b);
    this.queued = [];
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.terminate();
    this.queued = [];
    if (!this.holding || this.tcp.destroyed) {
      this.holding = false;
      this.tcp.destroy();
      this.lock.release(this);
      return;
    }
    // The client left while it had the backend: finish its work and roll back before anyone else gets it.
    // (Leaving this to pglite-socket races: a BEGIN still in flight when the socket drops leaves an orphaned
    // transaction that stalls every other connection.)
    this.draining = true;
    this.pendingSyncs += 2;
    this.tcp.write(SYNC_MESSAGE);
    this.tcp.write(ROLLBACK_MESSAGE);
    this.drainTimer = setTimeout(() => this.finish(), DRAIN_TIMEOUT_MS);
  }

  private finish(): void {
    if (!this.draining) return;
    if (this.drainTimer !== undefined) clearTimeout(this.drainTimer);
    this.draining = false;
    if (!this.tcp.destroyed) this.tcp.end(TERMINATE_MESSAGE);
    this.holding = false;
    this.lock.release(this);
  }

  private fromClient(chunk: Buffer): void {
    this.clientBuf = Buffer.concat([this.clientBuf, chunk]);
    for (;;) {
      const msg = this.nextClientMessage();
      if (msg === undefined) return;
      if (msg.kind === "ssl") {
        // Neon's driver disables Postgres-level TLS over WebSockets; refuse like a plain server does.
        this.ws.send(Buffer.from("N"));
        continue;
      }
      if (msg.kind === "terminate" || msg.kind === "cancel") {
        this.close();
        return;
      }
      if (msg.kind === "startup" || msg.kind === "sync") this.pendingSyncs++;
      this.send(msg.bytes);
    }
  }

  private nextClientMessage():
    | { kind: "ssl" | "cancel" | "terminate" | "startup" | "sync" | "other"; bytes: Buffer }
    | undefined {
    const buf = this.clientBuf;
    if (!this.startupSeen) {
      if (buf.length < 8) return undefined;
      const len = buf.readInt32BE(0);
      if (buf.length < len) return undefined;
      const code = buf.readInt32BE(4);
      const bytes = buf.subarray(0, len);
      this.clientBuf = buf.subarray(len);
      if (code === SSL_REQUEST_CODE || code === GSSENC_REQUEST_CODE) return { kind: "ssl", bytes };
      if (code === CANCEL_REQUEST_CODE) return { kind: "cancel", bytes };
      this.startupSeen = true;
      return { kind: "startup", bytes };
    }
    if (buf.length < 5) return undefined;
    const len = 1 + buf.readInt32BE(1);
    if (buf.length < len) return undefined;
    const type = String.fromCharCode(buf[0] ?? 0);
    const bytes = buf.subarray(0, len);
    this.clientBuf = buf.subarray(len);
    // Every Query, Sync and FunctionCall is answered by exactly one ReadyForQuery.
    if (type === "X") return { kind: "terminate", bytes };
    if (type === "Q" || type === "S" || type === "F") return { kind: "sync", bytes };
    return { kind: "other", bytes };
  }

  private send(bytes: Buffer): void {
    if (this.holding) {
      this.tcp.write(bytes);
      return;
    }
    this.queued.push(Buffer.from(bytes));
    this.lock.acquire(this);
  }

  private fromServer(chunk: Buffer): void {
    if (!this.closed && this.ws.readyState === this.ws.OPEN) this.ws.send(chunk);
    this.serverBuf = Buffer.concat([this.serverBuf, chunk]);
    while (this.serverBuf.length >= 5) {
      const len = 1 + this.serverBuf.readInt32BE(1);
      if (this.serverBuf.length < len) break;
      const type = String.fromCharCode(this.serverBuf[0] ?? 0);
      if (type === "Z") {
        this.pendingSyncs = Math.max(0, this.pendingSyncs - 1);
        const status = String.fromCharCode(this.serverBuf[5] ?? 0);
        if (this.draining && this.pendingSyncs === 0) {
          this.finish();
          return;
        }
        // Idle with nothing outstanding: the backend can serve someone else.
        if (status === "I" && this.pendingSyncs === 0 && this.holding && !this.closed) {
          this.holding = false;
          this.lock.release(this);
        }
      }
      this.serverBuf = this.serverBuf.subarray(len);
    }
  }
}

function toBuffer(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return data;
}

function isAllowedAddress(req: IncomingMessage, pgPort: number): boolean {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.pathname !== "/v2") return false;
  const address = url.searchParams.get("address");
  if (address === null) return false;
  const sep = address.lastIndexOf(":");
  const host = address.slice(0, sep);
  const port = Number(address.slice(sep + 1));
  return port === pgPort && ["127.0.0.1", "localhost", "::1", "[::1]"].includes(host);
}

/** Start PGlite, its socket server and the WebSocket proxy. */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgres> {
  const host = options.host ?? "127.0.0.1";
  const db = await PGlite.create(options.dataDir ?? "memory://");
  // Many TCP connections are fine: the proxy's lock makes sure only one is ever talking.
  const pgServer = new PGLiteSocketServer({ db, host, port: options.port ?? 0, maxConnections: 1000 });
  await pgServer.start();
  const pgPort = Number(pgServer.getServerConn().split(":").pop());

  const lock = new BackendLock();
  const sessions = new Set<ProxySession>();
  const http = createServer((_req, res) => {
    res.writeHead(426, { "content-type": "text/plain" }).end("WebSocket upgrade required\n");
  });
  const wss = new WebSocketServer({ noServer: true });
  let accepting = true;
  http.on("upgrade", (req, socket, head) => {
    if (!accepting || !isAllowedAddress(req, pgPort)) {
      socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const tcp = tcpConnect({ host, port: pgPort });
      tcp.setNoDelay(true);
      const session = new ProxySession(ws, tcp, lock);
      sessions.add(session);
      ws.on("close", () => sessions.delete(session));
    });
  });
  await new Promise<void>((resolve) => http.listen(options.wsPort ?? 0, host, resolve));
  const wsPort = (http.address() as AddressInfo).port;

  const dropClients = () => {
    for (const s of sessions) s.close();
    sessions.clear();
  };
  return {
    databaseUrl: `postgres://postgres:postgres@${host}:${pgPort}/postgres`,
    wsProxyUrl: `ws://${host}:${wsPort}/v2`,
    pauseProxy: async () => {
      accepting = false;
      dropClients();
    },
    resumeProxy: async () => {
      accepting = true;
    },
    close: async () => {
      accepting = false;
      dropClients();
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await pgServer.stop();
      await db.close();
    },
  };
}
