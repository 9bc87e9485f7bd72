// Isolates cutting streamed LLM text into speakable phrases for TTS, the first one as early as possible.

/** Limits in characters of phrase text. */
export interface PhraseChunkerOptions {
  /** A clause boundary (comma, semicolon, colon, spaced dash) only ends a phrase this long or longer. */
  minChars: number;
  /** A phrase with no boundary is cut at the last space before this length. */
  maxChars: number;
  /**
   * minChars for the first phrase of a reply only (default minChars): a lower value lets
   * "Great —" or "Lovely," start the audio while the rest of the sentence is generated.
   */
  firstMinChars?: number;
}

/** Incremental chunker: feed LLM deltas, speak what comes out. */
export interface PhraseChunker {
  /** Add streamed text; returns the phrases completed by it (often none). */
  push(delta: string): string[];
  /** End of the reply: returns whatever is left as phrases and resets the chunker. */
  flush(): string[];
}

/** Titles and abbreviations whose full stop never ends a sentence. */
const ABBREVIATIONS = new Set([
  "mr",
  "mrs",
  "ms",
  "mx",
  "dr",
  "prof",
  "st",
  "rev",
  "sr",
  "jr",
  "capt",
  "sgt",
  "lt",
  "col",
  "gen",
  "hon",
  "e.g",
  "i.e",
  "eg",
  "ie",
  "vs",
  "cf",
  "viz",
  "approx",
  "incl",
  "tel",
  "ext",
  "dept",
  "est",
  "fig",
  "a.m",
  "p.m",
]);

const SENTENCE_END = new Set([".", "!", "?", "\u2026"]);
const CLOSERS = new Set([".", "!", "?", "\u2026", '"', "'", "\u201d", "\u2019", ")", "]"]);
const CLAUSE_END = new Set([",", ";", ":", "\u2014", "\u2013"]);

function isSpace(c: string | undefined): boolean {
  return c !== undefined && /\s/.test(c);
}

/** The word just before index `dot` (letters and inner dots), lower-cased. */
function wordBefore(text: string, dot: number): string {
  let i = dot;
  while (i > 0 && /[A-Za-z.]/.test(text[i - 1] ?? "")) i -= 1;
  return text.slice(i, dot);
}

/** Does a full stop at `dot`, followed by `next`, belong to an abbreviation or initial rather than end a sentence? */
function isAbbreviation(text: string, dot: number, next: string): boolean {
  const word = wordBefore(text, dot);
  const lower = word.toLowerCase();
  if (ABBREVIATIONS.has(lower)) return true;
  if (lower === "no" && /\d/.test(next)) return true;
  return /^[A-Z]$/.test(word);
}

type Scan = { kind: "cut"; end: number } | { kind: "wait" };

/**
 * Find where the phrase starting at `start` (a non-space) ends. The decision depends only on
 * text already present, so any way of splitting the stream into deltas yields the same phrases.
 */
function scan(buf: string, start: number, options: PhraseChunkerOptions, final: boolean): Scan {
  for (let j = start; j < buf.length; j += 1) {
    if (j - start >= options.maxChars) return forcedCut(buf, start, options, final);
    const c = buf[j] ?? "";
    if (SENTENCE_END.has(c)) {
      let k = j + 1;
      while (k < buf.length && CLOSERS.has(buf[k] ?? "")) k += 1;
      if (k === buf.length) return final ? { kind: "cut", end: k } : { kind: "wait" };
      if (!isSpace(buf[k])) {
        j = k - 1;
        continue;
      }
      const run = buf.slice(j, k);
      if (!run.includes("!") && !run.includes("?")) {
        let m = k;
        while (m < buf.length && isSpace(buf[m])) m += 1;
        if (m === buf.length) return final ? { kind: "cut", end: k } : { kind: "wait" };
        const next = buf[m] ?? "";
        // A full stop followed by a lower-case word ("approx. five") or after an abbreviation is not an end.
        if (/[a-z]/.test(next) || isAbbreviation(buf, j, next)) {
          j = k - 1;
          continue;
        }
      }
      return { kind: "cut", end: k };
    }
    const dash = c === "-" && j > start && isSpace(buf[j - 1]);
    if ((CLAUSE_END.has(c) || dash) && j + 1 - start >= options.minChars) {
      if (j + 1 === buf.length) {
        if (final) return { kind: "cut", end: j + 1 };
        return { kind: "wait" };
      }
      if (isSpace(buf[j + 1])) return { kind: "cut", end: j + 1 };
    }
  }
  return final ? { kind: "cut", end: buf.length } : { kind: "wait" };
}

/** Would cutting at `i` leave "Mr." or "e.g." dangling from the word it belongs to? */
function endsWithAbbreviation(buf: string, start: number, i: number): boolean {
  const before = buf.slice(start, i).trimEnd();
  return before.endsWith(".") && isAbbreviation(buf, start + before.length - 1, "A");
}

/** No boundary within maxChars: cut at the last space in the window (never inside a word or number). */
function forcedCut(buf: string, start: number, options: PhraseChunkerOptions, final: boolean): Scan {
  const limit = start + options.maxChars;
  for (let i = limit; i > start; i -= 1) {
    if (!isSpace(buf[i])) continue;
    if (!endsWithAbbreviation(buf, start, i)) return { kind: "cut", end: i };
  }
  for (let i = limit + 1; i < buf.length; i += 1) {
    if (isSpace(buf[i]) && !endsWithAbbreviation(buf, start, i)) return { kind: "cut", end: i };
  }
  return final ? { kind: "cut", end: buf.length } : { kind: "wait" };
}

/**
 * Create a phrase chunker. A phrase ends at a sentence end (. ! ? followed by a space; a
 * full stop also needs the next word to start with a capital or digit and not to follow an
 * abbreviation such as "Mr." or "e.g."), or at a clause boundary (, ; : or a spaced dash)
 * once it is at least `minChars` long, or at the last space before `maxChars`. Punctuation
 * not followed by a space ("10:30", "£1,500", "3.5") never ends a phrase. Phrases are
 * trimmed; joined with single spaces they reproduce the input modulo whitespace.
 */
export function createPhraseChunker(options: PhraseChunkerOptions): PhraseChunker {
  const firstMinChars = options.firstMinChars ?? options.minChars;
  if (
    !(
      options.minChars >= 1 &&
      firstMinChars >= 1 &&
      options.maxChars >= Math.max(options.minChars, firstMinChars)
    )
  ) {
    throw new RangeError("phrase chunker needs 1 <= minChars, firstMinChars <= maxChars");
  }
  const first: PhraseChunkerOptions = { ...options, minChars: firstMinChars };
  let buf = "";
  let emitted = 0;
  const drain = (final: boolean): string[] => {
    const out: string[] = [];
    for (;;) {
      const start = buf.search(/\S/);
      if (start === -1) {
        buf = final ? "" : buf;
        return out;
      }
      const result = scan(buf, start, emitted === 0 ? first : options, final);
      if (result.kind === "wait") {
        buf = buf.slice(start);
        return out;
      }
      const phrase = buf.slice(start, result.end).trim();
      if (phrase !== "") {
        out.push(phrase);
        emitted += 1;
      }
      buf = buf.slice(result.end);
    }
  };
  return {
    push(delta) {
      buf += delta;
      return drain(false);
    },
    flush() {
      const out = drain(true);
      buf = "";
      emitted = 0;
      return out;
    },
  };
}
