// The page as a product: on a 1440×900 laptop screen the node (state, sync, height, peers, hash
// rates, expected time to a block), the wallet's balances and the send form are all above the
// fold; on a 390×844 phone nothing is wider than the screen; the send form works from the
// keyboard alone; the fee tiers follow the mempool (and the fee shown is the fee paid); the block
// tree draws a fork between two tabs and marks the reorg; and axe-core's audit of the main views
// finds no serious or critical violation. Screenshots of both screens and of the fork go to the
// artifacts directory.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Tab, artifacts, withNetwork } from "../support.mjs";

const LAPTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };

/** What a new user must see without scrolling, by the element that shows it. */
const ABOVE_THE_FOLD = {
  "node state": "#status",
  "sync progress": "#sync-progress",
  height: "#height",
  peers: "#peers",
  "own hash rate": "#hashrate",
  "network hash rate": "#net-hashrate",
  "expected time to a block": "#expected",
  "confirmed balance": "#confirmed",
  "immature balance": "#immature",
  "pending balance": "#pending",
  "send: recipient": "#send-to",
  "send: amount": "#send-amount",
  "send: fee tiers": "#send-fee",
  "send: button": "#send button[type=submit]",
};

const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

/** axe-core's serious and critical violations on the page as it is now, one line each. */
async function audit(tab) {
  if (!(await tab.page.evaluate(() => "axe" in window))) await tab.page.addScriptTag({ path: axePath });
  const violations = await tab.page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")})`);
  });
  return violations;
}

/** Opens the explorer page `route` and waits until its heading starts with `heading`. */
async function openRoute(tab, route, heading) {
  await tab.page.evaluate((route) => (location.hash = route), route);
  await tab.waitFor(`the ${heading} page`, (heading) =>
    document.querySelector("#explorer-page h3")?.textContent.startsWith(heading), heading);
}

test("a laptop screen shows node, wallet and send form without scrolling; a phone has no sideways scroll; axe finds nothing serious", async () => {
  await withNetwork(async ({ relay, browser }) => {
    const tab = await Tab.open(browser, relay, { workers: 1, viewport: LAPTOP });
    await tab.waitFor("coins to spend", () => window.tabchain.status().confirmed !== "0");
    await tab.page.fill("#send-amount", "1.5");
    await tab.waitFor("a fee for the amount", () => /fee [0-9.]+ TAB/.test(document.getElementById("send-fee").textContent));
    await tab.waitFor("the block chart", () => document.querySelectorAll("#chart-blocks rect").length > 0);

    for (const [what, selector] of Object.entries(ABOVE_THE_FOLD)) {
      const box = await tab.page.locator(selector).first().boundingBox();
      assert.ok(box, `${what} (${selector}) is not shown`);
      assert.ok(box.y >= 0 && box.y + box.height <= LAPTOP.height, `${what} (${selector}) ends at ${Math.round(box.y + box.height)} px, below the fold`);
    }
    // Hashes are shortened, with the full value a hover or focus away and a copy button.
    const tip = await tab.page.locator("#tip a").evaluate((a) => ({ full: a.title, shown: a.textContent }));
    assert.match(tip.full, /^[0-9a-f]{64}$/);
    assert.equal(tip.shown, `${tip.full.slice(0, 8)}…${tip.full.slice(-6)}`);
    await tab.page.locator("#tip a").focus();
    assert.ok(await tab.page.locator("#tip .full").isVisible(), "focus does not show the full tip hash");
    // The tab is mining: the next block redraws the tip, and the keyboard focus stays on it.
    const redrawn = await tab.waitFor("the next tip", (old) => {
      const link = document.querySelector("#tip a");
      return link.title !== old && { focused: document.activeElement === link };
    }, tip.full);
    assert.ok(redrawn.focused, "the focus stays on the tip once it is redrawn");
    assert.equal(await tab.page.locator("#tip button.copy").getAttribute("aria-label"), "Copy the tip block hash");

    const shots = artifacts();
    await tab.page.screenshot({ path: join(shots, "laptop-1440x900.png") });
    await tab.page.screenshot({ path: join(shots, "laptop-full.png"), fullPage: true });

    for (const [route, heading] of [["", "Recent blocks"], ["mempool", "Mempool"], ["block/1", "Block 1"]]) {
      await openRoute(tab, route, heading);
      assert.deepEqual(await audit(tab), [], `axe-core on the ${heading} view`);
    }
    const coinbase = await tab.page.evaluate(() => window.tabchain.node.search("1").view.txids[0]);
    await openRoute(tab, `tx/${coinbase}`, "Transaction");
    assert.deepEqual(await audit(tab), [], "axe-core on a transaction view");
    assert.deepEqual(tab.errors, []);

    const phone = await Tab.open(browser, relay, { workers: 0, viewport: PHONE });
    await phone.syncedWithRelay(1);
    await phone.waitFor("the block tree", () => document.querySelectorAll("#forks a").length > 0);
    const overflow = await phone.page.evaluate(() => {
      const wide = [...document.querySelectorAll("body *")].filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1);
      return { scroll: document.documentElement.scrollWidth, wide: wide.slice(0, 5).map((el) => `${el.tagName}#${el.id}.${el.className?.baseVal ?? el.className}`) };
    });
    assert.ok(overflow.scroll <= PHONE.width, `the phone page scrolls sideways (${overflow.scroll} px): ${overflow.wide.join(", ")}`);
    await phone.page.screenshot({ path: join(shots, "phone-390x844.png") });
    await phone.page.screenshot({ path: join(shots, "phone-full.png"), fullPage: true });
    assert.deepEqual(await audit(phone), [], "axe-core on the phone");
  });
});

test("the send form works from the keyboard, and pays the fee it showed", async () => {
  await withNetwork(async ({ relay, browser }) => {
    const tab = await Tab.open(browser, relay, { workers: 1, viewport: LAPTOP });
    await tab.waitFor("coins to spend", () => window.tabchain.status().confirmed !== "0");
    await tab.setWorkers(0);
    const me = await tab.status();
    // Tab from the top of the page to the recipient field.
    await tab.page.locator("body").focus();
    let presses = 0;
    while ((await tab.page.evaluate(() => document.activeElement?.id)) !== "send-to") {
      await tab.page.keyboard.press("Tab");
      presses += 1;
      assert.ok(presses < 40, "the recipient field is not reachable with Tab");
    }
    await tab.page.keyboard.type(me.address);
    await tab.page.keyboard.press("Tab");
    await tab.page.keyboard.type("2");
    // Into the fee tiers, and down to "Minimum" with the arrow keys.
    await tab.page.keyboard.press("Tab");
    assert.equal(await tab.page.evaluate(() => document.activeElement?.id), "fee-next_block");
    await tab.page.keyboard.press("ArrowDown");
    await tab.page.keyboard.press("ArrowDown");
    assert.equal(await tab.page.evaluate(() => document.activeElement?.id), "fee-minimum");
    const shown = await tab.page.locator("label[for=fee-minimum]").textContent();
    const fee = shown.match(/fee ([0-9.]+) TAB/)?.[1];
    assert.ok(fee, `the minimum tier shows no fee: ${shown}`);
    await tab.page.keyboard.press("Enter");
    const result = await tab.waitFor("the payment", () => document.getElementById("send-result").textContent || null);
    const txid = result.match(/^sent: ([0-9a-f]{64})$/)?.[1];
    assert.ok(txid, `the form said: ${result}`);
    const paid = await tab.page.evaluate((txid) => window.tabchain.node.search(txid).view.fee_units, txid);
    assert.equal(paid, Math.round(Number(fee) * 1e8), "the fee paid is not the fee shown");
    assert.deepEqual(tab.errors, []);
  });
});

test("the fee tiers and the projected next block follow the mempool as it fills", async () => {
  await withNetwork(async ({ relay, browser }) => {
    const tab = await Tab.open(browser, relay, { workers: 1, viewport: LAPTOP });
    await tab.waitFor("coins to spend", () => window.tabchain.status().confirmed !== "0");
    await tab.setWorkers(0);
    await tab.waitFor("the miner to stop", () => window.tabchain.status().workers === 0);
    const tierText = () => tab.page.locator("#send-fee").textContent();
    const empty = await tab.page.evaluate(() => window.tabchain.fees());
    const rates = (fees) => fees.tiers.map((t) => t.fee_rate_units_per_kb);
    assert.equal(new Set(rates(empty)).size, 1, `an empty mempool asks the minimum in every tier: ${rates(empty)}`);
    assert.match(await tierText(), /Next block1 units\/byte/);

    // More than a block's worth of payments at 5 units/byte, nobody mining them.
    const made = await tab.page.evaluate(async () => {
      const to = window.tabchain.status().address;
      const started = performance.now();
      let n = 0;
      while (window.tabchain.fees().blocks_projected < 2) {
        window.tabchain.pay(to, "0.0001", 5000);
        n += 1;
        if (n % 200 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
      }
      return { n, ms: performance.now() - started };
    });
    const full = await tab.page.evaluate(() => window.tabchain.fees());
    const [next, within6, minimum] = rates(full);
    assert.ok(next > 5000 && next <= 5001, `the next block asks to outbid 5 units/byte: ${next} (${made.n} payments)`);
    assert.equal(within6, minimum, "six blocks hold the whole mempool: the minimum is enough");
    assert.equal(full.next_block.fee_rate_min, 5000);
    await tab.waitFor("the form's tiers to follow", () => /Next block5\.001 units\/byte/.test(document.getElementById("send-fee").textContent));
    await tab.page.locator("#send").screenshot({ path: join(artifacts(), "fee-tiers.png") });
    await openRoute(tab, "mempool", "Mempool");
    const projected = await tab.page.locator("#next-block").textContent();
    assert.match(projected, new RegExp(`^Projected next block: ${full.next_block.txs} transactions, .* fee rates 5 units/byte to 5 units/byte, .*the mempool fills 2 blocks\\.$`));
    assert.deepEqual(tab.errors, []);
  });
});

/**
 * A tab that reaches others only through the relay (`?links=0`: no direct links), its miner's
 * workers loaded (they load from the relay, so they must start while it is up) and paused: it
 * mines only inside `mineTo`.
 */
async function unlinkedMiner(browser, relay) {
  const tab = await Tab.open(browser, relay, { workers: 0, viewport: LAPTOP });
  await tab.page.goto(`${relay.url}/index.html?workers=1&links=0`);
  await tab.waitFor("the miner's workers", () => window.tabchain?.pool?.workers.length === 1);
  await tab.page.evaluate(() => {
    const pool = window.tabchain.pool;
    const start = pool.start.bind(pool);
    pool.paused = true;
    pool.start = (job) => (pool.paused ? undefined : start(job));
    pool.stop();
  });
  return tab;
}

/**
 * Mines in `tab` until its tip reaches `height`, pausing at once in the page (a test polling
 * from outside would let a fast regtest miner run on for dozens of blocks); returns the height.
 */
function mineTo(tab, height) {
  return tab.page.evaluate((height) => new Promise((resolve) => {
    const pool = window.tabchain.pool;
    if (window.tabchain.status().height >= height) return resolve(window.tabchain.status().height);
    let done = false;
    window.tabchain.on("tip", (tip) => {
      if (done || tip.height < height) return;
      done = true;
      pool.paused = true;
      pool.stop();
      resolve(tip.height);
    });
    pool.paused = false;
    window.tabchain.setWorkers(1);
  }), height);
}

test("the block tree draws a fork between two tabs and marks the reorg", async () => {
  await withNetwork(async ({ relay, browser }) => {
    const a = await unlinkedMiner(browser, relay);
    const b = await unlinkedMiner(browser, relay);
    await mineTo(a, 3);
    const base = await a.syncedWithRelay();
    await b.syncedWithRelay(base.height);
    // With the relay down the tabs cannot hear each other: B mines a block of its own, A a
    // longer branch; back up, the relay and B take A's.
    await relay.kill();
    const heightB = await mineTo(b, (await b.status()).height + 1);
    await mineTo(a, Math.max(heightB + 2, (await a.status()).height + 1));
    await relay.killAndRestart();
    const tipA = (await a.status()).tip;
    await b.waitFor("B to take A's branch", (tip) => window.tabchain.status().tip === tip, tipA);

    // The drawing's newest reorg mark: on A's block, the first of the branch B switched to.
    const drawn = await b.waitFor("the fork in B's drawing", () => {
      const heightOf = (a) => Number(a.getAttribute("aria-label").match(/^block (\d+)/)[1]);
      const marked = [...document.querySelectorAll("#forks a.active")].filter((a) => a.querySelector(".reorg-mark").textContent !== "");
      const at = marked.sort((x, y) => heightOf(x) - heightOf(y)).at(-1);
      const own = document.querySelector("#forks a.side.by-me");
      return at && own && {
        hash: at.dataset.hash,
        mark: at.querySelector(".reorg-mark").textContent,
        label: at.getAttribute("aria-label"),
        classes: at.getAttribute("class"),
        own: own.getAttribute("aria-label"),
        summary: document.getElementById("tree-summary").textContent,
      };
    }).catch(async (error) => {
      const state = await b.page.evaluate(() => ({
        summary: document.getElementById("tree-summary").textContent,
        tree: window.tabchain.blockTree(60).filter((x) => !x.active || x.switched_here).map((x) => `${x.height}:${x.active ? "active" : "side"}:${x.switched_here}:${x.mine}`),
        height: window.tabchain.status().height,
      }));
      throw new Error(`${error.message}\nB: ${JSON.stringify(state)}`);
    });
    const switched = (await b.page.evaluate(() => window.tabchain.blockTree(60))).find((block) => block.hash === drawn.hash);
    assert.ok(switched.switched_here > 0, "the mark is on a block where B did not switch");
    assert.equal(drawn.mark, `⇄ ${switched.switched_here}`);
    assert.match(drawn.classes, /^block active by-tab( new)?$/, "A's block is not drawn as another tab's on the active row");
    assert.match(drawn.label, new RegExp(`a reorg of ${switched.switched_here} block`));
    assert.match(drawn.own, /mined by this tab, .*on a side branch/);
    assert.match(drawn.summary, new RegExp(`reorgs: .*${switched.switched_here} at height ${switched.height}`));
    await b.page.locator("#forks").screenshot({ path: join(artifacts(), "fork-tree.png") });
    await b.page.screenshot({ path: join(artifacts(), "fork-laptop.png") });
    assert.deepEqual([...a.errors, ...b.errors], []);
  });
});

test("the page says in words when other tabs of this browser are open and when it is offline", async () => {
  await withNetwork(async ({ relay, browser }) => {
    const tab = await Tab.open(browser, relay, { workers: 0, viewport: LAPTOP });
    assert.ok(await tab.page.locator("#tabs-note").isHidden(), "a lone tab says other tabs are open");
    const sibling = await Tab.besides(tab, { workers: 0 });
    const note = await tab.waitFor("the other-tabs notice", () => !document.getElementById("tabs-note").hidden && document.getElementById("tabs-note").textContent);
    assert.match(note, /^1 other tab of this browser is open\. Each tab is a node of its own, with its own copy of the chain, its own wallet/);
    await sibling.page.close();

    await relay.kill();
    const offline = await tab.waitFor("the offline notice", () => !document.getElementById("offline").hidden && document.getElementById("offline").textContent);
    assert.match(offline, /^The relay cannot be reached \((next try in \d+ s|trying again now)\)\. Mining goes on;/);
    assert.match(await tab.page.locator("#status").textContent(), /^connecting/);
    await relay.killAndRestart();
    await tab.waitFor("the notice to go", () => document.getElementById("offline").hidden);
    assert.deepEqual(tab.errors, []);
  });
});
