// A pruned tab: past the blocks a node keeps in memory (1,024), the tab stores a checkpoint and
// a short journal instead of every change set, reloads to the same node with the same wallet
// and whole wallet history, and its explorer shows a block it no longer holds by fetching it
// from the relay and verifying it against its headers, refusing one that does not match.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Tab, withNetwork } from "../support.mjs";

/** The blocks a tab keeps (`PRUNE_KEEP_BLOCKS`, core's `ACTIVE_BLOCKS_KEPT`); the test checks
 * the page's wasm says the same. */
const KEPT_BLOCKS = 1024;
/** Mined past the kept window, so the first blocks and the early payment are pruned. */
const HEIGHT_MIN = KEPT_BLOCKS + 150;
const MINING_TIMEOUT_MS = 600_000;

/** What the page stores: checkpoint records and journal entries, read from its IndexedDB. */
function storedCounts(tab) {
  return tab.page.evaluate(async () => {
    const name = `tabchain-regtest-${window.tabchainIdentity.id}`;
    const db = await new Promise((resolve, reject) => {
      const open = indexedDB.open(name);
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const count = (store) =>
      new Promise((resolve, reject) => {
        const req = db.transaction(store, "readonly").objectStore(store).count();
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
    const counts = { version: db.version, checkpoint: await count("checkpoint"), journal: await count("changes") };
    db.close();
    return counts;
  });
}

/** The wallet as the page shows it: balances, rows of history, and how many in all. */
function wallet(tab) {
  return tab.page.evaluate(() => {
    const s = window.tabchain.status();
    return {
      height: s.height,
      tip: s.tip,
      balances: [s.confirmed, s.immature, s.pending],
      history: window.tabchain.history(),
      historyLength: window.tabchain.historyLength(),
    };
  });
}

/** Opens the explorer at `#block/ID` and waits for it to settle on a block or an error. */
async function explore(tab, id) {
  await tab.page.evaluate((route) => {
    document.querySelector("#explorer-page").replaceChildren(); // nothing settled from before
    location.hash = route;
  }, `block/${id}`);
  return tab.waitFor("the explorer page", () => {
    const page = document.querySelector("#explorer-page");
    const settled = page.querySelector("h3, .result.error");
    return settled && { text: page.textContent, verified: page.querySelector("#fetched-verified")?.textContent ?? null };
  });
}

test("a tab past the kept window checkpoints, reloads to the same node and wallet, and verifies pruned blocks it fetches", async () => {
  await withNetwork(async ({ relay, browser }) => {
    const tab = await Tab.open(browser, relay, { workers: 2 });
    const kept = await tab.page.evaluate(async () => (await import("./wasm-loader.js")).loadWasm().then((wasm) => wasm.prune_keep_blocks()));
    assert.equal(kept, KEPT_BLOCKS);
    // A payment to itself early on: by the end its block is below the kept window.
    await tab.waitFor("coins to spend", () => window.tabchain.status().confirmed !== "0");
    const paid = await tab.page.evaluate(() => window.tabchain.pay(window.tabchain.status().address, "1", 2000));
    await tab.waitFor(`height ${HEIGHT_MIN}`, (h) => window.tabchain.status().height >= h, HEIGHT_MIN, MINING_TIMEOUT_MS);
    await tab.setWorkers(0);
    await tab.syncedWithRelay(HEIGHT_MIN);
    await tab.waitFor("every change set stored", () => window.tabchain.pendingWrites === 0);
    const before = await wallet(tab);
    assert.ok(before.height >= HEIGHT_MIN);
    // A coinbase for every block the tab mined (the relay mines none), and the payment.
    assert.ok(before.historyLength > KEPT_BLOCKS + 100, `history of ${before.historyLength}`);
    const driver = await tab.page.evaluate(() => ({ checkpoints: window.tabchain.checkpoints, journalSets: window.tabchain.journalSets }));
    assert.ok(driver.checkpoints >= 1, "no checkpoint was taken");

    // IndexedDB holds a checkpoint (taken at 1,024 sets) and only the change sets since.
    const stored = await storedCounts(tab);
    assert.equal(stored.version, 2);
    assert.ok(stored.checkpoint >= 3, `checkpoint records: ${stored.checkpoint}`); // blocks, coins, end
    assert.equal(stored.journal, driver.journalSets);
    assert.ok(stored.journal > 0 && stored.journal + KEPT_BLOCKS <= before.height, `a journal of ${stored.journal} sets at height ${before.height}`);

    // Reloaded from the checkpoint and that journal: the same chain, balances and history.
    const reload = async (records, sets, expected) => {
      await tab.load(0);
      assert.equal(await tab.page.evaluate(() => window.tabchain.restoredHeight), expected.height);
      assert.deepEqual(await wallet(tab), expected);
      const log = await tab.page.locator("#log").textContent();
      assert.match(log, new RegExp(`resumed from ${records} checkpoint records and ${sets} change sets`));
      assert.deepEqual(tab.errors, []);
    };
    await reload(stored.checkpoint, stored.journal, before);

    // A resumed chain holds every block it replayed until its next block trims it to the kept
    // window: mine a few.
    await tab.setWorkers(1);
    await tab.waitFor("three more blocks", (h) => window.tabchain.status().height >= h, before.height + 3);
    await tab.setWorkers(0);
    await tab.syncedWithRelay(before.height + 3);
    await tab.waitFor("every change set stored", () => window.tabchain.pendingWrites === 0);
    const later = await wallet(tab);
    assert.equal(later.historyLength, before.historyLength + (later.height - before.height));

    // A checkpoint now, with the payment's block and the first coinbases below the kept window:
    // the journal is emptied, and the wallet's old history (a record of its own) comes back.
    await tab.page.evaluate(() => window.tabchain.requestCheckpoint());
    await tab.waitFor("the checkpoint", () => window.tabchain.checkpoints === 1 && window.tabchain.pendingWrites === 0);
    const now = await storedCounts(tab);
    assert.equal(now.journal, 0);
    assert.ok(now.checkpoint >= 5, `checkpoint records: ${now.checkpoint}`); // headers, blocks, coins, end, wallet
    await reload(now.checkpoint, 0, later);

    // Block 1 is pruned: fetched from the relay, verified against the headers, marked so.
    const hash1 = await tab.page.evaluate(() => window.tabchain.node.pruned_block("1"));
    assert.match(hash1 ?? "", /^[0-9a-f]{64}$/, "block 1 is not pruned");
    const shown = await explore(tab, 1);
    assert.match(shown.verified ?? "", /^✓ fetched from the relay and verified: its hash is this node's active header at its height/);
    assert.match(shown.text, /Block 1Hash/);
    assert.ok(shown.text.includes(hash1), "the page shows block 1's hash");
    await tab.page.locator("#explorer-page").screenshot({ path: `${process.env.TABCHAIN_E2E_ARTIFACTS}/pruned-block.png` });

    // A relay answering with another block, or with block 3's header over another body, is
    // refused with the reason, and nothing is shown as verified.
    const blockHex = async (height) => (await (await fetch(`${relay.url}/api/blocks/${height}/hex`)).json()).hex;
    const [hex2, hex3] = [await blockHex(2), await blockHex(3)];
    const lastDigit = hex3.at(-1) === "0" ? "1" : "0"; // in the coinbase's last output: another txid
    const answers = [
      [hex2, /^3: not shown, the block fetched, [0-9a-f]{64}, is not the block asked for, [0-9a-f]{64}$/],
      [hex3.slice(0, -1) + lastDigit, /^3: not shown, the fetched block [0-9a-f]{64} is damaged or forged: /],
    ];
    for (const [i, [hex, reason]] of answers.entries()) {
      await tab.page.route("**/api/blocks/*/hex", (route) => route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify({ hex }) }));
      await explore(tab, later.height); // away first: the same hash again changes nothing
      const forged = await explore(tab, 3);
      assert.equal(forged.verified, null, `answer ${i} was shown as verified`);
      assert.match(forged.text, reason);
      await tab.page.unroute("**/api/blocks/*/hex");
    }
    assert.match(paid, /^[0-9a-f]{64}$/);
  });
});
