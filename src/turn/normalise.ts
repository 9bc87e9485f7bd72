// Isolates turning a caller transcript into comparable word tokens (case, punctuation, contractions).

/** A normalised word with the index of the clause (split on , . ; ! ? and dashes) it came from. */
export interface Token {
  word: string;
  clause: number;
}

/** Spellings STT emits without an apostrophe, expanded the same way as their contracted forms. */
const BARE_CONTRACTIONS: Readonly<Record<string, string>> = {
  im: "i am",
  ive: "i have",
  dont: "do not",
  didnt: "did not",
  doesnt: "does not",
  cant: "can not",
  cannot: "can not",
  wont: "will not",
  isnt: "is not",
  arent: "are not",
  wasnt: "was not",
  whos: "who is",
  thats: "that is",
  its: "it is",
  youre: "you are",
  theyre: "they are",
  lets: "let us",
  id: "i would",
  ill: "i will",
  ya: "yeah",
};

/** Words that carry no meaning in a short reply (hesitations). */
export const HESITATIONS: ReadonlySet<string> = new Set(["um", "umm", "uh", "er", "erm", "ah", "hmm", "eh"]);

function expandContractions(lower: string): string {
  return lower
    .replace(/[\u2018\u2019\u02bc`]/g, "'")
    .replace(/\bo'clock\b/g, "oclock")
    .replace(/\blet's\b/g, "let us")
    .replace(/\bcan't\b/g, "can not")
    .replace(/\bwon't\b/g, "will not")
    .replace(/\bain't\b/g, "is not")
    .replace(/n't\b/g, " not")
    .replace(/'s\b/g, " is")
    .replace(/'m\b/g, " am")
    .replace(/'re\b/g, " are")
    .replace(/'ll\b/g, " will")
    .replace(/'ve\b/g, " have")
    .replace(/'d\b/g, " would");
}

/**
 * Tokenise a transcript: lower-case, contractions expanded ("don't" -> "do not"), times kept
 * ("10.30" -> "10:30"), hyphenated backchannels split ("mm-hm" -> "mm hm"), other punctuation
 * dropped but remembered as clause boundaries.
 */
export function tokenize(text: string): Token[] {
  const lower = expandContractions(text.toLowerCase()).replace(/(\d)\.(\d)/g, "$1:$2");
  const tokens: Token[] = [];
  let clause = 0;
  for (const piece of lower.split(/([,.;!?\u2013\u2014]|\s-\s|\.\.\.)/)) {
    if (/^([,.;!?\u2013\u2014]|\s-\s|\.\.\.)$/.test(piece)) {
      clause += 1;
      continue;
    }
    for (const raw of piece.split(/[\s-]+/)) {
      const cleaned = raw.replace(/[^a-z0-9:£]/g, "");
      if (cleaned === "") continue;
      const expanded = BARE_CONTRACTIONS[cleaned] ?? cleaned;
      for (const word of expanded.split(" ")) tokens.push({ word, clause });
    }
  }
  return tokens;
}

/** Tokenise and return only the words. */
export function words(text: string): string[] {
  return tokenize(text).map((t) => t.word);
}
