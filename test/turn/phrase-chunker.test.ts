import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createPhraseChunker, type PhraseChunkerOptions } from "../../src/turn/phrase-chunker";

function run(text: string, options: PhraseChunkerOptions, cuts: readonly number[] = []): string[] {
  const chunker = createPhraseChunker(options);
  const out: string[] = [];
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    out.push(...chunker.push(text.slice(at, cut)));
    at = cut;
  }
  out.push(...chunker.push(text.slice(at)));
  out.push(...chunker.flush());
  return out;
}

const norm = (s: string): string => s.replace(/\s+/g, " ").trim();

/** Feed one character at a time; return the phrases and how many characters the first one needed. */
function firstPhraseAfter(text: string, options: PhraseChunkerOptions): { first: string; chars: number } {
  const chunker = createPhraseChunker(options);
  for (let i = 0; i < text.length; i += 1) {
    const [first] = chunker.push(text[i] ?? "");
    if (first !== undefined) return { first, chars: i + 1 };
  }
  return { first: chunker.flush()[0] ?? "", chars: text.length };
}

const opts = { minChars: 12, maxChars: 80 };

describe("createPhraseChunker", () => {
  it("emits the first sentence as soon as the next word starts", () => {
    const text = "Great. I've got Tuesday 10:30 or Wednesday 2:00. Which works for you?";
    expect(firstPhraseAfter(text, opts)).toEqual({ first: "Great.", chars: 8 });
    expect(run(text, opts)).toEqual([
      "Great.",
      "I've got Tuesday 10:30 or Wednesday 2:00.",
      "Which works for you?",
    ]);
  });

  it("ends a phrase at a clause boundary only after minChars", () => {
    const text = "Right, so I can book you in for Tuesday at 10:30, or Wednesday at two.";
    expect(run(text, opts)).toEqual([
      "Right, so I can book you in for Tuesday at 10:30,",
      "or Wednesday at two.",
    ]);
    expect(run("Great — I've got Tuesday free.", { minChars: 5, maxChars: 80 })).toEqual([
      "Great —",
      "I've got Tuesday free.",
    ]);
  });

  it("never splits times, amounts, decimals or abbreviations", () => {
    expect(run("It costs £1,500, which covers 2.5 hours.", { minChars: 5, maxChars: 80 })).toEqual([
      "It costs £1,500,",
      "which covers 2.5 hours.",
    ]);
    expect(run("Dr. Patel can see you at 10:30. Does that work?", opts)).toEqual([
      "Dr. Patel can see you at 10:30.",
      "Does that work?",
    ]);
    expect(run("Bring ID, e.g. a passport. Mr. Jones will meet you.", { minChars: 5, maxChars: 80 })).toEqual(
      ["Bring ID,", "e.g. a passport.", "Mr. Jones will meet you."],
    );
    expect(run("We're at No. 5 High Street. No. I can't.", opts)).toEqual([
      "We're at No. 5 High Street.",
      "No.",
      "I can't.",
    ]);
    expect(run("It's approx. five minutes from J. Smith's office.", opts)).toEqual([
      "It's approx. five minutes from J. Smith's office.",
    ]);
  });

  it("keeps closing quotes and brackets with their sentence", () => {
    expect(run('He said "yes." Then he left!) OK?', opts)).toEqual([
      'He said "yes."',
      "Then he left!)",
      "OK?",
    ]);
  });

  it("cuts an over-long phrase at the last space before maxChars", () => {
    const text = "one two three four five six seven eight nine ten eleven twelve";
    const phrases = run(text, { minChars: 5, maxChars: 20 });
    expect(phrases).toEqual(["one two three four", "five six seven eight", "nine ten eleven", "twelve"]);
  });

  it("can release the first phrase of a reply at a lower clause threshold", () => {
    const text = "Lovely, that's booked for Tuesday at half ten, see you then.";
    const options = { minChars: 12, maxChars: 80, firstMinChars: 5 };
    expect(run(text, options)).toEqual([
      "Lovely,",
      "that's booked for Tuesday at half ten,",
      "see you then.",
    ]);
    expect(run(text, { minChars: 12, maxChars: 80 })).toEqual([
      "Lovely, that's booked for Tuesday at half ten,",
      "see you then.",
    ]);
    const chunker = createPhraseChunker(options);
    chunker.push(text);
    chunker.flush();
    expect(chunker.push("Right, so. ")).toEqual(["Right,"]);
  });

  it("rejects nonsensical limits", () => {
    expect(() => createPhraseChunker({ minChars: 0, maxChars: 10 })).toThrow(RangeError);
    expect(() => createPhraseChunker({ minChars: 20, maxChars: 10 })).toThrow(RangeError);
  });

  const pieces = [
    "Great",
    "Tuesday",
    "10:30",
    "£1,500",
    "e.g.",
    "Mr.",
    "Dr.",
    "No.",
    "3.5",
    "ok",
    "a",
    "—",
    "-",
    "...",
    ".",
    ",",
    "!",
    "?",
    ":",
    ";",
    '"',
    ")",
    "I've",
    "supercalifragilistic",
  ];
  const textArb = fc
    .array(fc.tuple(fc.constantFrom(...pieces), fc.constantFrom("", " ", "  ", "\n")), { maxLength: 40 })
    .map((parts) => parts.map(([w, sep]) => w + sep).join(""));
  const optionsArb = fc
    .tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 40 }))
    .map(([minChars, extra, firstMinChars]) => ({
      minChars,
      firstMinChars: Math.min(firstMinChars, minChars),
      maxChars: minChars + extra,
    }));
  const cutsArb = (text: string) => fc.array(fc.integer({ min: 0, max: text.length }), { maxLength: 12 });

  it("reproduces the input (modulo whitespace) for any chunking of the stream", () => {
    fc.assert(
      fc.property(
        textArb.chain((t) => fc.tuple(fc.constant(t), cutsArb(t), optionsArb)),
        ([text, cuts, options]) => {
          const phrases = run(text, options, cuts);
          expect(norm(phrases.join(" "))).toBe(norm(text));
          for (const p of phrases) expect(p).toBe(p.trim());
          for (const p of phrases) expect(p).not.toBe("");
        },
      ),
      { numRuns: 300 },
    );
  });

  it("emits the same phrases however the stream is split", () => {
    fc.assert(
      fc.property(
        textArb.chain((t) => fc.tuple(fc.constant(t), cutsArb(t), optionsArb)),
        ([text, cuts, options]) => {
          expect(run(text, options, cuts)).toEqual(run(text, options));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("never leaves an abbreviation dangling at the end of a non-final phrase", () => {
    fc.assert(
      fc.property(
        textArb.chain((t) => fc.tuple(fc.constant(t), cutsArb(t), optionsArb)),
        ([text, cuts, options]) => {
          const phrases = run(text, options, cuts);
          for (const p of phrases.slice(0, -1)) expect(p).not.toMatch(/(^|\s)(Mr|Dr|e\.g)\.$/);
        },
      ),
      { numRuns: 300 },
    );
  });
});
