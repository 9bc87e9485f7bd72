// Isolates the UK English phrase lists the fast-path classifier matches whole turns against.

/** What a matched phrase contributes to a turn. */
export type PhraseKind = "yes" | "no" | "filler" | "identity";

/** One phrase as normalised words (see normalise.ts: contractions are already expanded). */
export interface Phrase {
  words: readonly string[];
  kind: PhraseKind;
  /** How sure the phrase alone makes us of its polarity (0..1). */
  confidence: number;
}

const YES_STRONG = [
  "yes",
  "yeah",
  "yep",
  "yup",
  "yea",
  "yes please",
  "aye",
  "of course",
  "certainly",
  "definitely",
  "absolutely",
  "sure",
  "sure thing",
  "go on",
  "go on then",
  "go ahead",
  "please do",
  "that is right",
  "that is correct",
  "correct",
  "that is me",
  "speaking",
  "it is",
  "he is",
  "she is",
  "we are",
  "i am",
  "we do",
  "i do",
  "i would",
  "we would",
  "yes it is",
  "yes we are",
];

const YES_SOFT = [
  "why not",
  "sounds good",
  "sounds great",
  "sounds lovely",
  "that would be great",
  "that would be good",
  "that would be lovely",
  "that would be brilliant",
  "that is fine",
  "that is great",
  "that is perfect",
  "perfect",
  "lovely",
  "brilliant",
  "great",
  "fine",
  "ok",
  "okay",
  "ok then",
  "okay then",
  "alright then",
  "mm hm",
  "mhm",
  "uh huh",
];

const NO_STRONG = [
  "no",
  "nope",
  "nah",
  "no thanks",
  "no thank you",
  "no ta",
  "no way",
  "definitely not",
  "absolutely not",
  "certainly not",
  "of course not",
  "not at all",
  "not interested",
  "i am not interested",
  "we are not interested",
  "not for me",
  "not really",
  "not right now",
  "not now",
  "not today",
  "not at the moment",
  "wrong number",
  "it is not",
  "it is not me",
  "he is not",
  "she is not",
  "we are not",
  "i am not",
  "we do not",
  "i do not",
  "that is wrong",
  "that is not right",
  "that is incorrect",
  "incorrect",
  "wrong",
];

const NO_SOFT = [
  // UK politeness: "I'm alright / you're alright (thanks)" declines an offer.
  "i am alright",
  "i am good",
  "i am fine",
  "i am ok",
  "i am okay",
  "you are alright",
  "you are ok",
  "i do not think so",
  "do not think so",
  "no need",
  "do not bother",
];

const FILLERS = [
  "um",
  "umm",
  "uh",
  "er",
  "erm",
  "ah",
  "oh",
  "well",
  "hmm",
  "so",
  "right",
  "please",
  "thanks",
  "thank you",
  "thanks very much",
  "thank you very much",
  "cheers",
  "ta",
  "mate",
  "love",
  "sorry",
  "hello",
  "hi",
  "hiya",
  "then",
];

const IDENTITY = [
  "who is this",
  "who is that",
  "who is it",
  "who is calling",
  "who is speaking",
  "who are you",
  "who are you with",
  "who am i speaking to",
  "who am i speaking with",
  "who am i talking to",
  "who am i talking with",
  "where are you calling from",
  "who did you say you were",
  "who did you say it was",
  "what company is this",
  "what company are you from",
  "sorry who",
];

function build(list: readonly string[], kind: PhraseKind, confidence: number): Phrase[] {
  return list.map((p) => ({ words: p.split(" "), kind, confidence }));
}

/** Every phrase, longest first so greedy matching prefers "no thank you" over "no". */
export const PHRASES: readonly Phrase[] = [
  ...build(YES_STRONG, "yes", 0.97),
  ...build(YES_SOFT, "yes", 0.85),
  ...build(NO_STRONG, "no", 0.97),
  ...build(NO_SOFT, "no", 0.85),
  ...build(FILLERS, "filler", 1),
  ...build(IDENTITY, "identity", 0.95),
].sort((a, b) => b.words.length - a.words.length);

/** Branch names that take a "yes", in order of preference. */
export const YES_BRANCHES = [
  "yes",
  "positive",
  "confirmed",
  "confirm",
  "available",
  "accept",
  "agree",
  "interested",
];
/** Branch names that take a "no", in order of preference. */
export const NO_BRANCHES = [
  "no",
  "negative",
  "not_available",
  "decline",
  "declined",
  "not_interested",
  "reject",
];
/** Branch names that take "who is this?". */
export const IDENTITY_BRANCHES = [
  "who_is_this",
  "who_is_calling",
  "identity",
  "identity_question",
  "ask_identity",
  "who",
];

/** Longest number of words a turn may have and still be decided by phrase matching. */
export const MAX_PHRASE_TURN_WORDS = 12;
