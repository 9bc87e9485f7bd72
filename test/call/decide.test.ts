import { describe, expect, it } from "vitest";
import { decideTurn, dtmfOptions, looksLikeMailboxGreeting } from "../../src/call/decide";
import { getFlow } from "../../src/call/flows";
import { initialSnapshot, listeningSpec } from "../../src/flow/interpreter";
import type { FlowSnapshot } from "../../src/flow/types";
import { ProviderError } from "../../src/lib/errors";
import { withLlmRetry } from "../../src/providers/llm-retry";
import type { Decision, DecisionRequest, LanguageModel, LlmRecoveryStep } from "../../src/providers/ports";

const flow =
  getFlow("outbound-booking") ??
  (() => {
    throw new Error("flow missing");
  })();

class FakeLlm implements LanguageModel {
  readonly provider = "fake";
  calls: DecisionRequest[] = [];
  constructor(private readonly answer: Decision | Error) {}
  async decide(req: DecisionRequest): Promise<Decision> {
    this.calls.push(req);
    if (this.answer instanceof Error) throw this.answer;
    return this.answer;
  }
  decideStream(req: DecisionRequest) {
    const result = this.decide(req);
    return { replyDeltas: (async function* () {})(), result };
  }
}

function inState(state: string, vars: Record<string, string> = {}): FlowSnapshot {
  const snap = initialSnapshot(flow, { first_name: "Jo", email: "jo@example.co.uk", ...vars }, 0);
  return { ...snap, status: "active", state, phase: "listening" };
}

const slots = { slot_1: "2026-03-03T10:30:00Z", slot_2: "2026-03-04T14:00:00Z" };

function input(text: string, snapshot: FlowSnapshot, llm: LanguageModel, heldDtmf?: string) {
  const spec = listeningSpec(flow, snapshot);
  if (!spec) throw new Error("state does not listen");
  return {
    text,
    spec,
    flow,
    snapshot,
    history: [],
    persona: "test",
    llm,
    models: { fast: "mini", reasoning: "big" },
    signal: new AbortController().signal,
    ...(heldDtmf === undefined ? {} : { heldDtmf }),
  };
}

describe("decideTurn", () => {
  it("decides an obvious yes without the LLM", async () => {
    const llm = new FakeLlm(new Error("must not be called"));
    const out = await decideTurn(input("yeah that's me", inState("greeting"), llm));
    expect(out).toMatchObject({ kind: "event", by: "fast_path", event: { type: "intent", branch: "yes" } });
    expect(llm.calls).toHaveLength(0);
  });

  it("takes an opt-out from any listening state", async () => {
    const out = await decideTurn(
      input("take me off your list", inState("qualify"), new FakeLlm(new Error("x"))),
    );
    expect(out).toMatchObject({ kind: "event", event: { type: "opt_out" } });
  });

  it("asks the LLM when the fast path abstains, with the state's branches", async () => {
    const llm = new FakeLlm({
      branch: "positive",
      captures: { timeline: "this quarter" },
      firstTokenMs: 12,
      model: "mini",
    });
    const out = await decideTurn(
      input("we're looking at it for this quarter actually", inState("qualify"), llm),
    );
    expect(out).toMatchObject({ kind: "event", by: "llm", event: { branch: "positive" } });
    expect(llm.calls[0]?.state.branches).toEqual(expect.arrayContaining(["positive", "negative", "unclear"]));
  });

  it("names the chosen slot so the flow books that instant", async () => {
    const out = await decideTurn(
      input("the first one please", inState("book", slots), new FakeLlm(new Error("x"))),
    );
    expect(out).toMatchObject({
      kind: "event",
      event: { branch: "slot_selected", captures: { slot: "slot_1" } },
    });
  });

  it("asks to confirm when the keyed digit and the spoken answer disagree", async () => {
    const out = await decideTurn(
      input("the first one please", inState("book", slots), new FakeLlm(new Error("x")), "2"),
    );
    expect(out.kind).toBe("confirm");
    if (out.kind === "confirm") expect(out.question).toMatch(/pressed 2/);
  });

  it("accepts when they agree", async () => {
    const out = await decideTurn(
      input("the second one", inState("book", slots), new FakeLlm(new Error("x")), "2"),
    );
    expect(out).toMatchObject({
      kind: "event",
      event: { branch: "slot_selected", captures: { slot: "slot_2" } },
    });
  });

  it("turns an LLM failure into the flow's fallback, never a throw", async () => {
    const llm = new FakeLlm(new ProviderError("openai", "rate limited", 429));
    const out = await decideTurn(input("well it depends on a few things really", inState("qualify"), llm));
    expect(out).toMatchObject({ kind: "llm_failed", event: { type: "intent", branch: "unclear" } });
  });

  it("decides a rate-limited turn after one retry and tells the audit hook, instead of the flow's fallback", async () => {
    let calls = 0;
    const limited = new ProviderError("openai", "API error 429", 429, {
      code: "rate_limit_exceeded",
      retryAfterMs: 20,
    });
    const answer: Decision = { branch: "positive", captures: {}, firstTokenMs: 5, model: "mini" };
    const flaky = new FakeLlm(answer);
    const llm = withLlmRetry(
      {
        provider: "fake",
        decide: (req) => (++calls === 1 ? Promise.reject(limited) : flaky.decide(req)),
        decideStream: (req) => flaky.decideStream(req),
      },
      { defaultModel: "mini", fallbackModel: () => "big" },
    );
    const steps: LlmRecoveryStep[] = [];
    const out = await decideTurn({
      ...input("well it depends on a few things really", inState("qualify"), llm),
      onLlmRecovery: (s) => steps.push(s),
    });
    expect(out).toMatchObject({ kind: "event", by: "llm", event: { branch: "positive" } });
    expect(steps).toEqual([
      expect.objectContaining({ type: "retry", status: 429, code: "rate_limit_exceeded", waitMs: 20 }),
    ]);
    expect(flaky.calls[0]?.model).toBe("mini");
  });

  it("streams the reply of a state that wants one, with the decision to follow", async () => {
    const llm = new FakeLlm({
      branch: "yes",
      captures: {},
      reply: "Fair enough, it is quick.",
      firstTokenMs: 9,
      model: "mini",
    });
    const out = await decideTurn(input("I'm not sure I have time for a demo", inState("objection"), llm));
    expect(out.kind).toBe("streaming");
    if (out.kind === "streaming") {
      expect(await out.result).toMatchObject({
        kind: "event",
        reply: "Fair enough, it is quick.",
        event: { branch: "yes" },
      });
    }
  });

  it("takes a mailbox greeting in the opening state for a machine, not an answer", async () => {
    const out = await decideTurn(
      input(
        "Hi, you've reached Zed. I can't take your call right now, please leave a message after the tone.",
        inState("greeting"),
        new FakeLlm(new Error("x")),
      ),
    );
    expect(out).toMatchObject({ kind: "event", event: { type: "amd", result: "machine" } });
    expect(looksLikeMailboxGreeting("yes that's me, who's calling?")).toBe(false);
    expect(looksLikeMailboxGreeting("You have reached the voicemail of")).toBe(true);
  });

  it("labels keypad options with the slot they pick", () => {
    const options = dtmfOptions(flow, inState("book", slots));
    expect(options.map((o) => o.digit)).toEqual(["1", "2"]);
    expect(options[0]?.label).toMatch(/Tuesday/);
  });
});
