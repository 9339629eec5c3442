// The development pages: a relay started with `--dev` serves them (the header hasher hashes
// Bitcoin's genesis header in wasm), a relay without it answers 404 and the page links none.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Relay, launchBrowser } from "../support.mjs";

const BITCOIN_GENESIS_HASH = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";

test("the development pages are served only with --dev, and the header hasher works there", async () => {
  const plain = await Relay.start();
  try {
    for (const page of ["dev/", "dev/hasher.html", "dev/selftest.html", "dev/bench.html"]) {
      assert.equal((await fetch(`${plain.url}/${page}`)).status, 404, `${page} without --dev`);
    }
    const index = await (await fetch(`${plain.url}/index.html`)).text();
    assert.ok(!index.includes("dev/") && !index.includes("header-hex"), "the page links a development page");
  } finally {
    await plain.stop();
  }
  const relay = await Relay.start(["--dev"]);
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${relay.url}/dev/hasher.html`);
    await page.click("#example:not([disabled])");
    await page.waitForFunction(() => document.getElementById("header-hash").textContent !== "");
    assert.equal(await page.locator("#header-hash").textContent(), BITCOIN_GENESIS_HASH);
    assert.equal(await page.locator("#hex-count").textContent(), "160 / 160");
    await page.fill("#header-hex", "00");
    assert.match(await page.locator("#header-hash").getAttribute("class"), /error/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await relay.stop();
  }
});
