/** Types for `.wasm` imports: wrangler (CompiledWasm rule) and the vitest workers pool hand over a compiled module. */
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
