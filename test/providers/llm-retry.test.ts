import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ProviderError } from "../../src/lib/errors";
import { AsyncQueue } from "../../src/providers/async-queue";
import { type LlmRetryOptions, withLlmRetry } from "../../src/providers/llm-retry";
import { createOpenAiLlm } from "../../src/providers/openai";
import type {
  Decision,
  DecisionRequest,
  DecisionStream,
  LanguageModel,
  LlmRecoveryStep,
} from "../../src/providers/ports";
import { type OpenAiEmulator, startOpenAiEmulator } from "../../src/tooling/emulators/openai";

const FAST = "gpt-4o-mini";
const REASONING = "gpt-4o";

function request(userText: string, wantsReply = false): DecisionRequest {
  return {
    model: FAST,
    system: "You are calling on behalf of Acme Dental.",
    history: [{ role: "user", text: userText }],
    state: {
      id: "qualify",
      prompt: "Qualify.",
      branches: ["yes", "no", "unclear"],
      captures: [],
      wantsReply,
    },
  };
}

function retryOptions(over: Partial<LlmRetryOptions> = {}): LlmRetryOptions {
  return {
    defaultModel: FAST,
    fallbackModel: (m) => (m === FAST ? REASONING : FAST),
    policy: { budgetMs: 1_500, attemptTimeoutMs: 700, minAttemptMs: 300, retryDelayMs: 20 },
    ...over,
  };
}

describe("LLM retry policy against the OpenAI emulator", () => {
  let emu: OpenAiEmulator;
  beforeEach(async () => {
    emu = await startOpenAiEmulator({ apiKey: "sk-test" });
  });
  afterEach(async () => {
    await emu.close();
  });

  function llm(over: Partial<LlmRetryOptions> = {}) {
    const adapter = createOpenAiLlm({ apiKey: "sk-test", baseURL: emu.baseURL, timeoutMs: 5_000 });
    return withLlmRetry(adapter, retryOptions(over));
  }
  const models = () => emu.requests().map((r) => (r.body as { model: string }).model);

  it("rides out three rate-limited requests: one retry after Retry-After, then the fallback model", async () => {
    emu.setFaults({ status: 429, failures: 3, retryAfterMs: 300, model: FAST });
    const steps: LlmRecoveryStep[] = [];
    const started = performance.now();
    const d = await llm().decide({ ...request("yes that's right"), onRecovery: (s) => steps.push(s) });
    expect(d).toMatchObject({ branch: "yes", model: REASONING });
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(models()).toEqual([FAST, FAST, REASONING]);
    expect(steps).toMatchObject([
      {
        type: "retry",
        attempt: 1,
        fromModel: FAST,
        toModel: FAST,
        status: 429,
        code: "rate_limit_exceeded",
        waitMs: 300,
      },
      { type: "fallback_model", attempt: 2, fromModel: FAST, toModel: REASONING, status: 429, waitMs: 0 },
    ]);
  });

  it("recovers a single 500 with one retry of the same model", async () => {
    emu.setFaults({ status: 500, failures: 1 });
    const steps: LlmRecoveryStep[] = [];
    const d = await llm().decide({ ...request("yes"), onRecovery: (s) => steps.push(s) });
    expect(d).toMatchObject({ branch: "yes", model: FAST });
    expect(models()).toEqual([FAST, FAST]);
    expect(steps).toMatchObject([{ type: "retry", status: 500, code: "server_error", failure: "transient" }]);
  });

  it("does not wait out a Retry-After longer than the budget allows: the fallback model answers at once", async () => {
    emu.setFaults({ status: 429, failures: 5, retryAfterMs: 5_000, model: FAST });
    const started = performance.now();
    const d = await llm().decide(request("yes"));
    expect(d.model).toBe(REASONING);
    expect(performance.now() - started).toBeLessThan(500);
    expect(models()).toEqual([FAST, REASONING]);
  });

  it("cuts a hung request at its attempt deadline and lets the fallback model answer within the budget", async () => {
    emu.setFaults({ hangRequests: 1, model: FAST });
    const steps: LlmRecoveryStep[] = [];
    const started = performance.now();
    const d = await llm().decide({ ...request("no thanks"), onRecovery: (s) => steps.push(s) });
    const tookMs = performance.now() - started;
    expect(d).toMatchObject({ branch: "no", model: REASONING });
    expect(tookMs).toBeGreaterThanOrEqual(650);
    expect(tookMs).toBeLessThan(1_500);
    expect(steps).toMatchObject([{ type: "fallback_model", failure: "timeout", fromModel: FAST }]);
  });

  it("lets a slow answer that has started run on past the attempt deadline: it is alive, not hung", async () => {
    emu.setLatency({ ttftMs: 900 });
    const steps: LlmRecoveryStep[] = [];
    const d = await llm().decide({ ...request("yes"), onRecovery: (s) => steps.push(s) });
    expect(d).toMatchObject({ branch: "yes", model: FAST });
    expect(steps).toEqual([]);
    expect(models()).toEqual([FAST]);
  });

  it("gives up with a timeout inside the budget when every model hangs", async () => {
    emu.setFaults({ hangRequests: 5 });
    const started = performance.now();
    const err = await llm()
      .decide(request("yes"))
      .catch((e: unknown) => e);
    const tookMs = performance.now() - started;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ message: "request timed out", code: "timeout" });
    expect(tookMs).toBeLessThan(1_500 + 150);
    expect(models()).toEqual([FAST, REASONING]);
  });

  it("does not retry insufficient_quota or a bad key: every model would fail alike", async () => {
    emu.setFaults({ status: 429, code: "insufficient_quota" });
    await expect(llm().decide(request("yes"))).rejects.toMatchObject({ status: 429, retryable: false });
    expect(models()).toEqual([FAST]);
  });

  it("sends a model refusal (400) to the fallback model", async () => {
    emu.setFaults({ status: 400, code: "invalid_value", model: FAST });
    const d = await llm().decide(request("yes"));
    expect(d.model).toBe(REASONING);
    expect(models()).toEqual([FAST, REASONING]);
  });

  it("retries a stream that failed before any reply text, and passes on only the answer's words", async () => {
    emu.setFaults({ status: 503, failures: 1 });
    const stream = llm().decideStream(request("hmm what was that", true));
    const parts: string[] = [];
    for await (const p of stream.replyDeltas) parts.push(p);
    const d = await stream.result;
    expect(parts.join("")).toBe(d.reply);
    expect(models()).toEqual([FAST, FAST]);
  });

  it("stops at once when the caller aborts during a Retry-After wait", async () => {
    emu.setFaults({ status: 429, failures: 3, retryAfterMs: 800, model: FAST });
    const ac = new AbortController();
    const pending = withLlmRetry(
      createOpenAiLlm({ apiKey: "sk-test", baseURL: emu.baseURL }),
      retryOptions({ fallbackModel: () => undefined, policy: { budgetMs: 2_000, minAttemptMs: 200 } }),
    ).decide({ ...request("yes"), signal: ac.signal });
    setTimeout(() => ac.abort(), 150);
    await expect(pending).rejects.toMatchObject({ message: "request aborted", retryable: false });
    expect(models()).toEqual([FAST]);
  });
});

/** A scripted LLM: each attempt either speaks some words and fails, or answers. */
class ScriptedLlm implements LanguageModel {
  readonly provider = "scripted";
  readonly calls: string[] = [];
  constructor(private readonly script: { say?: string; fail?: ProviderError }[]) {}
  decide(req: DecisionRequest): Promise<Decision> {
    return this.decideStream(req).result;
  }
  decideStream(req: DecisionRequest): DecisionStream {
    const step = this.script[this.calls.length] ?? {};
    this.calls.push(req.model ?? "");
    const deltas = new AsyncQueue<string>();
    const result = (async () => {
      await new Promise((r) => setTimeout(r, 5));
      if (step.say) deltas.push(step.say);
      if (step.fail) {
        deltas.fail(step.fail);
        throw step.fail;
      }
      deltas.end();
      return { branch: "yes", captures: {}, reply: step.say ?? "", firstTokenMs: 5, model: req.model ?? "" };
    })();
    result.catch(() => undefined);
    return { replyDeltas: deltas, result };
  }
}

describe("LLM retry policy with reply text", () => {
  it("never retries a stream that already spoke: the caller may have heard it", async () => {
    const fake = new ScriptedLlm([
      { say: "Sure, let me", fail: new ProviderError("scripted", "stream failed", undefined) },
      { say: "Another reply entirely." },
    ]);
    const stream = withLlmRetry(fake, retryOptions()).decideStream(request("what?", true));
    const parts: string[] = [];
    const drained = (async () => {
      for await (const p of stream.replyDeltas) parts.push(p);
    })();
    await expect(stream.result).rejects.toMatchObject({ message: "stream failed" });
    await expect(drained).rejects.toBeInstanceOf(ProviderError);
    expect(parts).toEqual(["Sure, let me"]);
    expect(fake.calls).toEqual([FAST]);
  });

  it("may retry a decide() whose failed attempt produced reply text: nothing was spoken yet", async () => {
    const fake = new ScriptedLlm([
      { say: "Sure, let me", fail: new ProviderError("scripted", "stream failed", undefined) },
      { say: "Great, thank you." },
    ]);
    const d = await withLlmRetry(fake, retryOptions()).decide(request("what?", true));
    expect(d.reply).toBe("Great, thank you.");
    expect(fake.calls).toEqual([FAST, FAST]);
  });
});
