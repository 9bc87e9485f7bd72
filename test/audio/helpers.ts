/** Node-only test helpers: read the committed speech fixtures and compile the WebRTC VAD module from node_modules. */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** A fixture row from test/fixtures/audio/manifest.json, with its µ-law bytes. */
export interface LoadedFixture {
  name: string;
  text: string;
  kind: "speech" | "backchannel";
  onsetMs: number;
  offsetMs: number;
  durationMs: number;
  mulaw: Uint8Array;
}

const FIXTURE_DIR = fileURLToPath(new URL("../fixtures/audio/", import.meta.url));

/** All speech and backchannel fixtures. */
export function loadFixtures(): LoadedFixture[] {
  const manifest = JSON.parse(readFileSync(`${FIXTURE_DIR}manifest.json`, "utf8")) as Omit<
    LoadedFixture,
    "mulaw"
  >[];
  return manifest.map((m) => ({
    ...m,
    mulaw: new Uint8Array(readFileSync(`${FIXTURE_DIR}${(m as { file?: string }).file ?? `${m.name}.ulaw`}`)),
  }));
}

/** The compiled fvad module, as workerd would hand it to the Durable Object. */
export function loadFvadModule(): WebAssembly.Module {
  const require = createRequire(import.meta.url);
  const path = require.resolve("@echogarden/fvad-wasm/fvad.wasm");
  // workers-types (the project's global types) declare WebAssembly.Module abstract; Node compiles from bytes.
  const ModuleFromBytes = WebAssembly.Module as unknown as new (bytes: Uint8Array) => WebAssembly.Module;
  return new ModuleFromBytes(readFileSync(path));
}

import { createBargeInDetector } from "../../src/audio/barge-in";
import { mulawToPcm, pcmToMulaw } from "../../src/audio/mulaw";
import { addNoiseAtSnr, splitFrames } from "../../src/audio/signals";
import { createEnergyClassifier, createVad, type VadEvent } from "../../src/audio/vad";
import { DEFAULT_VAD_CONFIG } from "../../src/audio/vad-config";
import { instantiateWebRtcVad, type WebRtcVadRuntime } from "../../src/audio/webrtc-vad";

let runtime: Promise<WebRtcVadRuntime> | undefined;
/** One shared WebRTC VAD instance for the test process. */
export function webRtcRuntime(): Promise<WebRtcVadRuntime> {
  runtime ??= instantiateWebRtcVad(loadFvadModule());
  return runtime;
}

/** µ-law audio with white noise added at `snrDb` (null = clean). */
export function withNoise(mulaw: Uint8Array, snrDb: number | null, seed = 3): Uint8Array {
  return snrDb === null ? mulaw : pcmToMulaw(addNoiseAtSnr(mulawToPcm(mulaw), snrDb, seed));
}

/** Runs VAD + barge-in (agent speaking throughout) over µ-law audio; returns VAD events and barge-in decisions. */
export async function runVad(mulaw: Uint8Array, detector: "webrtc" | "energy") {
  const settings = DEFAULT_VAD_CONFIG.vad;
  const classifier =
    detector === "webrtc"
      ? (await webRtcRuntime()).createClassifier(settings.webrtcMode)
      : createEnergyClassifier();
  const vad = createVad(settings, { classifier });
  const bargeIn = createBargeInDetector(settings);
  const events: VadEvent[] = [];
  const decisions = [];
  for (const [i, frame] of splitFrames(mulaw).entries()) {
    events.push(...vad.push(frame, i * 20));
    const d = bargeIn.update(vad.snapshot(), i * 20 + 20, true);
    if (d) decisions.push(d);
  }
  vad.dispose();
  return { events, decisions };
}
