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
