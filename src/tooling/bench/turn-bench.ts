/**
 * Turn benchmark (Node): fast-path share and precision on the labelled corpus and its share and
 * agreement on the replay suite's labelled turns, chunker first-phrase latency, classifier throughput.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getFlow } from "../../call/flows";
import { classifyFastPath, type FastPathInput } from "../../turn/fast-path";
import { FastPathCorpusSchema, scoreFastPathCorpus } from "../../turn/fast-path-corpus";
import { createPhraseChunker, type PhraseChunkerOptions } from "../../turn/phrase-chunker";
import { scoreFastPathOnReplay } from "../simulator/replay-fast-path";
import { parseReplayCase } from "../simulator/script";

/** One reported figure. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
}

const CORPUS = fileURLToPath(new URL("../../../test/turn/fixtures/fast-path-corpus.json", import.meta.url));
const REPLAY_CASES = fileURLToPath(new URL("../../../test/replay/cases", import.meta.url));

/** The fast path on every spoken, labelled turn of the replay suite. */
function replayRows(): BenchResult[] {
  const cases = readdirSync(REPLAY_CASES)
    .filter((f) => f.endsWith(".json"))
    .map((f) => {
      const replay = parseReplayCase(readFileSync(join(REPLAY_CASES, f), "utf8"), f);
      const flow = getFlow(replay.flow);
      if (!flow) throw new Error(`${f}: unknown flow ${replay.flow}`);
      return { replay, flow };
    });
  const s = scoreFastPathOnReplay(cases);
  return [
    { name: "fast_path.replay_turns", value: s.turns, unit: "turns" },
    { name: "fast_path.replay_share", value: (100 * s.decided) / Math.max(1, s.turns), unit: "%" },
    {
      name: "fast_path.replay_agreement",
      value: (100 * s.agreed) / Math.max(1, s.decided),
      unit: "% of decided",
    },
  ];
}

/** Chunker settings compared: one clause threshold for all phrases, and a lower one for the first phrase. */
const CHUNKERS: readonly { name: string; options: PhraseChunkerOptions }[] = [
  { name: "chunker", options: { minChars: 12, maxChars: 120 } },
  { name: "chunker_first5", options: { minChars: 12, maxChars: 120, firstMinChars: 5 } },
];

/** Typical agent replies (<= ~30 tokens, per the reference architecture). */
const REPLIES = [
  "Great — I've got Tuesday 10:30 or Wednesday 2:00. Which works for you?",
  "No problem at all. I'll send a short demo video to your email instead.",
  "Lovely, that's booked for Tuesday at half ten. You'll get a calendar invite shortly.",
  "Sorry, I didn't quite catch that. Was that Tuesday or Wednesday?",
  "Understood, I've removed your number from our list. Have a good day.",
  "It's £1,500 for the first year, which includes setup and support.",
  "Dr. Patel's team can see you on Thursday, e.g. at 9:15 or 11:45, if that suits.",
  "Of course. Could you tell me the best email for the invite?",
  "Right, so you're looking at this for next quarter, is that correct?",
  "I can put you through to a member of our team now, if you'd like.",
];

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Characters of streamed text (fed one token-sized piece at a time) before the first phrase is released. */
function firstPhraseChars(text: string, options: PhraseChunkerOptions): number {
  const chunker = createPhraseChunker(options);
  // LLM deltas are roughly word-sized: split before each space.
  const deltas = text.split(/(?=\s)/);
  let consumed = 0;
  for (const delta of deltas) {
    consumed += delta.length;
    if (chunker.push(delta).length > 0) return consumed;
  }
  return text.length;
}

/** Run the turn benchmark and return its figures. */
export async function runTurnBench(): Promise<BenchResult[]> {
  const corpus = FastPathCorpusSchema.parse(JSON.parse(readFileSync(CORPUS, "utf8")));
  const score = scoreFastPathCorpus(corpus);
  const results: BenchResult[] = [
    { name: "fast_path.corpus_turns", value: score.total, unit: "turns" },
    { name: "fast_path.share", value: (100 * score.decided) / score.total, unit: "%" },
    { name: "fast_path.precision", value: 100 * score.precision, unit: "%" },
    { name: "fast_path.abstain_share", value: 100 * score.abstainShare, unit: "%" },
    { name: "fast_path.recall_on_obvious", value: 100 * score.recall, unit: "%" },
    ...replayRows(),
  ];

  const inputs: FastPathInput[] = corpus.cases.map((c) => {
    const state = corpus.states[c.state];
    return {
      text: c.text,
      dtmf: c.dtmf,
      language: c.language,
      branches: state?.branches ?? [],
      captures: state?.captures ?? [],
      slots: state?.slots,
      dtmfMap: state?.dtmfMap,
    };
  });
  const rounds = 50;
  let decided = 0;
  const started = performance.now();
  for (let r = 0; r < rounds; r += 1) {
    for (const input of inputs) if (classifyFastPath(input).decision !== "abstain") decided += 1;
  }
  const elapsedMs = performance.now() - started;
  const calls = rounds * inputs.length;
  results.push(
    { name: "fast_path.throughput", value: Math.round((calls / elapsedMs) * 1000), unit: "turns/s" },
    { name: "fast_path.mean_time", value: (elapsedMs * 1000) / calls, unit: "µs/turn" },
    { name: "fast_path.decisions_checked", value: decided / rounds, unit: "turns" },
  );

  for (const { name, options } of CHUNKERS) {
    const firsts = REPLIES.map((r) => firstPhraseChars(r, options));
    const ratios = REPLIES.map((r, i) => (100 * (firsts[i] ?? r.length)) / r.length);
    results.push(
      { name: `${name}.first_phrase_chars_p50`, value: median(firsts), unit: "chars" },
      { name: `${name}.first_phrase_chars_max`, value: Math.max(...firsts), unit: "chars" },
      { name: `${name}.first_phrase_share_of_reply_p50`, value: median(ratios), unit: "%" },
    );
  }
  return results;
}
