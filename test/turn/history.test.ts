import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  addAgentLine,
  addCallerLine,
  buildCallSystem,
  buildPromptParts,
  createHistory,
  heardLine,
  INTERRUPTED_MARK,
} from "../../src/turn/history";

const line = "Great — I've got Tuesday 10:30 or Wednesday 2:00. Which works for you?";

describe("heardLine", () => {
  it("keeps a fully played line as is", () => {
    expect(heardLine({ text: line })).toBe(line);
  });

  it("keeps only the heard prefix of an interrupted line and marks it", () => {
    expect(heardLine({ text: line, heard: "Great — I've got Tuesday" })).toBe(
      `Great — I've got Tuesday ${INTERRUPTED_MARK}`,
    );
    expect(heardLine({ text: line, heard: 20 })).toBe(`Great — I've got ${INTERRUPTED_MARK}`);
  });

  it("drops a line the caller heard none of", () => {
    expect(heardLine({ text: line, heard: "" })).toBeUndefined();
    expect(heardLine({ text: line, heard: 3 })).toBeUndefined();
  });

  it("never keeps more words than were heard, for any cut point", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: line.length + 5 }), (chars) => {
        const kept = heardLine({ text: line, heard: chars });
        if (kept === undefined) return;
        const body = kept.endsWith(INTERRUPTED_MARK) ? kept.slice(0, -INTERRUPTED_MARK.length).trim() : kept;
        expect(line.startsWith(body)).toBe(true);
        expect(body.length).toBeLessThanOrEqual(chars);
        expect(kept.endsWith(INTERRUPTED_MARK)).toBe(chars < line.length);
      }),
    );
  });
});

describe("conversation history", () => {
  it("records caller and agent lines in order with LLM roles", () => {
    let h = createHistory();
    h = addAgentLine(h, { text: "Hi, is this Sam?" });
    h = addCallerLine(h, " yeah ");
    h = addAgentLine(h, { text: line, heard: "Great — I've got" });
    h = addCallerLine(h, "");
    h = addCallerLine(h, "Tuesday");
    expect(h.entries).toEqual([
      { role: "assistant", text: "Hi, is this Sam?" },
      { role: "user", text: "yeah" },
      { role: "assistant", text: `Great — I've got ${INTERRUPTED_MARK}` },
      { role: "user", text: "Tuesday" },
    ]);
  });

  it("keeps the newest lines within the entry and character bounds", () => {
    let h = createHistory({ maxEntries: 3, maxChars: 12 });
    for (const t of ["one", "two", "three", "four", "five"]) h = addCallerLine(h, t);
    expect(h.entries.map((e) => e.text)).toEqual(["four", "five"]);
    h = addCallerLine(h, "a very long final line");
    expect(h.entries.map((e) => e.text)).toEqual(["a very long final line"]);
  });

  it("stays within bounds for any sequence of lines", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.string({ minLength: 1, maxLength: 30 })), { maxLength: 40 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 80 }),
        (lines, maxEntries, maxChars) => {
          let h = createHistory({ maxEntries, maxChars });
          for (const [caller, text] of lines) h = caller ? addCallerLine(h, text) : addAgentLine(h, { text });
          expect(h.entries.length).toBeLessThanOrEqual(maxEntries);
          const chars = h.entries.reduce((n, e) => n + e.text.length, 0);
          if (h.entries.length > 1) expect(chars).toBeLessThanOrEqual(maxChars);
        },
      ),
    );
  });

  it("rejects empty bounds", () => {
    expect(() => createHistory({ maxEntries: 0, maxChars: 10 })).toThrow(RangeError);
  });
});

describe("per-call prompt parts", () => {
  const context = {
    persona: "You are Nova from Quantum.",
    facts: { first_name: "Sam", company: "Acme", slots: 2 },
  };

  it("renders the per-call system text independent of fact order", () => {
    const reordered = { persona: context.persona, facts: { slots: 2, company: "Acme", first_name: "Sam" } };
    expect(buildCallSystem(reordered)).toBe(buildCallSystem(context));
    expect(buildCallSystem(context)).toBe(
      "You are Nova from Quantum.\ncompany: Acme\nfirst_name: Sam\nslots: 2",
    );
  });

  it("keeps every earlier turn's prompt a byte prefix of the next while within bounds", () => {
    let h = createHistory({ maxEntries: 100, maxChars: 100_000 });
    let previous = "";
    for (const [agent, caller] of [
      ["Is this Sam?", "yes"],
      ["Are you evaluating AI?", "we are"],
      [line, "Tuesday"],
    ] as const) {
      h = addAgentLine(h, { text: agent });
      h = addCallerLine(h, caller);
      const parts = buildPromptParts(context, h);
      const serialized = JSON.stringify([parts.system, ...parts.history]).slice(0, -1);
      expect(serialized.startsWith(previous)).toBe(true);
      previous = serialized;
    }
  });
});
