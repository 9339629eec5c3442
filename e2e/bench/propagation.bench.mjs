// `cargo xtask bench propagation`: how long a block takes to reach every tab from the tab that
// found it, among `TABS` tabs (each its own browser profile, as on separate machines), in two
// networks: the star (every tab on the relay alone, `?links=0`) and the mesh with the relay
// gone (tabs linked directly over WebRTC, set up through the relay before it is killed).
// Blocks are mined one tab at a time, in turn; each sample is one block's arrival at one other
// tab (wall clock, one machine). Prints p50 and p99 and writes them to TABCHAIN_BENCH_OUT.

import { writeFileSync } from "node:fs";
import { Relay, eventually, launchBrowser } from "../support.mjs";

const TABS = 10;
const BLOCKS = 30;
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

/** Records, in the page, when each new tip was first seen (ms since the epoch). */
const RECORD_TIPS = () => {
  window.seenAt = {};
  window.tabchain.on("tip", (tip) => {
    window.seenAt[tip.hash] ??= Date.now();
  });
};

async function openTabs(browser, relay, query) {
  const pages = [];
  for (let i = 0; i < TABS; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    // One worker each, loaded while the relay serves the files, then paused.
    await page.goto(`${relay.url}/index.html?workers=1&${query}`);
    await page.waitForFunction(() => window.tabchain?.status().simd != null, null, { timeout: 120_000 });
    await page.evaluate(() => window.tabchain.setWorkers(0));
    pages.push(page);
  }
  const tipOf = (page) => page.evaluate(() => window.tabchain.status().tip);
  await eventually("every tab on one tip", async () => new Set(await Promise.all(pages.map(tipOf))).size === 1);
  await Promise.all(pages.map((page) => page.evaluate(RECORD_TIPS)));
  return pages;
}

/** Mines `BLOCKS` blocks, one tab at a time, and returns each arrival delay in ms. */
async function propagation(pages) {
  const delays = [];
  for (let b = 0; b < BLOCKS; b++) {
    const miner = pages[b % pages.length];
    const found = await miner.evaluate(() => window.tabchain.status().blocks_found);
    await miner.evaluate(() => window.tabchain.setWorkers(1));
    await miner.waitForFunction((n) => window.tabchain.status().blocks_found > n, found, { timeout: 60_000 });
    await miner.evaluate(() => window.tabchain.setWorkers(0));
    const tip = await miner.waitForFunction(() => window.tabchain.status().workers === 0 && window.tabchain.status().tip);
    const hash = await tip.jsonValue();
    const minedAt = await miner.evaluate((h) => window.seenAt[h], hash);
    for (const page of pages.filter((p) => p !== miner)) {
      await page.waitForFunction((h) => window.seenAt[h] !== undefined, hash, { timeout: 60_000 });
      delays.push((await page.evaluate((h) => window.seenAt[h], hash)) - minedAt);
    }
  }
  return delays;
}

const out = { tabs: TABS, blocks: BLOCKS };
const browser = await launchBrowser();
try {
  for (const network of ["star", "mesh"]) {
    const relay = await Relay.start();
    const contexts = browser.contexts().length;
    try {
      const pages = await openTabs(browser, relay, network === "star" ? "links=0" : "links=1");
      if (network === "mesh") {
        // A connected mesh: every tab with at least one direct link, then the relay gone.
        await eventually("a direct link in every tab", async () => {
          const counts = await Promise.all(pages.map((p) => p.evaluate(() => window.tabchain.status().direct)));
          return counts.every((n) => n > 0);
        }, 180_000);
        await relay.kill();
        await Promise.all(pages.map((p) => p.waitForFunction(() => !window.tabchain.status().relay)));
        out.mesh_links_per_tab = (await Promise.all(pages.map((p) => p.evaluate(() => window.tabchain.status().direct))))
          .reduce((a, b) => a + b, 0) / TABS;
      }
      const delays = await propagation(pages);
      out[`${network}_p50_ms`] = quantile(delays, 0.5);
      out[`${network}_p99_ms`] = quantile(delays, 0.99);
      out[`${network}_max_ms`] = Math.max(...delays);
      console.log(`  ${network}: p50 ${out[`${network}_p50_ms`]} ms, p99 ${out[`${network}_p99_ms`]} ms over ${delays.length} arrivals`);
    } finally {
      await Promise.all(browser.contexts().slice(contexts).map((c) => c.close()));
      await relay.stop();
    }
  }
} finally {
  await browser.close();
}
console.log(`  tabs ${TABS}, blocks ${BLOCKS}, direct links per tab ${out.mesh_links_per_tab?.toFixed(1)}`);
writeFileSync(process.env.TABCHAIN_BENCH_OUT, JSON.stringify(out, null, 2) + "\n");
