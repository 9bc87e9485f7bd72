import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decideSpeculation,
  initialSpeculation,
  markSpeculationStarted,
  matchesSpeculation,
  observeInterim,
  type SpeculationState,
  speculationKey,
} from "../../src/turn/speculative";

const opts = { stableForMs: 250, minRepeats: 3, minWords: 1 };

function feed(steps: [string, number][]): SpeculationState {
  return steps.reduce((s, [text, at]) => observeInterim(s, text, at), initialSpeculation());
}

describe("speculation policy", () => {
  it("starts once the interim has been unchanged for stableForMs", () => {
    const s = feed([
      ["yeah", 0],
      ["yeah go", 100],
      ["Yeah, go on.", 200],
    ]);
    expect(decideSpeculation(s, 300, opts)).toEqual({ start: false, reason: "unstable" });
    expect(decideSpeculation(s, 450, opts)).toEqual({
      start: true,
      text: "Yeah, go on.",
      key: "yeah go on",
      reason: "unchanged",
    });
  });

  it("treats punctuation and case changes as the same hypothesis", () => {
    const s = feed([
      ["yes please", 0],
      ["Yes please.", 80],
      ["Yes, please.", 160],
    ]);
    expect(decideSpeculation(s, 170, opts)).toMatchObject({ start: true, reason: "repeated" });
  });

  it("restarts the clock when a word changes", () => {
    const s = feed([
      ["Tuesday", 0],
      ["Tuesday works", 240],
    ]);
    expect(decideSpeculation(s, 300, opts)).toEqual({ start: false, reason: "unstable" });
    expect(decideSpeculation(s, 490, opts).start).toBe(true);
  });

  it("waits while the caller is mid-clause or hesitating", () => {
    expect(decideSpeculation(feed([["yes but", 0]]), 1000, opts)).toEqual({
      start: false,
      reason: "dangling",
    });
    expect(decideSpeculation(feed([["I'd like the", 0]]), 1000, opts)).toMatchObject({ reason: "dangling" });
    expect(decideSpeculation(feed([["um", 0]]), 1000, opts)).toEqual({ start: false, reason: "empty" });
    expect(decideSpeculation(feed([["yes", 0]]), 1000, { ...opts, minWords: 2 })).toMatchObject({
      reason: "too_short",
    });
  });

  it("does not start the same speculation twice, but does for a new hypothesis", () => {
    let s = feed([["yes", 0]]);
    const d = decideSpeculation(s, 300, opts);
    expect(d.start).toBe(true);
    if (d.start) s = markSpeculationStarted(s, d.key);
    expect(decideSpeculation(s, 400, opts)).toEqual({ start: false, reason: "already_started" });
    s = observeInterim(s, "yes please", 500);
    expect(decideSpeculation(s, 800, opts).start).toBe(true);
  });
});

describe("matchesSpeculation", () => {
  it("ignores case, punctuation, contractions and hesitations", () => {
    expect(matchesSpeculation("yeah go on", "Yeah, go on.")).toBe(true);
    expect(matchesSpeculation("I'm alright thanks", "um, I am alright, thanks")).toBe(true);
    expect(matchesSpeculation("half 10.30", "Half 10:30")).toBe(true);
  });

  it("discards when the final transcript adds, drops or changes a word", () => {
    expect(matchesSpeculation("yes", "yes but not Tuesday")).toBe(false);
    expect(matchesSpeculation("yes please", "yes")).toBe(false);
    expect(matchesSpeculation("Tuesday", "Thursday")).toBe(false);
    expect(matchesSpeculation("", "")).toBe(false);
  });

  it("is symmetric and agrees with key equality for arbitrary text", () => {
    const word = fc.constantFrom("yes", "no", "Um", "erm,", "Tuesday", "don't", "do not", "go", "on.", "?");
    const text = fc.array(word, { maxLength: 6 }).map((w) => w.join(" "));
    fc.assert(
      fc.property(text, text, (a, b) => {
        expect(matchesSpeculation(a, b)).toBe(matchesSpeculation(b, a));
        expect(matchesSpeculation(a, b)).toBe(
          speculationKey(a) !== "" && speculationKey(a) === speculationKey(b),
        );
      }),
    );
  });

  it("never starts on a hypothesis that is still changing faster than stableForMs", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 249 }), { minLength: 1, maxLength: 10 }), (gaps) => {
        let s = initialSpeculation();
        let at = 0;
        gaps.forEach((gap, i) => {
          at += gap;
          s = observeInterim(s, `word${i} `.repeat(i + 1), at);
          expect(decideSpeculation(s, at + gap - 1, opts).start).toBe(false);
        });
      }),
    );
  });
});
