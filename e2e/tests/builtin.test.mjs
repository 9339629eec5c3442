// The relay as one program: the `tabchain` binary started in an empty folder, with no `--www`,
// serves the page built into it (the wasm bundles brotli-compressed, revalidated by their
// `ETag`), and that page's node mines, and another tab's syncs to it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Relay, Tab, launchBrowser } from "../support.mjs";

const BUNDLES = [
  "pkg/tabchain_web_bg.wasm",
  "pkg-scalar/tabchain_web_bg.wasm",
  "pkg/tabchain_web.js",
  "pkg/tabchain_web_miner_bg.wasm",
  "pkg/tabchain_web_miner.js",
];

test("the binary alone, started in an empty folder, serves a page that mines and syncs", async () => {
  const relay = await Relay.start([], { builtIn: true });
  const browser = await launchBrowser();
  try {
    for (const bundle of BUNDLES) {
      const headers = { "accept-encoding": "br" };
      const response = await fetch(`${relay.url}/${bundle}`, { headers });
      assert.equal(response.status, 200, bundle);
      assert.equal(response.headers.get("content-type"), bundle.endsWith(".wasm") ? "application/wasm" : "text/javascript");
      assert.equal(response.headers.get("content-encoding"), "br", bundle);
      assert.equal(response.headers.get("cache-control"), "no-cache", bundle);
      // fetch undoes the brotli: what is left is the bundle this build made, byte for byte.
      const body = Buffer.from(await response.arrayBuffer());
      assert.ok(body.equals(readFileSync(join(process.env.TABCHAIN_WWW, bundle))), `${bundle} is the one on disk`);
      const etag = response.headers.get("etag");
      const again = await fetch(`${relay.url}/${bundle}`, { headers: { ...headers, "if-none-match": etag } });
      assert.equal(again.status, 304, bundle);
    }
    const miner = await Tab.open(browser, relay, { workers: 1 });
    await miner.waitFor("two blocks mined in the tab", () => window.tabchain.status().blocks_found >= 2);
    await miner.setWorkers(0);
    const { height } = await miner.syncedWithRelay(2);
    const follower = await Tab.open(browser, relay, { workers: 0 });
    const synced = await follower.syncedWithRelay(height);
    assert.equal(synced.tip, (await miner.status()).tip);
    assert.deepEqual([...miner.errors, ...follower.errors], []);
  } finally {
    await browser.close();
    await relay.stop();
  }
});
