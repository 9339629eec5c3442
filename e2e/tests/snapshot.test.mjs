// Joining a long chain by snapshot: fresh tabs sync the headers, download the UTXO set at a
// base below the tip from the relay, check it against the commitment in the next block's
// coinbase, and validate only the blocks after it; then one pays the other and both see the
// payment confirmed. A reload resumes the snapshot-synced node from its checkpoint.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Tab, validChainPath, withNetwork } from "../support.mjs";

const hasCoins = () => window.tabchain.status().confirmed !== "0";

test("fresh tabs join a long chain by snapshot, pay each other, and both see the payment confirmed", async () => {
  const chain = JSON.parse(readFileSync(validChainPath(), "utf8"));
  await withNetwork(async ({ relay, browser }) => {
    for (const [i, hex] of chain.entries()) {
      const answer = await relay.submitBlock(hex);
      assert.equal(answer.status, 200, `block ${i + 1}: ${JSON.stringify(answer.body)}`);
    }
    const height = chain.length;
    const a = await Tab.open(browser, relay, { workers: 0 });
    const b = await Tab.open(browser, relay, { workers: 0 });
    // The base: the highest multiple of SNAPSHOT_INTERVAL (120) at least SNAPSHOT_DEPTH (360)
    // below the best header.
    const base = Math.floor((height - 360) / 120) * 120;
    for (const tab of [a, b]) {
      await tab.syncedWithRelay(height);
      const joined = await tab.page.evaluate(() => window.tabchain.snapshotAdopted);
      assert.ok(joined, "the tab joined by snapshot");
      assert.equal(joined.base_height, base);
      assert.equal(joined.height, base + 1, "the block after the base, checked against the set's commitment");
      // The set at the base: one coinbase for each block up to it (the forged chain pays none).
      assert.equal(joined.coins, base);
    }
    const addressB = (await b.status()).address;
    await a.setWorkers(1);
    await a.waitFor("A's first mature coins", hasCoins, undefined, 300_000);
    const txid = await a.page.evaluate((to) => window.tabchain.pay(to, "2", 2000), addressB);
    await a.waitFor("the payment confirmed in A", (txid) => window.tabchain.node.search(txid).view.status === "confirmed", txid, 300_000);
    await b.waitFor("B's balance", () => window.tabchain.status().confirmed === "2", undefined, 300_000);
    await a.setWorkers(0);

    // B reloads: the snapshot-synced node resumes from its checkpoint without syncing again.
    const before = await b.waitFor("B's writes to finish", () => window.tabchain.pendingWrites === 0 && window.tabchain.status());
    await b.load(0);
    const after = await b.syncedWithRelay(before.height);
    assert.equal(after.confirmed, "2");
    assert.deepEqual([a.errors, b.errors], [[], []]);
  });
});

/** The key the forged chain's coinbases pay (`forge::valid_chain`), as a key backup file. */
const FORGED_MINER_KEY_FILE = { name: "forged-miner.txt", mimeType: "text/plain", buffer: Buffer.from(`key: ${"0a".repeat(32)}\n`) };

test("a wallet's history below the snapshot comes from the relay, each entry proven against the tab's headers", async () => {
  const chain = JSON.parse(readFileSync(validChainPath(), "utf8"));
  await withNetwork(async ({ relay, browser }) => {
    for (const hex of chain) assert.equal((await relay.submitBlock(hex)).status, 200);
    const tab = await Tab.open(browser, relay, { workers: 0 });
    await tab.syncedWithRelay(chain.length);
    const base = (await tab.page.evaluate(() => window.tabchain.snapshotAdopted)).base_height;
    // The forged chain's miner: every block's coinbase paid it, those up to the base only in
    // blocks this tab never downloaded.
    await Promise.all([tab.page.waitForEvent("load"), tab.page.setInputFiles("#key-import", FORGED_MINER_KEY_FILE)]);
    await tab.syncedWithRelay(chain.length);
    const proven = await tab.waitFor("proven history", () => window.tabchain.provenHistory.length > 0 && window.tabchain.provenHistory);
    assert.equal(proven.length, 100, "one relay page of entries below the held blocks");
    assert.deepEqual(proven.map((e) => e.height), Array.from({ length: 100 }, (_, i) => base - i), "the newest below the base, in order");
    for (const entry of proven) {
      assert.equal(entry.received, "50", `coinbase ${entry.height} as read from the proven transaction`);
      assert.match(entry.verified, /^proven: /);
    }
    const row = tab.page.locator("#history tr.proven").first();
    assert.match(await row.textContent(), /✓ proven/);
    assert.match(await row.locator("td").first().getAttribute("title"), /merkle proof/);
  });
});
