// Self-tests of the browser miner, run by `cargo xtask test` in headless Chromium and readable
// by hand: the worker pool finds valid nonces, a replaced job never reports stale results,
// exhausting the nonce space is reported, SIMD and scalar builds agree.
// Results land in `window.selftestResult = {passed: [...], failed: [...]}`.

import { MinerPool } from "../miner.js";
import { BITCOIN_GENESIS_HEADER } from "./genesis.js";
import { MINER_MODULE, loadWasm } from "../wasm-loader.js";

const EASY = "00ff" + "f".repeat(60); // about one hash in 256 meets it
const NEVER = "0".repeat(64);
const TIMEOUT_MS = 20000;

// The genesis header with another time field, so each test mines a different header.
const withTime = (hex, byte) => hex.slice(0, 136) + byte.toString(16).padStart(2, "0") + hex.slice(138);

const passed = [];
const failed = [];
const list = document.getElementById("results");

async function test(name, body) {
  try {
    await body();
    passed.push(name);
    list.insertAdjacentHTML("beforeend", `<li>ok — ${name}</li>`);
  } catch (error) {
    failed.push(`${name}: ${error?.message ?? error}`);
    list.insertAdjacentHTML("beforeend", `<li>FAILED — ${name}: ${error?.message ?? error}</li>`);
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/** Resolves with the first event a handler reports, or rejects after the timeout. */
function waitFor(register) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out")), TIMEOUT_MS);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

const wasm = await loadWasm(undefined, MINER_MODULE);
const meets = (header, nonce) => {
  const miner = new wasm.Miner(header, EASY);
  const result = miner.search_portable(nonce, 1);
  const ok = result.nonce === nonce;
  result.free();
  miner.free();
  return ok;
};

await test("the pool finds a nonce that meets the target", async () => {
  let onFound;
  const pool = new MinerPool(2, { onFound: (nonce, id) => onFound?.({ nonce, id }) });
  await pool.ready;
  const header = withTime(BITCOIN_GENESIS_HEADER, 1);
  const id = pool.start({ headerHex: header, targetHex: EASY });
  const found = await waitFor((resolve) => (onFound = resolve));
  pool.stop();
  await pool.resize(0);
  assert(found.id === id, "reported for the current job");
  assert(meets(header, found.nonce), `nonce ${found.nonce} meets the target`);
});

await test("a replaced job never reports stale results", async () => {
  const reports = [];
  let onFound;
  const pool = new MinerPool(2, { onFound: (nonce, id) => { reports.push(id); onFound?.({ nonce, id }); } });
  await pool.ready;
  // The old job would find a nonce in its very first batch: only the pool's job filter keeps
  // that result from being reported once the new job has replaced it.
  const stale = pool.start({ headerHex: withTime(BITCOIN_GENESIS_HEADER, 2), targetHex: EASY });
  const header = withTime(BITCOIN_GENESIS_HEADER, 3);
  const fresh = pool.start({ headerHex: header, targetHex: EASY });
  const found = await waitFor((resolve) => (onFound = resolve));
  pool.stop();
  await pool.resize(0);
  assert(fresh !== stale && found.id === fresh, "the result belongs to the new job");
  assert(reports.every((id) => id === fresh), "nothing reported for the old job");
  assert(meets(header, found.nonce), "and its nonce meets the new header's target");
});

await test("exhausting the nonce space asks for a new header", async () => {
  let onExhausted;
  const pool = new MinerPool(2, { onExhausted: () => onExhausted?.(true) });
  await pool.ready;
  pool.start({ headerHex: withTime(BITCOIN_GENESIS_HEADER, 4), targetHex: NEVER, nonceCount: 200000 });
  assert(await waitFor((resolve) => (onExhausted = resolve)), "exhaustion reported");
  await pool.resize(0);
});

await test("SIMD and portable searches find the same first nonce", async () => {
  const header = withTime(BITCOIN_GENESIS_HEADER, 5);
  const miner = new wasm.Miner(header, EASY);
  const simd = miner.search(1000, 100000);
  const portable = miner.search_portable(1000, 100000);
  assert(simd.nonce === portable.nonce && simd.hashes === portable.hashes, `${simd.nonce} vs ${portable.nonce}`);
  simd.free();
  portable.free();
  miner.free();
});

await test("the scalar fallback build loads and agrees", async () => {
  const scalar = await import(new URL(`../pkg-scalar/${MINER_MODULE}.js`, import.meta.url).href);
  await scalar.default();
  assert(!scalar.miner_simd(), "the fallback does not use SIMD");
  const header = withTime(BITCOIN_GENESIS_HEADER, 6);
  const a = new scalar.Miner(header, EASY).search(0, 100000);
  const b = new wasm.Miner(header, EASY).search(0, 100000);
  assert(a.nonce === b.nonce, `${a.nonce} vs ${b.nonce}`);
});

window.selftestResult = { passed, failed };
