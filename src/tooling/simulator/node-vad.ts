/** The WebRTC VAD the Durable Object uses, for Node harnesses (bench, virtual calls): loaded once per process. */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import {
  DEFAULT_VAD_CONFIG,
  type FrameClassifier,
  instantiateWebRtcVad,
  type WebRtcVadRuntime,
} from "../../audio";

let webRtc: Promise<WebRtcVadRuntime> | null = null;

/** A fresh WebRTC frame classifier (one per call), or undefined when the default detector is the energy one. */
export async function nodeVadClassifier(): Promise<FrameClassifier | undefined> {
  if (DEFAULT_VAD_CONFIG.vad.detector !== "webrtc") return undefined;
  webRtc ??= (async () => {
    const path = createRequire(import.meta.url).resolve("@echogarden/fvad-wasm/fvad.wasm");
    // Workers' WebAssembly typings omit the byte-compiling constructor Node has.
    const ModuleFromBytes = WebAssembly.Module as unknown as new (bytes: Uint8Array) => WebAssembly.Module;
    return instantiateWebRtcVad(new ModuleFromBytes(readFileSync(path)));
  })();
  return (await webRtc).createClassifier(DEFAULT_VAD_CONFIG.vad.webrtcMode);
}
