/** Audio benchmark (Node): barge-in reaction, VAD false positives, tone-detector accuracy, µ-law throughput. */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { createBargeInDetector } from "../../audio/barge-in";
import { mulawToPcm, pcmToMulaw } from "../../audio/mulaw";
import {
  addNoiseAtSnr,
  cadence,
  concatPcm,
  pcmToMulawFrames,
  silence,
  splitFrames,
  tone,
  UK_RINGBACK,
  US_RINGBACK,
  whiteNoise,
} from "../../audio/signals";
import { createToneDetector, type ToneEvent } from "../../audio/tones";
import { createEnergyClassifier, createVad } from "../../audio/vad";
import { DEFAULT_VAD_CONFIG } from "../../audio/vad-config";
import { instantiateWebRtcVad, type WebRtcVadRuntime } from "../../audio/webrtc-vad";

/** One reported figure. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
}

interface Fixture {
  name: string;
  kind: "speech" | "backchannel";
  onsetMs: number;
  file: string;
}

const FIXTURES = fileURLToPath(new URL("../../../test/fixtures/audio/", import.meta.url));

function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

async function webRtc(): Promise<WebRtcVadRuntime> {
  const path = createRequire(import.meta.url).resolve("@echogarden/fvad-wasm/fvad.wasm");
  const ModuleFromBytes = WebAssembly.Module as unknown as new (bytes: Uint8Array) => WebAssembly.Module;
  return instantiateWebRtcVad(new ModuleFromBytes(readFileSync(path)));
}

function runBargeIn(runtime: WebRtcVadRuntime, mulaw: Uint8Array, detector: "webrtc" | "energy") {
  const settings = DEFAULT_VAD_CONFIG.vad;
  const classifier =
    detector === "webrtc" ? runtime.createClassifier(settings.webrtcMode) : createEnergyClassifier();
  const vad = createVad(settings, { classifier });
  const bargeIn = createBargeInDetector(settings);
  let decisionAtMs: number | null = null;
  let speechStarts = 0;
  for (const [i, frame] of splitFrames(mulaw).entries()) {
    speechStarts += vad.push(frame, i * 20).filter((e) => e.type === "speech_start").length;
    const d = bargeIn.update(vad.snapshot(), i * 20 + 20, true);
    if (d && decisionAtMs === null) decisionAtMs = d.atMs;
  }
  vad.dispose();
  return { decisionAtMs, speechStarts };
}

function detectTones(pcm: Int16Array): ToneEvent[] {
  const d = createToneDetector();
  return pcmToMulawFrames(pcm).flatMap((f, i) => d.push(f, i * 20));
}

/** Runs every audio measurement; figures only, no pass/fail. */
export async function runAudioBench(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const runtime = await webRtc();
  const manifest = JSON.parse(readFileSync(`${FIXTURES}manifest.json`, "utf8")) as Fixture[];
  const fixtures = manifest.map((f) => ({
    ...f,
    mulaw: new Uint8Array(readFileSync(`${FIXTURES}${f.file}`)),
  }));
  const noisy = (mulaw: Uint8Array, snr: number | null, seed: number) =>
    snr === null ? mulaw : pcmToMulaw(addNoiseAtSnr(mulawToPcm(mulaw), snr, seed));

  for (const detector of ["webrtc", "energy"] as const) {
    for (const snr of [null, 20, 10] as const) {
      const label = snr === null ? "clean" : `${snr}dB-snr`;
      const reactions: number[] = [];
      let missed = 0;
      let backchannelInterrupts = 0;
      for (const [seed, f] of fixtures.entries()) {
        const { decisionAtMs } = runBargeIn(runtime, noisy(f.mulaw, snr, seed + 1), detector);
        if (f.kind === "speech") {
          if (decisionAtMs === null) missed++;
          else reactions.push(decisionAtMs - f.onsetMs);
        } else if (decisionAtMs !== null) backchannelInterrupts++;
      }
      results.push(
        {
          name: `audio.barge_in.${detector}.${label}.reaction_p50`,
          value: quantile(reactions, 0.5),
          unit: "ms",
        },
        {
          name: `audio.barge_in.${detector}.${label}.reaction_p95`,
          value: quantile(reactions, 0.95),
          unit: "ms",
        },
        { name: `audio.barge_in.${detector}.${label}.missed_speech`, value: missed, unit: "count" },
        {
          name: `audio.barge_in.${detector}.${label}.backchannel_interrupts`,
          value: backchannelInterrupts,
          unit: "count",
        },
      );
    }
    let falseStarts = 0;
    let noiseMs = 0;
    for (const [i, level] of [-50, -40, -30, -20].entries()) {
      for (const pcm of [
        whiteNoise(30_000, level, 100 + i),
        concatPcm([silence(1000), whiteNoise(30_000, level, 200 + i)]),
      ]) {
        falseStarts += runBargeIn(runtime, pcmToMulaw(pcm), detector).speechStarts;
        noiseMs += (pcm.length / 8000) * 1000;
      }
    }
    results.push({
      name: `audio.vad.${detector}.noise_false_starts_per_min`,
      value: (falseStarts * 60_000) / noiseMs,
      unit: "per min",
    });
  }

  // Tone detector: beeps (detected once, right frequency) vs everything that must stay silent.
  let beeps = 0;
  let beepMisses = 0;
  for (const freq of [400, 600, 850, 1000, 1400, 2000]) {
    for (const ms of [300, 500, 700, 1000]) {
      for (const snr of [null, 10]) {
        beeps++;
        const clean = concatPcm([silence(500), tone(freq, ms, -22), silence(500)]);
        const ev = detectTones(snr === null ? clean : addNoiseAtSnr(clean, snr, freq + ms));
        const ok = ev.length === 1 && ev[0]?.type === "beep" && Math.abs(ev[0].freqHz - freq) <= 10;
        if (!ok) beepMisses++;
      }
    }
  }
  let negatives = 0;
  let falsePositives = 0;
  let ringbacks = 0;
  let ringbackMisses = 0;
  const negative = (pcm: Int16Array) => {
    negatives++;
    if (detectTones(pcm).some((e) => e.type === "beep")) falsePositives++;
  };
  for (const spec of [UK_RINGBACK, US_RINGBACK]) {
    for (const snr of [null, 10]) {
      const pcm = snr === null ? cadence(spec, 3) : addNoiseAtSnr(cadence(spec, 3), snr);
      ringbacks++;
      if (!detectTones(pcm).some((e) => e.type === "ringback")) ringbackMisses++;
      negative(pcm);
    }
  }
  for (const f of fixtures) {
    negative(mulawToPcm(f.mulaw));
    negative(addNoiseAtSnr(mulawToPcm(f.mulaw), 10));
  }
  negative(whiteNoise(10_000, -25, 3));
  results.push(
    { name: "audio.tones.beep_misses", value: beepMisses, unit: `of ${beeps}` },
    { name: "audio.tones.beep_false_positives", value: falsePositives, unit: `of ${negatives}` },
    { name: "audio.tones.ringback_misses", value: ringbackMisses, unit: `of ${ringbacks}` },
  );

  // Codec throughput over 60 s of audio.
  const pcm = whiteNoise(60_000, -20, 42);
  const rounds = 20;
  let t0 = performance.now();
  let mulaw: Uint8Array = new Uint8Array();
  for (let r = 0; r < rounds; r++) mulaw = pcmToMulaw(pcm);
  const encodeMs = performance.now() - t0;
  t0 = performance.now();
  for (let r = 0; r < rounds; r++) mulawToPcm(mulaw);
  const decodeMs = performance.now() - t0;
  results.push(
    {
      name: "audio.mulaw.encode_throughput",
      value: (pcm.length * rounds) / 1e6 / (encodeMs / 1000),
      unit: "Msamples/s",
    },
    {
      name: "audio.mulaw.decode_throughput",
      value: (pcm.length * rounds) / 1e6 / (decodeMs / 1000),
      unit: "Msamples/s",
    },
  );
  return results;
}
