// Loads a wasm bundle: the SIMD128 build (`pkg/`) where the browser validates SIMD, else the
// scalar build (`pkg-scalar/`). Each holds two modules: `tabchain_web`, the node the page runs,
// and `tabchain_web_miner`, the kernel the mining workers run. All come from `cargo xtask run`.

// The smallest module using a SIMD instruction (the feature test wasm-feature-detect uses).
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

export const simdSupported = () => WebAssembly.validate(SIMD_PROBE);

/** The node's module. */
export const NODE_MODULE = "tabchain_web";
/** The mining workers' module. */
export const MINER_MODULE = "tabchain_web_miner";

/**
 * Imports and instantiates `module` from the right build; resolves to the module's exports. The
 * module's bytes are fetched at once, beside its glue rather than after it, and compiled as they
 * arrive.
 */
export async function loadWasm(base = new URL(".", import.meta.url), module = NODE_MODULE) {
  const dir = simdSupported() ? "pkg" : "pkg-scalar";
  const bytes = fetch(new URL(`${dir}/${module}_bg.wasm`, base));
  const wasm = await import(new URL(`${dir}/${module}.js`, base).href);
  await wasm.default({ module_or_path: bytes });
  return wasm;
}
