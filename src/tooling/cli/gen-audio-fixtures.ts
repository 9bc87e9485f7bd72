/** Regenerates the speech fixtures in test/fixtures/audio (espeak-ng + sox -> raw 8 kHz µ-law) and their manifest. */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { FRAME_BYTES, FRAME_MS, mulawDbfs } from "../../audio/mulaw";

/** One fixture: what was said, by which espeak-ng voice, and whether it is a full utterance or a backchannel. */
interface FixtureSpec {
  name: string;
  text: string;
  voice: string;
  kind: "speech" | "backchannel";
  /** espeak-ng words per minute. */
  wpm: number;
  /** espeak-ng phoneme input when the spelling would be read out letter by letter ("mm-hm"). */
  phonemes?: string;
}

/** A manifest row: the spec plus measured speech onset/offset (ms into the file). */
export interface AudioFixture extends FixtureSpec {
  file: string;
  durationMs: number;
  onsetMs: number;
  offsetMs: number;
}

const LEAD_SILENCE_S = 0.4;
const TRAIL_SILENCE_S = 0.8;
/** A 20 ms frame louder than this in the clean file counts as speech for the ground-truth onset/offset. */
const GROUND_TRUTH_DBFS = -50;

const SPECS: FixtureSpec[] = [
  {
    name: "book-tuesday",
    text: "Yes, I'd like to book an appointment for Tuesday morning, please.",
    voice: "en-gb",
    kind: "speech",
    wpm: 165,
  },
  {
    name: "not-interested",
    text: "No thanks, I'm not interested at the moment.",
    voice: "en-gb+f3",
    kind: "speech",
    wpm: 170,
  },
  {
    name: "call-back",
    text: "Could you call me back after five o'clock?",
    voice: "en-us",
    kind: "speech",
    wpm: 160,
  },
  {
    name: "wait-a-second",
    text: "Hang on, wait a second, that's not what I said.",
    voice: "en-gb-x-rp+m3",
    kind: "speech",
    wpm: 180,
  },
  { name: "stop-calling", text: "Please stop calling me.", voice: "en-us+f2", kind: "speech", wpm: 170 },
  { name: "bc-mm-hm", text: "mm-hm", phonemes: "[[m-'hm-]]", voice: "en-gb", kind: "backchannel", wpm: 200 },
  { name: "bc-yeah", text: "yeah", voice: "en-gb+f3", kind: "backchannel", wpm: 220 },
  { name: "bc-uh-huh", text: "uh-huh", voice: "en-us", kind: "backchannel", wpm: 220 },
  { name: "bc-okay", text: "okay", voice: "en-us+f2", kind: "backchannel", wpm: 240 },
];

function measure(mulaw: Uint8Array): { onsetMs: number; offsetMs: number } {
  let first = -1;
  let last = -1;
  for (let f = 0; (f + 1) * FRAME_BYTES <= mulaw.length; f++) {
    if (mulawDbfs(mulaw.subarray(f * FRAME_BYTES, (f + 1) * FRAME_BYTES)) > GROUND_TRUTH_DBFS) {
      if (first < 0) first = f;
      last = f;
    }
  }
  if (first < 0) throw new Error("fixture has no audible speech");
  return { onsetMs: first * FRAME_MS, offsetMs: (last + 1) * FRAME_MS };
}

/** Synthesises every fixture into `outDir` and writes `manifest.json`; needs `espeak-ng` and `sox` on PATH. */
export function generateAudioFixtures(outDir: string): AudioFixture[] {
  mkdirSync(outDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), "audio-fixtures-"));
  const manifest: AudioFixture[] = [];
  try {
    for (const spec of SPECS) {
      const wav = join(work, `${spec.name}.wav`);
      const file = `${spec.name}.ulaw`;
      execFileSync("espeak-ng", [
        "-v",
        spec.voice,
        "-s",
        String(spec.wpm),
        "-w",
        wav,
        spec.phonemes ?? spec.text,
      ]);
      // Telephone band, normalised to -6 dBFS peak, padded with digital silence, raw µ-law 8 kHz mono.
      execFileSync("sox", [
        wav,
        "-r",
        "8000",
        "-c",
        "1",
        "-e",
        "mu-law",
        "-b",
        "8",
        "-t",
        "raw",
        join(outDir, file),
        "sinc",
        "300-3400",
        "norm",
        "-6",
        "pad",
        String(LEAD_SILENCE_S),
        String(TRAIL_SILENCE_S),
      ]);
      const bytes = new Uint8Array(readFileSync(join(outDir, file)));
      const trimmed = bytes.subarray(0, bytes.length - (bytes.length % FRAME_BYTES));
      writeFileSync(join(outDir, file), trimmed);
      manifest.push({
        ...spec,
        file,
        durationMs: (trimmed.length / FRAME_BYTES) * FRAME_MS,
        ...measure(trimmed),
      });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  writeFileSync(join(outDir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]).endsWith("gen-audio-fixtures.ts");
if (isMain) {
  const outDir = resolve(process.argv[2] ?? "test/fixtures/audio");
  const manifest = generateAudioFixtures(outDir);
  for (const f of manifest) {
    process.stdout.write(
      `${f.file}\t${f.kind}\tspeech ${f.onsetMs}-${f.offsetMs} ms of ${f.durationMs} ms\n`,
    );
  }
}
