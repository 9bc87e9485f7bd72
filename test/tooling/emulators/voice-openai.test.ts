import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildDecisionTool } from "../../../src/providers/decision-tool";
import {
  classifyIntent,
  extractCaptures,
  type OpenAiEmulator,
  startOpenAiEmulator,
} from "../../../src/tooling/emulators/openai";

let emu: OpenAiEmulator;
beforeEach(async () => {
  emu = await startOpenAiEmulator();
});
afterEach(async () => {
  await emu.close();
});

const tool = buildDecisionTool({
  id: "s",
  prompt: "p",
  branches: ["yes", "no", "unclear"],
  captures: [],
  wantsReply: false,
});

function post(body: unknown, key = "sk-any") {
  return fetch(`${emu.baseURL}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("OpenAI emulator wire protocol", () => {
  it("frames a streamed tool call as data-only SSE with a usage chunk before [DONE]", async () => {
    const resp = await post({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "yeah go on" }],
      tools: [tool],
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(resp.headers.get("content-type")).toBe("text/event-stream");
    const text = await resp.text();
    const events = text.split("\n\n").filter((e) => e.length > 0);
    expect(events.every((e) => e.startsWith("data: "))).toBe(true);
    expect(events.at(-1)).toBe("data: [DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)) as Record<string, unknown>);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: expect.any(Number) } });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    type Choice = {
      delta: { tool_calls?: { id?: string; function: { name?: string; arguments: string } }[] };
      finish_reason: string | null;
    };
    const choices = chunks.flatMap((c) => c.choices as Choice[]);
    const calls = choices.flatMap((c) => c.delta.tool_calls ?? []);
    expect(calls[0]).toMatchObject({
      id: expect.stringMatching(/^call_/),
      function: { name: "decide", arguments: "" },
    });
    expect(calls.slice(1).every((c) => c.id === undefined)).toBe(true);
    expect(JSON.parse(calls.map((c) => c.function.arguments).join(""))).toEqual({ branch: "yes" });
    expect(choices.at(-1)?.finish_reason).toBe("tool_calls");
  });

  it("answers non-streamed requests with a chat.completion object", async () => {
    const resp = await post({
      model: "m",
      messages: [{ role: "user", content: "no thanks" }],
      tools: [tool],
    });
    const body = (await resp.json()) as {
      object: string;
      choices: { message: { tool_calls: { function: { arguments: string } }[] } }[];
    };
    expect(body.object).toBe("chat.completion");
    expect(JSON.parse(body.choices[0]?.message.tool_calls[0]?.function.arguments ?? "")).toEqual({
      branch: "no",
    });
  });

  it("returns 401 without a Bearer key and 429 with retry-after headers under a fault", async () => {
    const unauth = await fetch(`${emu.baseURL}/chat/completions`, { method: "POST", body: "{}" });
    expect(unauth.status).toBe(401);
    expect(await unauth.json()).toMatchObject({
      error: { code: "invalid_api_key", type: "invalid_request_error" },
    });
    await fetch(`${emu.url}/__emulator/faults`, {
      method: "POST",
      body: JSON.stringify({ status: 429, retryAfterMs: 1500 }),
    });
    const limited = await post({ model: "m", messages: [] });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("2");
    expect(limited.headers.get("retry-after-ms")).toBe("1500");
    expect(await limited.json()).toMatchObject({ error: { code: "rate_limit_exceeded" } });
    const seen = (await (await fetch(`${emu.url}/__emulator/requests`)).json()) as { requests: unknown[] };
    expect(seen.requests).toHaveLength(2);
  });

  it("rate-limits only the faulted model, N times, with OpenAI's error body and headers", async () => {
    emu.setFaults({ status: 429, failures: 2, retryAfterMs: 1000, model: "gpt-4o-mini" });
    const other = await post({
      model: "gpt-4o",
      messages: [{ role: "user", content: "yes" }],
      tools: [tool],
    });
    expect(other.status).toBe(200);
    await other.body?.cancel();
    for (let i = 0; i < 2; i++) {
      const limited = await post({ model: "gpt-4o-mini", messages: [] });
      expect(limited.status).toBe(429);
      expect(limited.headers.get("retry-after")).toBe("1");
      expect(limited.headers.get("retry-after-ms")).toBe("1000");
      expect(limited.headers.get("x-ratelimit-remaining-requests")).toBe("0");
      expect(limited.headers.get("x-request-id")).toBeTruthy();
      expect(await limited.json()).toEqual({
        error: {
          message: expect.stringContaining("Rate limit reached for gpt-4o-mini"),
          type: "requests",
          param: null,
          code: "rate_limit_exceeded",
        },
      });
    }
    const after = await post({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "yes" }],
      tools: [tool],
    });
    expect(after.status).toBe(200);
    await after.body?.cancel();
  });

  it("answers quota exhaustion and server errors with OpenAI's bodies", async () => {
    emu.setFaults({ status: 429, code: "insufficient_quota", failures: 1 });
    const quota = await post({ model: "m", messages: [] });
    expect(quota.headers.get("retry-after")).toBeNull();
    expect(await quota.json()).toMatchObject({
      error: { type: "insufficient_quota", code: "insufficient_quota" },
    });
    emu.setFaults({ status: 500, failures: 1 });
    const server = await post({ model: "m", messages: [] });
    expect(server.status).toBe(500);
    expect(await server.json()).toEqual({
      error: { message: expect.any(String), type: "server_error", param: null, code: null },
    });
  });

  it("never answers a hung request until the client gives up, then serves the next one", async () => {
    emu.setFaults({ hangRequests: 1 });
    const hung = await fetch(`${emu.baseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer sk-any", "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [] }),
      signal: AbortSignal.timeout(300),
    }).catch((e: unknown) => e);
    expect(hung).toBeInstanceOf(Error);
    const next = await post({ model: "m", messages: [{ role: "user", content: "yes" }], tools: [tool] });
    expect(next.status).toBe(200);
    await next.body?.cancel();
  });

  it("classifies intents and extracts captures deterministically", () => {
    expect(classifyIntent("Yeah, sure")).toBe("affirmative");
    expect(classifyIntent("no, not really")).toBe("negative");
    expect(classifyIntent("please stop calling me")).toBe("optout");
    expect(classifyIntent("what?")).toBe("unclear");
    expect(extractCaptures(["email", "slot_time", "day"], "friday at 3pm, a.b@c.io")).toEqual({
      email: "a.b@c.io",
      slot_time: "friday 3pm",
      day: "friday",
    });
  });
});
