/**
 * What the outside world does during one generated call: when Twilio's AMD result comes (if ever),
 * how marks come back, what the caller says and when (including over the agent), how STT shapes each
 * turn (every legal Deepgram shape), which provider requests fail, when the STT socket drops, and when
 * the caller hangs up. Plain data, so a failing case prints and replays exactly.
 */
import fc from "fast-check";
import { ANSWERED_BY } from "../script";
import type { MarkPolicy } from "./phone";
import type { LlmFault, TtsFault } from "./providers";

/** What the caller does in one act. */
export const CALLER_SAYS = {
  yes: "yes speaking",
  no: "no sorry",
  positive: "we are looking at that this quarter",
  slot: "the first one please",
  optout: "stop calling me",
  backchannel: "mm-hm",
  hello: "hello?",
  hesitation: "um let me think",
  mailbox: "hi you have reached sam please leave a message after the tone",
  robot: "yes wait am i talking to a robot",
  who: "who is this",
} as const;
export type CallerWords = keyof typeof CALLER_SAYS;

/** How STT reports one spoken turn (all legal per protocols.md §Deepgram). */
export type SttShape =
  | "speech_final"
  | "final_then_utterance_end"
  | "speech_final_and_utterance_end"
  | "split_finals"
  | "late_final"
  | "interims_only";

export type ActTiming =
  /** Speak once the agent has been quiet this long. */
  | { kind: "after_agent"; gapMs: number }
  /** Talk over the agent this far into its next audio. */
  | { kind: "barge"; intoMs: number }
  /** Speak this long after the previous act, whatever the agent is doing. */
  | { kind: "after_previous"; delayMs: number };

export type CallerAct =
  | { kind: "speak"; words: CallerWords; stt: SttShape; timing: ActTiming }
  | { kind: "noise"; timing: ActTiming }
  | { kind: "dtmf"; digit: string; timing: ActTiming };

export interface Scenario {
  /** Twilio's asynchronous AMD results, at ms after answer (none: AMD off or never delivered). */
  amd: { answeredBy: (typeof ANSWERED_BY)[number]; atMs: number }[];
  marks: MarkPolicy;
  acts: CallerAct[];
  llmFaults: LlmFault[];
  ttsFaults: TtsFault[];
  /** The STT socket closes at this time (the engine must reconnect). */
  sttDropAtMs: number | null;
  /** The caller hangs up at this time. */
  hangupAtMs: number | null;
  /** How many times Twilio delivers the terminal status callback (1–3), and whether one comes before `stop`. */
  statusCallbacks: { count: number; beforeStop: boolean };
  /** Deterministic lines pre-rendered in the cache. */
  warmCache: boolean;
  /** How long business actions (calendar, CRM) take to answer. */
  actionMs: number;
  /** The call's Durable Object instance dies (a deploy evicts it, or its media socket drops) and the call resumes. */
  restart: { atMs: number; kind: "evict" | "reconnect" } | null;
}

const timing: fc.Arbitrary<ActTiming> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("after_agent" as const),
      gapMs: fc.integer({ min: 100, max: 2_500 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("barge" as const),
      intoMs: fc.integer({ min: 100, max: 2_500 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("after_previous" as const),
      delayMs: fc.integer({ min: 0, max: 4_000 }),
    }),
  },
);

const words = fc.constantFrom(...(Object.keys(CALLER_SAYS) as CallerWords[]));
const sttShape = fc.constantFrom<SttShape>(
  "speech_final",
  "final_then_utterance_end",
  "speech_final_and_utterance_end",
  "split_finals",
  "late_final",
  "interims_only",
);

const act: fc.Arbitrary<CallerAct> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant("speak" as const), words, stt: sttShape, timing }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("noise" as const), timing }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("dtmf" as const),
      digit: fc.constantFrom("1", "2", "9"),
      timing,
    }),
  },
);

/** Every scenario the property suite explores. */
export const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  amd: fc.oneof(
    { weight: 1, arbitrary: fc.constant<Scenario["amd"]>([]) },
    {
      weight: 4,
      arbitrary: fc.array(
        fc.record({ answeredBy: fc.constantFrom(...ANSWERED_BY), atMs: fc.integer({ min: 0, max: 12_000 }) }),
        { minLength: 1, maxLength: 2 },
      ),
    },
  ),
  marks: fc.constantFrom<MarkPolicy>("prompt", "prompt", "late", "burst"),
  acts: fc.array(act, { maxLength: 7 }),
  llmFaults: fc.array(fc.constantFrom<LlmFault>("ok", "ok", "ok", "429", "500", "hang", "slow"), {
    maxLength: 6,
  }),
  ttsFaults: fc.array(fc.constantFrom<TtsFault>("ok", "ok", "ok", "slow", "cut", "fail"), { maxLength: 6 }),
  sttDropAtMs: fc.option(fc.integer({ min: 500, max: 40_000 }), { freq: 4 }),
  hangupAtMs: fc.option(fc.integer({ min: 1_000, max: 90_000 }), { freq: 3 }),
  statusCallbacks: fc.record({ count: fc.integer({ min: 1, max: 3 }), beforeStop: fc.boolean() }),
  warmCache: fc.boolean(),
  actionMs: fc.integer({ min: 50, max: 6_000 }),
  restart: fc.option(
    fc.record({
      atMs: fc.integer({ min: 500, max: 40_000 }),
      kind: fc.constantFrom<"evict" | "reconnect">("evict", "reconnect"),
    }),
    { freq: 4 },
  ),
});
