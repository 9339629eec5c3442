// The header hasher (a development page): the block hash of a pasted 80-byte header, computed
// by the same wasm code that validates the chain.

import { loadWasm } from "../wasm-loader.js";
import { BITCOIN_GENESIS_HEADER } from "./genesis.js";

const HEADER_HEX_CHARS = 160;
const $ = (id) => document.getElementById(id);

function wire(wasm) {
  const input = $("header-hex");
  const output = $("header-hash");
  const count = $("hex-count");
  const update = () => {
    const hex = input.value.replace(/\s+/g, "");
    count.textContent = `${hex.length} / ${HEADER_HEX_CHARS}`;
    output.className = "mono hash result";
    if (hex.length === 0) {
      output.textContent = "";
      return;
    }
    try {
      output.textContent = wasm.sha256d_header_hex(hex);
      output.classList.add("ok");
    } catch (err) {
      output.textContent = err instanceof Error ? err.message : String(err);
      output.classList.add("error");
    }
  };
  input.addEventListener("input", update);
  $("example").addEventListener("click", () => {
    input.value = BITCOIN_GENESIS_HEADER;
    update();
  });
  input.disabled = false;
  $("example").disabled = false;
}

try {
  wire(await loadWasm());
} catch (err) {
  $("fatal").textContent = `Could not load the wasm bundle: ${err?.message ?? err}. Build it with \`cargo xtask build\`.`;
  $("fatal").hidden = false;
}
