// Opens one of the relay's development pages (`www/dev/`, served with `--dev`) in headless
// Chromium and writes what it reports: `cargo xtask test` runs the miner self-tests
// (`dev/selftest.html`) this way, `cargo xtask bench` the miner benchmark (`dev/bench.html`).
//
// Environment (set by xtask, besides support.mjs's): TABCHAIN_PAGE, the page's path with its
// query; TABCHAIN_PAGE_RESULT, the global the page sets when done; TABCHAIN_PAGE_OUT, the JSON
// file the result goes to; TABCHAIN_PAGE_TIMEOUT_MS, how long the page may take.

import { writeFileSync } from "node:fs";
import { Relay, launchBrowser } from "./support.mjs";

const page = process.env.TABCHAIN_PAGE;
const global = process.env.TABCHAIN_PAGE_RESULT;
const out = process.env.TABCHAIN_PAGE_OUT;
const timeout = Number(process.env.TABCHAIN_PAGE_TIMEOUT_MS ?? 120_000);
if (!page || !global || !out) throw new Error("TABCHAIN_PAGE, TABCHAIN_PAGE_RESULT and TABCHAIN_PAGE_OUT must be set: run this with `cargo xtask`");

const relay = await Relay.start(["--dev"]);
const browser = await launchBrowser();
try {
  const tab = await (await browser.newContext({ viewport: { width: 1200, height: 2400 } })).newPage();
  const errors = [];
  tab.on("pageerror", (error) => errors.push(error.message));
  console.log(`opening ${relay.url}/${page} in headless Chromium`);
  await tab.goto(`${relay.url}/${page}`);
  const result = await tab
    .waitForFunction((name) => window[name] ?? null, global, { timeout, polling: 500 })
    .then((handle) => handle.jsonValue())
    .catch((error) => ({ error: `${error.message}; page errors: ${errors.join("; ") || "none"}` }));
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await browser.close();
  await relay.stop();
}
