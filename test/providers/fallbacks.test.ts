import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createAzureTts } from "../../src/providers/azure-tts";
import { createGoogleStt } from "../../src/providers/google-stt";
import type { SttEvent } from "../../src/providers/ports";
import { silence, synthesizeSpeech } from "../../src/tooling/emulators/voice-shared";

interface Seen {
  headers: IncomingMessage["headers"];
  body: string;
}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** A tiny fake of one REST endpoint; `reply` decides the response per request. */
async function fake(
  reply: (seen: Seen, res: ServerResponse) => void,
): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const s = { headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      seen.push(s);
      reply(s, res);
    });
  });
  await new Promise<void>((r) => server?.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

async function drain(audio: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const c of audio) n += c.byteLength;
  return n;
}

describe("Azure TTS fallback", () => {
  it("posts escaped SSML asking for raw µ-law 8 kHz and streams the bytes", async () => {
    const { url, seen } = await fake((_s, res) => {
      res.writeHead(200, { "content-type": "audio/basic" });
      res.end(Buffer.alloc(1600, 0xff));
    });
    const tts = createAzureTts({ apiKey: "az", baseUrl: url });
    expect(await drain(tts.synthesize("Fish & chips <now>"))).toBe(1600);
    expect(seen[0]?.headers["x-microsoft-outputformat"]).toBe("raw-8khz-8bit-mono-mulaw");
    expect(seen[0]?.headers["ocp-apim-subscription-key"]).toBe("az");
    expect(seen[0]?.body).toContain("Fish &amp; chips &lt;now&gt;");
  });

  it("serves the session/context port with one request per flush", async () => {
    const { url, seen } = await fake((_s, res) => {
      res.writeHead(200);
      res.end(Buffer.alloc(800, 0xff));
    });
    const session = await createAzureTts({ apiKey: "az", baseUrl: url }).openSession();
    const ctx = session.speak("c1");
    ctx.sendText("Hello ");
    ctx.flush();
    ctx.sendText("there.");
    ctx.close();
    expect(await drain(ctx.audio)).toBe(1600);
    expect(seen).toHaveLength(2);
  });

  it("maps a 429 to a retryable ProviderError", async () => {
    const { url } = await fake((_s, res) => {
      res.writeHead(429);
      res.end();
    });
    await expect(
      drain(createAzureTts({ apiKey: "az", baseUrl: url }).synthesize("hi")),
    ).rejects.toMatchObject({ provider: "azure-tts", status: 429, retryable: true });
  });
});

describe("Google STT fallback", () => {
  it("endpoints locally and recognises the buffered utterance as MULAW 8000", async () => {
    const { url, seen } = await fake((_s, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ results: [{ alternatives: [{ transcript: "yes please", confidence: 0.91 }] }] }),
      );
    });
    const stt = createGoogleStt({ apiKey: "g", baseUrl: url });
    const stream = await stt.connect({
      language: "en-GB",
      endpointing: { silenceMs: 300, utteranceEndMs: 1000 },
    });
    const events: SttEvent[] = [];
    stream.onEvent((e) => events.push(e));
    for (const part of [silence(200), synthesizeSpeech("yes please"), silence(400)]) {
      for (let i = 0; i < part.length; i += 160) stream.sendAudio(part.subarray(i, i + 160));
    }
    await stream.close();
    expect(events.map((e) => e.type)).toEqual(["speech_started", "final", "utterance_end", "closed"]);
    expect(events[1]).toMatchObject({ text: "yes please", speechFinal: true, confidence: 0.91 });
    const body = JSON.parse(seen[0]?.body ?? "{}") as {
      config: Record<string, unknown>;
      audio: { content: string };
    };
    expect(body.config).toMatchObject({ encoding: "MULAW", sampleRateHertz: 8000, languageCode: "en-GB" });
    expect(Buffer.from(body.audio.content, "base64").length).toBeGreaterThan("yes please".length * 65 * 8);
    expect(seen[0]?.headers["x-goog-api-key"]).toBe("g");
  });

  it("emits a typed error event when recognition fails", async () => {
    const { url } = await fake((_s, res) => {
      res.writeHead(503);
      res.end(JSON.stringify({ error: { code: 503, status: "UNAVAILABLE" } }));
    });
    const stream = await createGoogleStt({ apiKey: "g", baseUrl: url }).connect({
      language: "en-GB",
      endpointing: { silenceMs: 300, utteranceEndMs: 1000 },
    });
    const events: SttEvent[] = [];
    stream.onEvent((e) => events.push(e));
    stream.sendAudio(synthesizeSpeech("hello"));
    stream.finalize();
    await stream.close();
    const err = events.find((e) => e.type === "error");
    expect(err?.type === "error" && err.error.status).toBe(503);
    expect(err?.type === "error" && err.error.retryable).toBe(true);
  });
});
