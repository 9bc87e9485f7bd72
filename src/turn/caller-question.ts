// Isolates spotting the questions a caller asks about the call itself (who, AI, why, where from, recorded) and phrasing short truthful answers.
import { type Token, tokenize } from "./normalise";

/** What a caller asked about the call itself, in the order the answers are spoken. */
export const CALLER_QUESTION_KINDS = ["identity", "ai", "purpose", "source", "recording"] as const;
export type CallerQuestionKind = (typeof CALLER_QUESTION_KINDS)[number];

const SPEAK = "(?:speaking|talking|chatting|through)";
const MACHINE =
  "(?:robot|machine|computer|bot|chat ?bot|ai|a i|artificial intelligence|automated|automatic|recorded message|a recording|real person|real human|human|human being|person|actual person|live person|real|for real)";
const SUBJECT = "(?:this|the|this call|the call|this conversation|the conversation|it|calls|this phone call)";
const DETAILS =
  "(?:number|phone number|mobile number|mobile|details|contact details|information|info|data|name|email)";

/** Patterns over normalised words (contractions expanded: "who's" is "who is"). */
const PATTERNS: Readonly<Record<CallerQuestionKind, readonly RegExp[]>> = {
  identity: [
    /\bwho (?:is|was) (?:this|that|it)\b(?! for\b| about\b)/,
    /\bwho (?:is|was) (?:calling|speaking|ringing|phoning|asking)\b/,
    /\bwho are you\b/,
    /\bwho (?:am i|are we) (?:speaking|talking) (?:to|with)\b/,
    /\bwhere are you (?:calling|ringing|phoning) from\b/,
    /\bwho did you say (?:you were|you are|it was|it is|this is|this was|you work for)\b/,
    /\bwhat company (?:is this|is it|are you)\b/,
    /\bwho do you (?:work for|represent)\b/,
    /\bwhat (?:is|was|did you say) your name\b/,
    /\bwho wants to know\b/,
    /\bsorry who$/,
    /^who$/,
  ],
  ai: [
    new RegExp(`\\b(?:am i|are we) ${SPEAK} (?:to|with) (?:a |an )?${MACHINE}\\b`),
    new RegExp(
      `\\b(?:is this|is that|is it|are you|you are)(?: just| like| some sort of| some kind of| one of those)? (?:a |an )?${MACHINE}\\b`,
    ),
  ],
  purpose: [
    /\bwhy (?:are|were|did|do|would|have) you (?:calling|ringing|phoning|contacting|call|ring|phone|contact|called|rung|phoned)\b/,
    /\bwhat (?:is|was) (?:this|it|that|the call|this call|your call) (?:about|regarding|concerning|in regards to|in relation to|in reference to)\b/,
    /\bwhat are you (?:calling|ringing|phoning) (?:about|for|regarding)\b/,
    /\bwhat (?:do|did) you want\b/,
    /\bwhat (?:is|was) the reason (?:for|of) (?:the|this|your) call\b/,
    /\bis this (?:a )?(?:sales|marketing|cold) call\b/,
    /\bwhat are you (?:selling|after)\b/,
  ],
  source: [
    new RegExp(
      `\\b(?:how|where) (?:did|do|would|have|had) you (?:get|got|find|obtain|source) (?:hold of )?(?:my|this|our|the) ${DETAILS}\\b`,
    ),
    new RegExp(`\\bwho gave you (?:my|this|our|the) ${DETAILS}\\b`),
    new RegExp(`\\bhow (?:do|did) you (?:have|know) (?:my|this|our) ${DETAILS}\\b`),
    new RegExp(`\\bwhere (?:is|was|are|were) (?:my|this|our) ${DETAILS} from\\b`),
    /\bhow did you find (?:me|us)\b/,
  ],
  recording: [
    new RegExp(
      `\\b(?:is|are|will|was) ${SUBJECT} (?:being |going to be |be )?(?:recorded|taped|monitored)\\b`,
    ),
    /\b(?:is|are) we (?:being )?(?:recorded|taped|monitored)\b/,
    /\bam i being (?:recorded|taped|monitored)\b/,
    /\bare you (?:recording|taping|monitoring)\b/,
    /\bdo you (?:record|tape|monitor) (?:this|these|the|your|my|our)\b/,
    /\b(?:is this|is it) (?:a )?recorded (?:line|call)\b/,
  ],
};

/**
 * The questions about the call itself that a turn asks, in answer order, without duplicates.
 * Matches whole phrasings over normalised words, so "yes. wait, am I talking to a robot?" finds `ai`
 * while "who is this for?" or "I'd like to speak to a person" find nothing.
 */
export function detectCallerQuestions(input: string | readonly Token[]): CallerQuestionKind[] {
  const tokens = typeof input === "string" ? tokenize(input) : input;
  if (tokens.length === 0) return [];
  // Each clause on its own too, so "sorry, who?" is anchored the way it is spoken.
  const clauses = new Map<number, string[]>();
  for (const t of tokens) clauses.set(t.clause, [...(clauses.get(t.clause) ?? []), t.word]);
  const texts = [tokens.map((t) => t.word).join(" "), ...[...clauses.values()].map((w) => w.join(" "))];
  return CALLER_QUESTION_KINDS.filter((kind) => PATTERNS[kind].some((re) => texts.some((t) => re.test(t))));
}

/** What the call may truthfully say about itself. Missing names are left out of the answer, never guessed. */
export interface CallerFacts {
  direction: "outbound" | "inbound";
  agentName?: string;
  businessName?: string;
  /** Completes "I'm calling … ": e.g. "to ask whether you'd like a quote". */
  purpose?: string;
  /** Where the lead came from, e.g. "the enquiry form on our website". */
  leadSource?: string;
  /** Whether this call is recorded (the flow disclosed recording in its opening state). */
  recorded: boolean;
  /** The caller can ask for a person from where the call is now. */
  personAvailable: boolean;
}

function who(f: CallerFacts, ai: boolean): string {
  const name = f.agentName ? `${f.agentName}, ` : "";
  const what = ai ? "an automated AI assistant" : "an automated assistant";
  const from = f.businessName
    ? ` ${f.direction === "outbound" ? "calling from" : "for"} ${f.businessName}`
    : "";
  return `I'm ${name}${what}${from}${ai ? ", not a real person" : ""}.`;
}

function purpose(f: CallerFacts): string {
  if (f.direction === "inbound")
    return f.businessName ? `You've reached ${f.businessName}, and I'm here to help with your call.` : "";
  const on = f.businessName ? ` from ${f.businessName}` : "";
  return f.purpose
    ? `I'm calling${on} ${f.purpose}.`
    : f.businessName
      ? `I'm calling on behalf of ${f.businessName}.`
      : "";
}

function source(f: CallerFacts): string {
  if (f.direction === "inbound") return "I only have the number you're calling from.";
  if (f.leadSource) return `We have your details from ${f.leadSource}.`;
  return "I'm afraid I can't see where your number came from. If you'd rather we didn't call you, just say stop calling.";
}

function recording(f: CallerFacts): string {
  return f.recorded
    ? "Yes, this call is recorded and transcribed."
    : "This call isn't recorded, but it is transcribed so we can act on what you say.";
}

/**
 * One short truthful answer covering every kind asked, in a fixed order. Any question about who is
 * speaking says plainly that it is an automated assistant (UK disclosure), and an AI question adds
 * that a person is available only when the call can actually reach one from here.
 */
export function answerCallerQuestions(kinds: readonly CallerQuestionKind[], facts: CallerFacts): string {
  const asked = new Set(kinds);
  const parts: string[] = [];
  if (asked.has("identity") || asked.has("ai")) parts.push(who(facts, asked.has("ai")));
  if (asked.has("ai") && facts.personAvailable) parts.push("If you'd rather speak to a person, just say so.");
  if (asked.has("purpose")) parts.push(purpose(facts));
  if (asked.has("source")) parts.push(source(facts));
  if (asked.has("recording")) parts.push(recording(facts));
  return parts.filter((p) => p !== "").join(" ");
}
