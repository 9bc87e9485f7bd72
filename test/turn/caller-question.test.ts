import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  answerCallerQuestions,
  type CallerFacts,
  type CallerQuestionKind,
  detectCallerQuestions,
} from "../../src/turn/caller-question";
import { classifyFastPath } from "../../src/turn/fast-path";
import { FastPathCorpusSchema } from "../../src/turn/fast-path-corpus";

const corpus = FastPathCorpusSchema.parse(
  JSON.parse(readFileSync(new URL("./fixtures/fast-path-corpus.json", import.meta.url), "utf8")),
);

/** Question phrasings a caller uses, by the kind each one asks. */
const ASKED: Record<CallerQuestionKind, readonly string[]> = {
  identity: [
    "who is this?",
    "who's calling?",
    "sorry, who?",
    "who am I speaking to?",
    "where are you calling from?",
    "what company is this?",
    "who are you with",
  ],
  ai: [
    "am I talking to a robot?",
    "wait, am I talking to a robot?",
    "is this a real person?",
    "are you a bot",
    "are you AI?",
    "is this automated?",
    "am I speaking to a real person",
    "you're a machine, aren't you?",
    "is this a recording?",
  ],
  purpose: [
    "why are you calling?",
    "what's this about?",
    "what is this regarding",
    "why are you ringing me?",
    "what do you want?",
    "is this a sales call?",
  ],
  source: [
    "how did you get my number?",
    "where did you get my details from?",
    "who gave you my number",
    "where'd you get this number",
    "how have you got my number?",
  ],
  recording: [
    "is this recorded?",
    "is this call being recorded?",
    "are you recording this?",
    "am I being recorded",
    "will this be recorded?",
    "is this a recorded line?",
  ],
};

describe("detectCallerQuestions", () => {
  for (const [kind, phrasings] of Object.entries(ASKED)) {
    it(`finds the ${kind} question however it is phrased`, () => {
      for (const p of phrasings) expect(detectCallerQuestions(p), p).toContain(kind);
    });
  }

  it("finds the question inside an answer ('Yes. Wait, am I talking to a robot?')", () => {
    expect(detectCallerQuestions("Yes. Wait, am I talking to a robot?")).toEqual(["ai"]);
    expect(detectCallerQuestions("who is this and why are you calling me at work")).toEqual([
      "identity",
      "purpose",
    ]);
  });

  it("finds nothing in answers, requests and look-alikes", () => {
    for (const t of [
      "yes speaking",
      "no thanks",
      "who is this for?",
      "I'd like to speak to a real person",
      "can I talk to a human please",
      "tuesday at half ten",
      "I know who you are",
      "we record all our sales calls already",
      "what time was the second one?",
      "what do you mean by AI?",
      "is that right?",
      "",
    ])
      expect(detectCallerQuestions(t), t).toEqual([]);
  });
});

const facts: CallerFacts = {
  direction: "outbound",
  agentName: "Nova",
  businessName: "Quantum",
  purpose: "to book a short call with our team",
  recorded: true,
  personAvailable: false,
};

describe("answerCallerQuestions", () => {
  it("says plainly that the agent is an automated AI assistant, not a person", () => {
    expect(answerCallerQuestions(["ai"], facts)).toBe(
      "I'm Nova, an automated AI assistant calling from Quantum, not a real person.",
    );
    expect(answerCallerQuestions(["identity"], facts)).toBe(
      "I'm Nova, an automated assistant calling from Quantum.",
    );
  });

  it("offers a person only when the call can reach one from where it is", () => {
    expect(answerCallerQuestions(["ai"], facts)).not.toMatch(/person, just say so/);
    expect(answerCallerQuestions(["ai"], { ...facts, personAvailable: true })).toMatch(
      /If you'd rather speak to a person, just say so\.$/,
    );
  });

  it("says whether this call is recorded as it actually is", () => {
    expect(answerCallerQuestions(["recording"], facts)).toMatch(/^Yes, this call is recorded/);
    expect(answerCallerQuestions(["recording"], { ...facts, recorded: false })).toMatch(
      /^This call isn't recorded/,
    );
  });

  it("names the lead's source when known and never invents one", () => {
    expect(
      answerCallerQuestions(["source"], { ...facts, leadSource: "the enquiry form on our website" }),
    ).toBe("We have your details from the enquiry form on our website.");
    const unknown = answerCallerQuestions(["source"], facts);
    expect(unknown).toMatch(/can't see where your number came from/);
    expect(unknown).toMatch(/stop calling/);
  });

  it("answers why we are calling from the flow's purpose, else only who it is on behalf of", () => {
    expect(answerCallerQuestions(["purpose"], facts)).toBe(
      "I'm calling from Quantum to book a short call with our team.",
    );
    const { purpose: _, ...noPurpose } = facts;
    expect(answerCallerQuestions(["purpose"], noPurpose)).toBe("I'm calling on behalf of Quantum.");
  });

  it("discloses automation for any facts, and never speaks an empty name or a placeholder", () => {
    const name = fc.option(fc.constantFrom("Nova", "Sam", "Ava"), { nil: undefined });
    fc.assert(
      fc.property(
        fc.record({
          direction: fc.constantFrom("outbound" as const, "inbound" as const),
          agentName: name,
          businessName: fc.option(fc.constantFrom("Quantum", "Acme Cleaning"), { nil: undefined }),
          recorded: fc.boolean(),
          personAvailable: fc.boolean(),
        }),
        fc.subarray(["identity", "ai", "purpose", "source", "recording"] as CallerQuestionKind[], {
          minLength: 1,
        }),
        (raw, kinds) => {
          const f: CallerFacts = Object.fromEntries(
            Object.entries(raw).filter(([, v]) => v !== undefined),
          ) as unknown as CallerFacts;
          const text = answerCallerQuestions(kinds, f);
          if (kinds.includes("ai")) expect(text).toMatch(/automated AI assistant[^.]*not a real person/);
          if (kinds.includes("identity")) expect(text).toMatch(/automated/);
          expect(text).not.toMatch(/\{\{|\}\}|undefined|, ,|\s\s/);
        },
      ),
    );
  });
});

describe("the fast path and caller questions", () => {
  const decided = corpus.cases.filter((c) => c.expect !== "abstain" && c.expect !== "opt_out" && c.text);
  const states = corpus.states;
  const all = Object.entries(ASKED).flatMap(([kind, ps]) => ps.map((p) => ({ kind, p })));

  it("never decides a turn that also asks about the call, wherever the question sits", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...decided),
        fc.constantFrom(...all),
        fc.constantFrom(". ", ", ", " ", "? ", ". Wait, ", " - "),
        fc.boolean(),
        (c, q, joiner, questionFirst) => {
          const text = questionFirst ? `${q.p}${joiner}${c.text}` : `${c.text}${joiner}${q.p}`;
          const state = states[c.state];
          if (!state) throw new Error(`unknown state ${c.state}`);
          const out = classifyFastPath({
            text,
            branches: state.branches,
            captures: state.captures,
            ...(state.slots ? { slots: state.slots } : {}),
          });
          const ownIdentityBranch = q.kind === "identity" && state.branches.includes("who_is_this");
          expect(detectCallerQuestions(text), text).toContain(q.kind);
          if (!ownIdentityBranch) expect(out.decision, text).toBe("abstain");
        },
      ),
      { numRuns: 500 },
    );
  });

  it("still lets an opt-out win over a question", () => {
    const state = { branches: ["yes", "no"], captures: [] };
    expect(classifyFastPath({ ...state, text: "who is this? stop calling me" }).decision).toBe("opt_out");
    expect(classifyFastPath({ ...state, text: "how did you get my number, take me off your list" })).toEqual({
      decision: "opt_out",
      reason: "take_off_list",
    });
  });

  it("keeps 'who is this?' for a state that has its own branch for it", () => {
    const intro = { branches: ["yes", "no", "who_is_this"], captures: [] };
    expect(classifyFastPath({ ...intro, text: "who's calling?" })).toMatchObject({ branch: "who_is_this" });
    expect(classifyFastPath({ ...intro, text: "who's calling? is this a robot?" }).decision).toBe("abstain");
  });
});
