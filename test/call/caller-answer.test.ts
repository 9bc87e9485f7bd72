import { describe, expect, it } from "vitest";
import { callerFacts, callerQuestionReply, personReachable } from "../../src/call/caller-answer";
import { decideTurn } from "../../src/call/decide";
import { getFlow } from "../../src/call/flows";
import { initialSnapshot, listeningSpec } from "../../src/flow/interpreter";
import { reaskLine } from "../../src/flow/reask";
import type { Flow } from "../../src/flow/schema";
import type { FlowSnapshot } from "../../src/flow/types";
import type { Decision, DecisionRequest, LanguageModel } from "../../src/providers/ports";

function flowNamed(id: string): Flow {
  const flow = getFlow(id);
  if (!flow) throw new Error(`flow ${id} missing`);
  return flow;
}
const booking = flowNamed("outbound-booking");
const inbound = flowNamed("inbound-triage");

/** An LLM that is down: the deterministic answer must not need it. */
class DownLlm implements LanguageModel {
  readonly provider = "down";
  calls = 0;
  async decide(_req: DecisionRequest): Promise<Decision> {
    this.calls++;
    throw new Error("llm down");
  }
  decideStream(req: DecisionRequest) {
    return { replyDeltas: (async function* () {})(), result: this.decide(req) };
  }
}

const NOW = Date.parse("2026-03-02T09:00:00Z");
const slots = { slot_1: "2026-03-03T10:30:00Z", slot_2: "2026-03-04T14:00:00Z" };

function inState(flow: Flow, state: string, vars: Record<string, string> = {}): FlowSnapshot {
  const snap = initialSnapshot(flow, { first_name: "Jo", email: "jo@example.co.uk", ...vars }, NOW);
  return { ...snap, status: "active", state, phase: "listening" };
}

function decide(text: string, snapshot: FlowSnapshot, llm: LanguageModel, flow: Flow = booking) {
  const spec = listeningSpec(flow, snapshot);
  if (!spec) throw new Error("state does not listen");
  return decideTurn({
    text,
    spec,
    flow,
    snapshot,
    history: [],
    persona: "test",
    llm,
    models: { fast: "mini", reasoning: "big" },
    signal: new AbortController().signal,
  });
}

describe("re-asking a state's question", () => {
  it("asks the greeting's question without repeating the introduction", () => {
    expect(reaskLine(booking, inState(booking, "greeting"), NOW)).toBe("Am I speaking with Jo?");
  });

  it("uses the state's ask line, and the whole say line when its question needs what comes before", () => {
    expect(reaskLine(booking, inState(booking, "qualify"), NOW)).toBe(
      "Are you currently evaluating AI for appointment setting?",
    );
    const book = reaskLine(booking, inState(booking, "book", slots), NOW) ?? "";
    expect(book).toMatch(/^I can book 15 minutes with our team: .+ or .+\. Which suits you better\?$/);
    expect(book).not.toMatch(/\{\{/);
  });
});

describe("callerFacts", () => {
  it("reads the flow's declared names and purpose, and records only what the flow discloses", () => {
    expect(callerFacts(booking, inState(booking, "greeting"))).toMatchObject({
      direction: "outbound",
      agentName: "Nova",
      businessName: "Quantum",
      recorded: true,
      personAvailable: false,
    });
    expect(callerFacts(booking, inState(booking, "greeting")).leadSource).toBeUndefined();
    expect(
      callerFacts(booking, inState(booking, "greeting", { lead_source: "the enquiry form on our website" }))
        .leadSource,
    ).toBe("the enquiry form on our website");
  });

  it("offers a person only from a state with a branch that transfers", () => {
    expect(personReachable(inbound, "greeting")).toBe(true);
    expect(personReachable(booking, "greeting")).toBe(false);
    expect(personReachable(booking, "qualify")).toBe(false);
  });
});

describe("decideTurn with a caller question", () => {
  it("answers 'Yes. Wait, am I talking to a robot?' and asks again instead of taking the yes, LLM down", async () => {
    const llm = new DownLlm();
    const out = await decide("Yes. Wait, am I talking to a robot?", inState(booking, "greeting"), llm);
    expect(out).toEqual({
      kind: "answer",
      by: "fast_path",
      questions: ["ai"],
      reasked: true,
      text: "I'm Nova, an automated AI assistant calling from Quantum, not a real person. Am I speaking with Jo?",
    });
    expect(llm.calls).toBe(0);
  });

  it("answers in a state whose reply the LLM would otherwise stream", async () => {
    const llm = new DownLlm();
    const out = await decide("is this call being recorded?", inState(booking, "objection"), llm);
    expect(out).toMatchObject({ kind: "answer", questions: ["recording"] });
    if (out.kind === "answer") expect(out.text).toMatch(/^Yes, this call is recorded/);
    expect(llm.calls).toBe(0);
  });

  it("leaves 'who is this?' to a state that has its own branch for it", async () => {
    const flow: Flow = {
      ...booking,
      states: {
        ...booking.states,
        greeting: {
          ...booking.states.greeting,
          on: { yes: "qualify", no: "wrong_party", who_is_this: "close" },
        },
      },
    };
    const out = await decide("Yes, who is this?", inState(flow, "greeting"), new DownLlm(), flow);
    expect(out.kind).toBe("llm_failed");
    const both = await decide(
      "who is this? is this a robot?",
      inState(flow, "greeting"),
      new DownLlm(),
      flow,
    );
    expect(both).toMatchObject({ kind: "answer", questions: ["identity", "ai"] });
  });

  it("lets an opt-out win over a question", async () => {
    const out = await decide("who is this? stop calling me", inState(booking, "greeting"), new DownLlm());
    expect(out).toMatchObject({ kind: "event", event: { type: "opt_out" } });
  });

  it("leaves a question with a hypothetical opt-out to the LLM", async () => {
    const llm = new DownLlm();
    const out = await decide("why did you stop calling me", inState(booking, "qualify"), llm);
    expect(out.kind).toBe("llm_failed");
    expect(llm.calls).toBe(1);
  });

  it("offers a person on the inbound line, where the caller can ask for one", async () => {
    const snap = inState(inbound, "greeting");
    const reply = callerQuestionReply(inbound, snap, ["ai"], NOW);
    expect(reply.text).toBe(
      "I'm Nova, an automated AI assistant for Quantum, not a real person. If you'd rather speak to a person, just say so. How can we help today?",
    );
  });
});
