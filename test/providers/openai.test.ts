import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ProviderError } from "../../src/lib/errors";
import { DECISION_SYSTEM_PROMPT } from "../../src/providers/decision-tool";
import { createOpenAiLlm } from "../../src/providers/openai";
import type { DecisionRequest } from "../../src/providers/ports";
import { type OpenAiEmulator, startOpenAiEmulator } from "../../src/tooling/emulators/openai";

let emu: OpenAiEmulator;
beforeEach(async () => {
  emu = await startOpenAiEmulator({ apiKey: "sk-test" });
});
afterEach(async () => {
  await emu.close();
});

function llm(overrides: { apiKey?: string; timeoutMs?: number; maxRetries?: number } = {}) {
  return createOpenAiLlm({
    apiKey: overrides.apiKey ?? "sk-test",
    baseURL: emu.baseURL,
    timeoutMs: overrides.timeoutMs ?? 2000,
    maxRetries: overrides.maxRetries ?? 0,
  });
}

function request(userText: string, wantsReply = false): DecisionRequest {
  return {
    system: "You are calling on behalf of Acme Dental.",
    history: [
      { role: "assistant", text: "Would Tuesday at 10:30 suit you?" },
      { role: "user", text: userText },
    ],
    state: {
      id: "offer_slot",
      prompt: "Offer the slot and capture the chosen time and email.",
      branches: ["slot_selected", "no", "unclear"],
      captures: ["time", "email"],
      wantsReply,
    },
  };
}

describe("OpenAI adapter against the emulator", () => {
  it("classifies an affirmative turn and extracts captures through the narrow tool", async () => {
    const d = await llm().decide(request("Yes, Tuesday 10:30 is fine, my email is jo@example.com"));
    expect(d).toMatchObject({
      branch: "slot_selected",
      captures: { time: "tuesday 10:30", email: "jo@example.com" },
      model: "gpt-4o-mini",
    });
    expect(d.reply).toBeUndefined();
    expect(d.firstTokenMs).toBeGreaterThanOrEqual(0);
    const sent = emu.requests()[0];
    expect(sent?.authorization).toBe("Bearer sk-test");
    expect(sent?.body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
      max_completion_tokens: 80,
      tool_choice: { type: "function", function: { name: "decide" } },
      messages: [
        { role: "system", content: DECISION_SYSTEM_PROMPT },
        { role: "system" },
        { role: "assistant" },
        { role: "user" },
        { role: "system" },
      ],
    });
  });

  it("classifies a negative turn", async () => {
    const d = await llm().decide(request("No, that doesn't work for me"));
    expect(d.branch).toBe("no");
    expect(d.captures).toEqual({});
  });

  it("streams the reply text in deltas before the decision completes", async () => {
    emu.setLatency({ chunkIntervalMs: 2 });
    const stream = llm().decideStream(request("hmm what was that", true));
    const parts: string[] = [];
    for await (const p of stream.replyDeltas) parts.push(p);
    const d = await stream.result;
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.join("")).toBe(d.reply);
    expect(d.branch).toBe("unclear");
  });

  it("maps 429 rate_limit_exceeded to a retryable ProviderError and insufficient_quota to a final one", async () => {
    emu.setFaults({ status: 429, retryAfterMs: 1200 });
    await expect(llm().decide(request("yes"))).rejects.toMatchObject({
      provider: "openai",
      status: 429,
      retryable: true,
      code: "rate_limit_exceeded",
      retryAfterMs: 1200,
    });
    emu.setFaults({ status: 429, code: "insufficient_quota" });
    await expect(llm().decide(request("yes"))).rejects.toMatchObject({ status: 429, retryable: false });
  });

  it("leaves retries to the policy by default: one request per attempt", async () => {
    emu.setFaults({ status: 500, failures: 1 });
    const adapter = createOpenAiLlm({ apiKey: "sk-test", baseURL: emu.baseURL });
    await expect(adapter.decide(request("yes please"))).rejects.toMatchObject({ status: 500 });
    expect(emu.requests()).toHaveLength(1);
  });

  it("retries a 500 once when maxRetries allows and then succeeds", async () => {
    emu.setFaults({ status: 500, failures: 1 });
    const d = await llm({ maxRetries: 1 }).decide(request("yes please"));
    expect(d.branch).toBe("slot_selected");
    expect(emu.requests()).toHaveLength(2);
  });

  it("times out a stalled request with a retryable error", async () => {
    emu.setFaults({ stallMs: 1000 });
    const err = await llm({ timeoutMs: 150 })
      .decide(request("yes"))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ message: "request timed out", retryable: true, code: "timeout" });
  });

  it("fails both the reply stream and the result when the stream drops mid-way", async () => {
    emu.setFaults({ disconnectAfterChunks: 4 });
    const stream = llm().decideStream(request("yes", true));
    await expect(stream.result).rejects.toMatchObject({ retryable: true });
    await expect(
      (async () => {
        for await (const _ of stream.replyDeltas) {
          // drain
        }
      })(),
    ).rejects.toBeInstanceOf(ProviderError);
  });

  it("aborts on barge-in with a non-retryable error", async () => {
    emu.setLatency({ ttftMs: 500 });
    const ac = new AbortController();
    const pending = llm().decide({ ...request("yes"), signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(pending).rejects.toMatchObject({ message: "request aborted", retryable: false });
  });

  it("rejects a bad key with 401", async () => {
    await expect(llm({ apiKey: "sk-wrong" }).decide(request("yes"))).rejects.toMatchObject({
      status: 401,
      retryable: false,
    });
  });
});
