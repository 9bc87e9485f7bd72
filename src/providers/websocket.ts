/** Outbound WebSocket seam: adapters depend on `OpenWebSocket`, workerd and Node each supply an implementation. */
import { ProviderError } from "../lib/errors";

/** The few WebSocket operations the adapters need, independent of runtime. */
export interface WebSocketLike {
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onMessage(cb: (data: string | Uint8Array) => void): void;
  /** Called once; code 1006 when the connection dropped without a close frame. */
  onClose(cb: (code: number, reason: string) => void): void;
  onError(cb: (error: unknown) => void): void;
}

/** Options for opening a socket. */
export interface OpenWebSocketOptions {
  /** Provider name used in thrown ProviderErrors. */
  provider: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Open a client WebSocket; a non-101 handshake rejects with a ProviderError carrying the HTTP status. */
export type OpenWebSocket = (
  url: string,
  headers: Record<string, string>,
  options: OpenWebSocketOptions,
) => Promise<WebSocketLike>;

/** Normalise a message payload from either runtime into string or bytes. */
export function toMessageData(data: unknown): string | Uint8Array {
  if (typeof data === "string") return data;
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (Array.isArray(data)) {
    const parts = data.filter((p): p is Uint8Array => p instanceof Uint8Array);
    const total = parts.reduce((n, p) => n + p.byteLength, 0);
    const out = new Uint8Array(total);
    let offset = 0;
    for (const p of parts) {
      out.set(p, offset);
      offset += p.byteLength;
    }
    return out;
  }
  return String(data);
}

/** Read a short error body for a failed handshake (never throws). */
async function readErrorBody(resp: Response): Promise<string> {
  try {
    return (await resp.text()).slice(0, 500);
  } catch {
    return "";
  }
}

/**
 * workerd implementation: `fetch(https://…, { headers: { Upgrade: "websocket" } })`, then `accept()`.
 * Build it inside the Durable Object (never at module scope).
 */
export const openWorkerdWebSocket: OpenWebSocket = async (url, headers, options) => {
  const httpUrl = url.replace(/^wss:/, "https:").replace(/^ws:/, "http:");
  // The connect timeout bounds the handshake only. It must not ride on the fetch's signal: workerd keeps
  // that signal on the accepted socket and would abort a live call's socket when the timer fires.
  const fetching = fetch(httpUrl, {
    headers: { ...headers, Upgrade: "websocket" },
    ...(options.signal ? { signal: options.signal } : {}),
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    if (options.timeoutMs === undefined) return;
    timer = setTimeout(
      () => reject(new Error(`websocket connect timed out after ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
  });
  let resp: Response;
  try {
    resp = await Promise.race([fetching, timedOut]);
  } catch (cause) {
    // A handshake that completes after the timeout is dropped, not leaked.
    fetching.then(
      (r) => {
        try {
          r.webSocket?.accept();
          r.webSocket?.close(1000, "connect timed out");
        } catch {
          // nothing to close
        }
      },
      () => undefined,
    );
    throw new ProviderError(options.provider, "websocket connect failed", undefined, { cause });
  } finally {
    clearTimeout(timer);
  }
  const ws = resp.webSocket;
  if (resp.status !== 101 || ws === null) {
    const body = await readErrorBody(resp);
    throw new ProviderError(options.provider, `websocket handshake rejected: ${body}`, resp.status, {
      requestId: resp.headers.get("x-request-id") ?? resp.headers.get("dg-request-id") ?? undefined,
    });
  }
  ws.accept();
  let closed = false;
  return {
    // After either side closed, a late send (KeepAlive timer, CloseStream) is dropped, not thrown:
    // workerd throws from send() after close() and nothing useful can be done with it.
    send: (data) => {
      if (closed) return;
      try {
        ws.send(data);
      } catch {
        closed = true;
      }
    },
    close: (code, reason) => {
      try {
        ws.close(code, reason);
      } catch {
        // already closed
      }
    },
    onMessage: (cb) => ws.addEventListener("message", (ev) => cb(toMessageData(ev.data))),
    onClose: (cb) =>
      ws.addEventListener("close", (ev) => {
        if (closed) return;
        closed = true;
        cb(ev.code, ev.reason);
      }),
    onError: (cb) => ws.addEventListener("error", (ev) => cb(ev.error)),
  };
};
