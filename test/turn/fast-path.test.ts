import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classifyFastPath, type FastPathInput } from "../../src/turn/fast-path";
import { FastPathCorpusSchema, scoreFastPathCorpus } from "../../src/turn/fast-path-corpus";

const corpus = FastPathCorpusSchema.parse(
  JSON.parse(readFileSync(new URL("./fixtures/fast-path-corpus.json", import.meta.url), "utf8")),
);

const yesNo: Omit<FastPathInput, "text"> = { branches: ["yes", "no"], captures: [] };
const book: Omit<FastPathInput, "text"> = {
  branches: ["slot_selected", "no_slots", "decline"],
  captures: ["slot_choice"],
  slots: [
    { choice: "1", weekday: "tuesday", hour: 10, minute: 30 },
    { choice: "2", weekday: "wednesday", hour: 14, minute: 0 },
  ],
};

describe("fast-path corpus", () => {
  const score = scoreFastPathCorpus(corpus);

  it("holds at least 150 labelled utterances including abstentions", () => {
    expect(score.total).toBeGreaterThanOrEqual(150);
    expect(corpus.cases.filter((c) => c.expect === "abstain").length).toBeGreaterThanOrEqual(50);
  });

  it("is never wrong when it decides", () => {
    const wrong = score.results.filter((r) => r.decided && !r.correct).map((r) => [r.case, r.decision]);
    expect(wrong).toEqual([]);
    expect(score.precision).toBe(1);
  });

  it("abstains on every turn labelled abstain and decides the labelled obvious ones", () => {
    const missed = score.results.filter((r) => !r.correct).map((r) => [r.case, r.decision]);
    expect(missed).toEqual([]);
    expect(score.abstainShare).toBeGreaterThan(0.2);
    expect(score.abstainShare).toBeLessThan(0.5);
  });
});

describe("classifyFastPath", () => {
  it("maps yes/no families onto the state's own branch names", () => {
    const q = { branches: ["positive", "negative", "unclear"], captures: [] };
    expect(classifyFastPath({ ...q, text: "yeah go on" })).toMatchObject({
      decision: "branch",
      branch: "positive",
    });
    expect(classifyFastPath({ ...q, text: "I'm alright thanks" })).toMatchObject({ branch: "negative" });
    const party = { branches: ["available", "not_available", "unknown"], captures: [] };
    expect(classifyFastPath({ ...party, text: "aye" })).toMatchObject({ branch: "available" });
    expect(classifyFastPath({ ...party, text: "not at the moment" })).toMatchObject({
      branch: "not_available",
    });
  });

  it("abstains when the state has no branch for the polarity", () => {
    expect(classifyFastPath({ branches: ["sales", "support"], captures: [], text: "yes" })).toMatchObject({
      decision: "abstain",
    });
  });

  it("treats opt-out as a call-level decision in any state, but not when negated", () => {
    expect(classifyFastPath({ ...book, text: "just take me off your list" })).toEqual({
      decision: "opt_out",
      reason: "take_off_list",
    });
    expect(classifyFastPath({ ...yesNo, text: "I don't want you to stop calling" }).decision).toBe("abstain");
    expect(classifyFastPath({ ...yesNo, text: "no, don't remove me" }).decision).toBe("abstain");
  });

  it("reads DTMF through the state's digit map and refuses digits outside it", () => {
    const menu = { branches: ["sales", "support"], captures: [], dtmfMap: { "1": "sales", "2": "support" } };
    expect(classifyFastPath({ ...menu, dtmf: "2" })).toMatchObject({ branch: "support", reason: "dtmf_map" });
    expect(classifyFastPath({ ...menu, dtmf: "5" }).decision).toBe("abstain");
    const mapped = { ...menu, dtmfMap: { "1": { branch: "sales", captures: { dept: "sales" } } } };
    expect(classifyFastPath({ ...mapped, dtmf: "1" })).toMatchObject({ captures: { dept: "sales" } });
  });

  it("abstains when a keyed digit and the spoken answer disagree", () => {
    expect(classifyFastPath({ ...book, dtmf: "3", text: "two" }).decision).toBe("abstain");
    expect(classifyFastPath({ ...book, dtmf: "1", text: "the second one" }).decision).toBe("abstain");
    expect(classifyFastPath({ ...book, dtmf: "2", text: "two" })).toMatchObject({
      branch: "slot_selected",
      captures: { slot_choice: "2" },
      reason: "dtmf_speech_agree",
    });
  });

  it("lets yes pick a slot only when a single slot was offered", () => {
    expect(classifyFastPath({ ...book, text: "yes please" }).decision).toBe("abstain");
    const one = { ...book, slots: book.slots?.slice(0, 1) };
    expect(classifyFastPath({ ...one, text: "yes please" })).toMatchObject({
      captures: { slot_choice: "1" },
    });
  });

  it("maps slot choices without slot details by position only", () => {
    const bare = { branches: ["slot_selected"], captures: ["slot_choice"] };
    expect(classifyFastPath({ ...bare, text: "the second one" })).toMatchObject({
      captures: { slot_choice: "2" },
    });
    expect(classifyFastPath({ ...bare, text: "Tuesday" }).decision).toBe("abstain");
    expect(classifyFastPath({ ...bare, dtmf: "2" })).toMatchObject({ captures: { slot_choice: "2" } });
    expect(classifyFastPath({ ...bare, dtmf: "3" }).decision).toBe("abstain");
  });

  it("keeps reasons free of caller text", () => {
    const d = classifyFastPath({ ...yesNo, text: "Sam here, yes" });
    expect(JSON.stringify(d)).not.toContain("sam");
  });

  it("only ever returns branches the state has, for arbitrary input", () => {
    const vocab = [
      "yes",
      "no",
      "not",
      "stop",
      "calling",
      "me",
      "remove",
      "the",
      "first",
      "one",
      "two",
      "Tuesday",
    ];
    const text = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.array(fc.constantFrom(...vocab, ",", "?", "don't"), { maxLength: 10 }).map((w) => w.join(" ")),
    );
    const branches = fc.subarray(["yes", "no", "positive", "decline", "slot_selected", "who_is_this", "x"]);
    fc.assert(
      fc.property(text, branches, fc.option(fc.constantFrom("1", "2", "3", "#", "12")), (t, b, dtmf) => {
        const d = classifyFastPath({ text: t, branches: b, captures: [], dtmf: dtmf ?? undefined });
        if (d.decision === "branch") expect(b).toContain(d.branch);
      }),
    );
  });

  it("never turns a negated opt-out phrase into an opt-out", () => {
    const phrases = [
      "stop calling me",
      "take me off your list",
      "remove my number",
      "unsubscribe",
      "opt out",
    ];
    const negations = ["I don't want you to", "I never said", "I'm not asking you to", "no need to", "don't"];
    fc.assert(
      fc.property(fc.constantFrom(...negations), fc.constantFrom(...phrases), (neg, phrase) => {
        expect(classifyFastPath({ ...yesNo, text: `${neg} ${phrase}` }).decision).not.toBe("opt_out");
      }),
    );
  });

  it("abstains on any yes phrase followed by a contrast and a no phrase", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("yes", "yeah", "aye", "go on", "sure"),
        fc.constantFrom("but", "actually", "well"),
        fc.constantFrom("no", "not really", "I'm alright"),
        (yes, contrast, no) => {
          expect(classifyFastPath({ ...yesNo, text: `${yes}, ${contrast} ${no}` }).decision).toBe("abstain");
        },
      ),
    );
  });
});
