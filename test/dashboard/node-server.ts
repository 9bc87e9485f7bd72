/** Serves a fetch handler over node:http on 127.0.0.1 (ephemeral port), and an in-memory R2 bucket with ranges. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** Start serving `fetch`; resolves with the origin and a close function. */
export async function serveFetch(
  fetch: (req: Request) => Promise<Response> | Response,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
      const method = req.method ?? "GET";
      const body = method === "GET" || method === "HEAD" ? undefined : Buffer.concat(chunks);
      Promise.resolve(
        fetch(new Request(`http://${req.headers.host}${req.url ?? "/"}`, { method, headers, body })),
      )
        .then(async (r) => {
          const out: Record<string, string[]> = {};
          r.headers.forEach((v, k) => {
            out[k] = [...(out[k] ?? []), v];
          });
          const setCookie = r.headers.getSetCookie();
          if (setCookie.length > 0) out["set-cookie"] = setCookie;
          res.writeHead(r.status, out);
          res.end(Buffer.from(await r.arrayBuffer()));
        })
        .catch((err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Stored {
  bytes: Uint8Array;
  contentType: string;
}

/** The slice of R2Bucket the dashboard uses (head, get with an offset/length range, put), kept in memory. */
export class MemoryR2 {
  private readonly objects = new Map<string, Stored>();

  async put(key: string, bytes: Uint8Array, contentType = "audio/wav"): Promise<void> {
    this.objects.set(key, { bytes, contentType });
  }

  async head(key: string) {
    const o = this.objects.get(key);
    return o ? { key, size: o.bytes.length, httpMetadata: { contentType: o.contentType } } : null;
  }

  async get(key: string, options: { range?: { offset: number; length: number } } = {}) {
    const o = this.objects.get(key);
    if (!o) return null;
    const { offset = 0, length = o.bytes.length - offset } = options.range ?? {};
    const slice = o.bytes.slice(offset, offset + length);
    return {
      key,
      size: o.bytes.length,
      body: new Blob([slice]).stream(),
      httpMetadata: { contentType: o.contentType },
    };
  }
}
