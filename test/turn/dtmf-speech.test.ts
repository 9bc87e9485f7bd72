import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type DtmfOption, reconcile, spokenDigit } from "../../src/turn/dtmf-speech";

const slots: DtmfOption[] = [
  { digit: "1", branch: "slot_selected", captures: { slot_choice: "1" }, label: "Tuesday at 10:30" },
  { digit: "2", branch: "slot_selected", captures: { slot_choice: "2" }, label: "Wednesday at 2pm" },
  { digit: "3", branch: "no_slots", label: "another time" },
];

describe("spokenDigit", () => {
  it("reads digits, number words and ordinals said on their own or with light context", () => {
    expect(spokenDigit("two")).toBe("2");
    expect(spokenDigit("Two.")).toBe("2");
    expect(spokenDigit("the second one")).toBe("2");
    expect(spokenDigit("um, number 3 please")).toBe("3");
    expect(spokenDigit("option one")).toBe("1");
    expect(spokenDigit("oh")).toBe("0");
    expect(spokenDigit("I pressed nine")).toBe("9");
  });

  it("trusts homophones like 'to' and 'for' only when they are the whole answer", () => {
    expect(spokenDigit("to")).toBe("2");
    expect(spokenDigit("too")).toBe("2");
    expect(spokenDigit("for")).toBe("4");
    expect(spokenDigit("number to")).toBe("2");
    expect(spokenDigit("I want to")).toBeUndefined();
    expect(spokenDigit("for Tuesday")).toBeUndefined();
    expect(spokenDigit("go for it")).toBeUndefined();
  });

  it("refuses answers naming more than one number or anything else", () => {
    expect(spokenDigit("one or two")).toBeUndefined();
    expect(spokenDigit("two three")).toBeUndefined();
    expect(spokenDigit("Tuesday")).toBeUndefined();
    expect(spokenDigit("")).toBeUndefined();
  });
});

describe("reconcile", () => {
  it("asks to confirm instead of booking when the caller says two but keys 3", () => {
    const r = reconcile({
      options: slots,
      dtmf: "3",
      spoken: { branch: "slot_selected", captures: { slot_choice: "2" }, text: "two" },
    });
    expect(r).toEqual({
      action: "confirm",
      reason: "disagree",
      question:
        "Just to check: I heard Wednesday at 2pm, but you pressed 3 for another time. Which would you like?",
    });
  });

  it("accepts when digit and speech agree, merging captures", () => {
    const r = reconcile({
      options: slots,
      dtmf: "2",
      spoken: { branch: "slot_selected", captures: { slot_choice: "2", note: "after lunch" } },
    });
    expect(r).toEqual({
      action: "accept",
      source: "both",
      branch: "slot_selected",
      captures: { slot_choice: "2", note: "after lunch" },
    });
  });

  it("uses the transcript's number word when the classified answer carries no digit", () => {
    const spoken = { branch: "unclear", captures: {}, text: "to" };
    expect(reconcile({ options: slots, dtmf: "2", spoken })).toMatchObject({
      action: "accept",
      source: "both",
    });
    expect(reconcile({ options: slots, dtmf: "1", spoken })).toMatchObject({
      action: "confirm",
      reason: "disagree",
    });
  });

  it("compares branches when neither answer names a digit", () => {
    const menu: DtmfOption[] = [
      { digit: "1", branch: "sales" },
      { digit: "2", branch: "support" },
    ];
    expect(reconcile({ options: menu, dtmf: "1", spoken: { branch: "sales", captures: {} } })).toMatchObject({
      action: "accept",
      branch: "sales",
    });
    const r = reconcile({ options: menu, dtmf: "1", spoken: { branch: "support", captures: {} } });
    expect(r).toMatchObject({ action: "confirm", reason: "disagree" });
    if (r.action === "confirm")
      expect(r.question).toBe(
        "Just to check: I heard something different, but you pressed 1. Which would you like?",
      );
  });

  it("rejects a digit the prompt did not offer and lists the options", () => {
    const r = reconcile({ options: slots.slice(0, 2), dtmf: "7" });
    expect(r).toEqual({
      action: "confirm",
      reason: "unknown_digit",
      question:
        "Sorry, 7 isn't one of the options. Please press 1 for Tuesday at 10:30 or 2 for Wednesday at 2pm.",
    });
  });

  it("accepts a lone digit or a lone spoken answer as is", () => {
    expect(reconcile({ options: slots, dtmf: "1" })).toEqual({
      action: "accept",
      source: "dtmf",
      branch: "slot_selected",
      captures: { slot_choice: "1" },
    });
    expect(reconcile({ options: slots, spoken: { branch: "decline", captures: {} } })).toMatchObject({
      action: "accept",
      source: "speech",
      branch: "decline",
    });
  });

  it("never accepts a digit and a spoken digit that differ", () => {
    const words = ["one", "two", "three", "1", "2", "3", "first", "second", "third"];
    const value: Record<string, string> = {
      one: "1",
      first: "1",
      two: "2",
      second: "2",
      three: "3",
      third: "3",
    };
    fc.assert(
      fc.property(fc.constantFrom("1", "2", "3"), fc.constantFrom(...words), (dtmf, said) => {
        const r = reconcile({
          options: slots,
          dtmf,
          spoken: { branch: "unclear", captures: {}, text: said },
        });
        expect(r.action).toBe((value[said] ?? said) === dtmf ? "accept" : "confirm");
      }),
    );
  });
});
