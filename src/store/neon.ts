/**
 * Neon driver wiring: builds per-request sessions over `@neondatabase/serverless` (Postgres protocol over a
 * WebSocket) and points the driver at a local WebSocket-to-TCP proxy when the database is local.
 * Usable from Workers and Node.
 */
import { Client, neonConfig } from "@neondatabase/serverless";
import type { SqlConnect, SqlSession } from "./sql-client";

/** The `neonConfig` fields this module sets (a global `neonConfig` or a per-client `client.neonConfig`). */
export interface NeonLocalConfigTarget {
  wsProxy: string | ((host: string, port: number | string) => string);
  useSecureWebSocket: boolean;
  pipelineTLS: boolean;
  pipelineConnect: "password" | false;
}

/** Strip the scheme: the driver adds `ws://`/`wss://` itself. Accepts `ws://h:p/v2` or `h:p/v2`. */
function proxyBase(wsProxyUrl: string): string {
  return wsProxyUrl.replace(/^wss?:\/\//, "").replace(/\/+$/, "");
}

/**
 * Configure the driver for a local plain-Postgres path: no TLS, no pipelined password auth, and a
 * `wsProxy` of the form `host:port/v2?address=<db host>:<db port>` (what Neon's wsproxy understands).
 * Mutates `target` (the global `neonConfig` by default) and returns it.
 */
export function neonConfigForLocal<T extends NeonLocalConfigTarget>(
  wsProxyUrl: string,
  target: T = neonConfig as unknown as T,
): T {
  const base = proxyBase(wsProxyUrl);
  const withPath = /\/[^/]/.test(base) ? base : `${base}/v2`;
  target.wsProxy = (host, port) => `${withPath}?address=${host}:${port}`;
  target.useSecureWebSocket = false;
  target.pipelineTLS = false;
  target.pipelineConnect = false;
  return target;
}

/** True when the connection string points at this machine (so the local proxy settings apply). */
export function isLocalDatabaseUrl(databaseUrl: string): boolean {
  const host = new URL(databaseUrl).hostname;
  return host === "localhost" || host === "127.0.0.1" || host === "[::1]" || host === "::1";
}

/** Options for `neonConnect`. */
export interface NeonConnectOptions {
  databaseUrl: string;
  /** Local WebSocket proxy (e.g. `ws://127.0.0.1:5480/v2`); required when the URL host is local. */
  wsProxyUrl?: string | undefined;
  /** Per connect and per query (default 30 s): a hung socket must not hang the alarm that flushes. */
  queryTimeoutMs?: number;
}

const DEFAULT_QUERY_TIMEOUT_MS = 30_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`postgres ${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A `SqlConnect` that opens one Neon `Client` per call and ends it on release. Create it inside the
 * request (or alarm) that uses it: Workers forbid sharing sockets across requests.
 */
export function neonConnect(options: NeonConnectOptions): SqlConnect {
  return async () => {
    const client = new Client({ connectionString: options.databaseUrl });
    if (isLocalDatabaseUrl(options.databaseUrl)) {
      if (options.wsProxyUrl === undefined) {
        throw new Error("a local DATABASE_URL needs a WebSocket proxy URL (NEON_WS_PROXY)");
      }
      neonConfigForLocal(options.wsProxyUrl, client.neonConfig as unknown as NeonLocalConfigTarget);
    }
    // A dropped socket surfaces as a rejected query; without a listener Node would crash the process.
    let gone = false;
    client.on("error", () => {
      gone = true;
    });
    client.on("end", () => {
      gone = true;
    });
    const timeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
    await withTimeout(client.connect(), timeoutMs, "connect");
    const session: SqlSession = {
      query: async <Row>(text: string, params?: unknown[]) => {
        const r = await withTimeout(client.query(text, params), timeoutMs, "query");
        return { rows: r.rows as Row[], rowCount: r.rowCount };
      },
    };
    // `end()` on a connection that already dropped can wait forever; never let release hang a flush.
    const release = async () => {
      if (gone) return;
      await withTimeout(client.end(), 2_000, "end").catch(() => undefined);
    };
    return { session, release };
  };
}
