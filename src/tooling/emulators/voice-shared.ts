/** Node-only helpers shared by the voice-provider emulators: HTTP server plumbing, the `ws` client seam, speech synthesis. */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import WebSocket, { WebSocketServer } from "ws";
import { encodeMulawSample } from "../../audio/mulaw";
import { ProviderError } from "../../lib/errors";
import type { OpenWebSocket, WebSocketLike } from "../../providers/websocket";
import { toMessageData } from "../../providers/websocket";

/** Sleep helper (resolves immediately for 0). */
export function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

/** Read a request body as text. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

/** Parse a JSON body, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Send a JSON response. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", "x-request-id": randomUUID(), ...headers });
  res.end(JSON.stringify(body));
}

/** Reject a WebSocket upgrade with a plain HTTP response. */
export function rejectUpgrade(
  socket: Duplex,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  socket.end(
    `HTTP/1.1 ${status} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n${extra}Connection: close\r\n\r\n${text}`,
  );
}

/** Handlers an emulator plugs into the shared server. */
export interface EmulatorHandlers {
  http(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL, wss: WebSocketServer): void;
}

/** A running emulator server. */
export interface RunningServer {
  url: string;
  wsUrl: string;
  server: Server;
  wss: WebSocketServer;
  close(): Promise<void>;
}

/** Start a node:http server (127.0.0.1, ephemeral port by default) with optional WebSocket upgrades. */
export async function startServer(
  handlers: EmulatorHandlers,
  port = 0,
  host = "127.0.0.1",
): Promise<RunningServer> {
  const wss = new WebSocketServer({ noServer: true });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? host}`);
    handlers.http(req, res, url).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(error) } });
      else res.destroy();
    });
  });
  server.on("upgrade", (req, socket, head) => {
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? host}`);
    if (handlers.upgrade === undefined) {
      rejectUpgrade(socket, 404, { error: "not found" });
      return;
    }
    handlers.upgrade(req, socket, head, url, wss);
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const addr = server.address() as AddressInfo;
  const base = `${host}:${addr.port}`;
  return {
    url: `http://${base}`,
    wsUrl: `ws://${base}`,
    server,
    wss,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Node implementation of the adapters' WebSocket seam, using `ws`. */
export const openNodeWebSocket: OpenWebSocket = (url, headers, options) =>
  new Promise<WebSocketLike>((resolve, reject) => {
    const ws = new WebSocket(url, { headers, handshakeTimeout: options.timeoutMs ?? 5000 });
    let settled = false;
    const fail = (err: ProviderError) => {
      if (settled) return;
      settled = true;
      ws.terminate();
      reject(err);
    };
    options.signal?.addEventListener("abort", () =>
      fail(new ProviderError(options.provider, "websocket connect aborted", undefined, { retryable: false })),
    );
    ws.on("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        fail(
          new ProviderError(
            options.provider,
            `websocket handshake rejected: ${Buffer.concat(chunks).toString("utf8").slice(0, 500)}`,
            res.statusCode,
            {
              requestId:
                typeof res.headers["x-request-id"] === "string" ? res.headers["x-request-id"] : undefined,
            },
          ),
        ),
      );
    });
    ws.on("error", (cause) => {
      if (!settled)
        fail(new ProviderError(options.provider, "websocket connect failed", undefined, { cause }));
    });
    ws.on("open", () => {
      settled = true;
      let closed = false;
      resolve({
        send: (data) => ws.send(data),
        close: (code, reason) => ws.close(code, reason),
        onMessage: (cb) =>
          ws.on("message", (data, isBinary) =>
            cb(isBinary ? toMessageData(new Uint8Array(data as Buffer)) : data.toString()),
          ),
        onClose: (cb) =>
          ws.on("close", (code, reason) => {
            if (closed) return;
            closed = true;
            cb(code, reason.toString());
          }),
        onError: (cb) => ws.on("error", cb),
      });
    });
  });

/** Milliseconds of synthetic speech per character of text. */
export const MS_PER_CHAR = 65;

/**
 * Deterministic speech-like µ-law signal for `text`: voiced harmonics with a syllable envelope per
 * letter run and low-level gaps at spaces and punctuation, ~65 ms per character.
 */
export function synthesizeSpeech(text: string): Uint8Array {
  const samplesPerChar = (MS_PER_CHAR * 8000) / 1000;
  const out = new Uint8Array(text.length * samplesPerChar);
  let n = 0;
  for (let c = 0; c < text.length; c++) {
    const ch = text[c] ?? " ";
    const voiced = /[\p{L}\p{N}]/u.test(ch);
    const f0 = 120 + (ch.charCodeAt(0) % 7) * 12;
    for (let i = 0; i < samplesPerChar; i++, n++) {
      if (!voiced) {
        out[n] = encodeMulawSample(((n * 7919) % 61) - 30);
        continue;
      }
      const t = n / 8000;
      const env = Math.sin((Math.PI * i) / samplesPerChar) * 0.6 + 0.4;
      const s =
        Math.sin(2 * Math.PI * f0 * t) * 0.6 +
        Math.sin(4 * Math.PI * f0 * t) * 0.3 +
        Math.sin(6 * Math.PI * f0 * t) * 0.15;
      out[n] = encodeMulawSample(s * env * 9000);
    }
  }
  return out;
}

/** µ-law line silence (tiny noise so adaptive detectors have a floor). */
export function silence(ms: number): Uint8Array {
  const out = new Uint8Array(ms * 8);
  for (let i = 0; i < out.length; i++) out[i] = encodeMulawSample(((i * 7919) % 41) - 20);
  return out;
}
