/** WebRTC VAD (libfvad compiled to WASM by @echogarden/fvad-wasm), instantiated without the Emscripten glue. */
import type { FrameClassifier } from "./vad";

/**
 * The package's minified export names (emscripten -O3). Checked against fvad.js of @echogarden/fvad-wasm 0.2.0:
 * c=memory, d=__wasm_call_ctors, e=fvad_new, f=malloc, g=fvad_reset, h=fvad_free, i=free, j=fvad_set_mode,
 * k=fvad_set_sample_rate, l=fvad_process. The version is pinned in package.json for this reason.
 */
interface FvadExports {
  c: WebAssembly.Memory;
  d: () => void;
  e: () => number;
  f: (size: number) => number;
  g: (inst: number) => void;
  h: (inst: number) => void;
  i: (ptr: number) => void;
  j: (inst: number, mode: number) => number;
  k: (inst: number, rate: number) => number;
  l: (inst: number, frame: number, length: number) => number;
}

/** One WASM instance; create one per Durable Object / process and a classifier per call leg. */
export interface WebRtcVadRuntime {
  /** A classifier for 8 kHz frames of 10, 20 or 30 ms; `mode` 0..3 = aggressiveness. */
  createClassifier(mode: 0 | 1 | 2 | 3): FrameClassifier;
}

function isFvadExports(x: WebAssembly.Exports): boolean {
  return (
    x.c instanceof WebAssembly.Memory &&
    ["d", "e", "f", "g", "h", "i", "j", "k", "l"].every((k) => typeof x[k] === "function")
  );
}

/**
 * Instantiates the WebRTC VAD from its compiled module. In workerd, `import fvadWasm from
 * "@echogarden/fvad-wasm/fvad.wasm"` gives a `WebAssembly.Module` (wrangler's CompiledWasm rule);
 * in Node, compile the file's bytes with `WebAssembly.compile`.
 */
export async function instantiateWebRtcVad(module: WebAssembly.Module): Promise<WebRtcVadRuntime> {
  let memory: WebAssembly.Memory | undefined;
  const imports = {
    a: {
      // ___assert_fail: libfvad asserts only on programming errors (bad frame length is checked before).
      a: () => {
        throw new Error("fvad: assertion failed");
      },
      // _emscripten_resize_heap: grow linear memory to at least the requested size.
      b: (requestedSize: number) => {
        if (!memory) return 0;
        const needed = (requestedSize >>> 0) - memory.buffer.byteLength;
        if (needed <= 0) return 1;
        try {
          memory.grow(Math.ceil(needed / 65536));
          return 1;
        } catch {
          return 0;
        }
      },
    },
  };
  const instance = await WebAssembly.instantiate(module, imports);
  if (!isFvadExports(instance.exports)) throw new Error("fvad: unexpected WASM exports (package version?)");
  const fx = instance.exports as unknown as FvadExports;
  memory = fx.c;
  fx.d();
  const mem = fx.c;

  return {
    createClassifier(mode) {
      const inst = fx.e();
      if (inst === 0) throw new Error("fvad: out of memory");
      if (fx.k(inst, 8000) !== 0 || fx.j(inst, mode) !== 0) throw new Error("fvad: bad mode or sample rate");
      // Largest frame libfvad accepts at 8 kHz: 30 ms = 240 samples.
      const ptr = fx.f(240 * 2);
      let disposed = false;
      return {
        isSpeech(pcm: Int16Array): boolean {
          if (disposed) throw new Error("fvad: classifier disposed");
          if (pcm.length !== 80 && pcm.length !== 160 && pcm.length !== 240) {
            throw new RangeError("fvad: frames must be 10, 20 or 30 ms at 8 kHz");
          }
          // A fresh view each call: memory growth detaches earlier views.
          new Int16Array(mem.buffer, ptr, pcm.length).set(pcm);
          return fx.l(inst, ptr, pcm.length) === 1;
        },
        reset(): void {
          // fvad_reset also resets mode and rate, so set them again.
          fx.g(inst);
          fx.k(inst, 8000);
          fx.j(inst, mode);
        },
        dispose(): void {
          if (disposed) return;
          disposed = true;
          fx.i(ptr);
          fx.h(inst);
        },
      };
    },
  };
}
