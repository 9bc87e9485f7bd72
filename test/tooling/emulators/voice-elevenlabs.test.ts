import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type ElevenLabsEmulator, startElevenLabsEmulator } from "../../../src/tooling/emulators/elevenlabs";

let emu: ElevenLabsEmulator;
beforeEach(async () => {
  emu = await startElevenLabsEmulator({ apiKey: "good" });
});
afterEach(async () => {
  await emu.close();
});

function open(headers: Record<string, string> = {}) {
  const url = `${emu.url.replace("http", "ws")}/v1/text-to-speech/v1/multi-stream-input?model_id=eleven_flash_v2_5&output_format=ulaw_8000`;
  const ws = new WebSocket(url, { headers });
  ws.on("error", () => undefined);
  const messages: Record<string, unknown>[] = [];
  ws.on("message", (d) => messages.push(JSON.parse(d.toString()) as Record<string, unknown>));
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
  return { ws, messages, closed, opened: new Promise((r) => ws.on("open", r)) };
}

const settle = () => new Promise((r) => setTimeout(r, 50));

describe("ElevenLabs emulator wire protocol", () => {
  it("holds audio until the chunk schedule is reached or flushed, then sends aligned chunks and is_final", async () => {
    const c = open();
    await c.opened;
    c.ws.send(JSON.stringify({ text: " ", context_id: "a", xi_api_key: "good" }));
    c.ws.send(JSON.stringify({ text: "Short text. ", context_id: "a" }));
    await settle();
    expect(c.messages).toHaveLength(0);
    c.ws.send(JSON.stringify({ context_id: "a", flush: true }));
    c.ws.send(JSON.stringify({ context_id: "a", close_context: true }));
    await settle();
    const audio = c.messages.filter((m) => typeof m.audio === "string");
    expect(audio.length).toBe(Math.ceil("Short text. ".length / 4));
    expect(audio[0]).toMatchObject({
      contextId: "a",
      alignment: { chars: ["S", "h", "o", "r"], charStartTimesMs: [0, 65, 130, 195] },
    });
    expect(c.messages.at(-1)).toEqual({ is_final: true, contextId: "a" });
    c.ws.close();
  });

  it("rejects a socket whose first message carries a wrong key with an error then 1008", async () => {
    const c = open();
    await c.opened;
    c.ws.send(JSON.stringify({ text: " ", context_id: "a", xi_api_key: "bad" }));
    expect(await c.closed).toBe(1008);
    expect(c.messages[0]).toMatchObject({ error: "invalid_api_key" });
  });

  it("rejects a wrong header key at the handshake with a detail body", async () => {
    const c = open({ "xi-api-key": "bad" });
    const status = await new Promise((r) => c.ws.on("unexpected-response", (_q, res) => r(res.statusCode)));
    expect(status).toBe(401);
    c.ws.terminate();
  });

  it("validates the HTTP streaming body", async () => {
    const resp = await fetch(`${emu.url}/v1/text-to-speech/v1/stream?output_format=ulaw_8000`, {
      method: "POST",
      headers: { "xi-api-key": "good", "content-type": "application/json" },
      body: JSON.stringify({ model_id: "eleven_flash_v2_5" }),
    });
    expect(resp.status).toBe(422);
  });
});
