import { describe, expect, it } from "vitest";
import {
  buildDecisionTool,
  createDeepgramStt,
  createElevenLabsTts,
  createOpenAiLlm,
  openWorkerdWebSocket,
} from "../../src/providers";

describe("providers in workerd", () => {
  it("load without Node-only APIs and build adapters from config", () => {
    const stt = createDeepgramStt({ apiKey: "k", openWebSocket: openWorkerdWebSocket });
    const tts = createElevenLabsTts({ apiKey: "k", voiceId: "v", openWebSocket: openWorkerdWebSocket });
    const llm = createOpenAiLlm({ apiKey: "k", baseURL: "http://127.0.0.1:9/v1" });
    expect([stt.provider, tts.provider, llm.provider]).toEqual(["deepgram", "elevenlabs", "openai"]);
    expect(
      buildDecisionTool({ id: "s", prompt: "p", branches: ["yes"], captures: [], wantsReply: false }).function
        .name,
    ).toBe("decide");
  });

  it("reports an unreachable WebSocket endpoint as a retryable ProviderError", async () => {
    const err = await openWorkerdWebSocket("ws://127.0.0.1:9/v1/listen", {}, { provider: "deepgram" }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: "ProviderError", provider: "deepgram", retryable: true });
  });
});
