// Wallets in tabs: a payment from one tab to another confirms in both; a reload keeps the
// wallet, balance and chain without syncing from scratch; the backup words and the key file
// restore a wallet in another browser; a closed tab's wallet is picked up by the next tab opened.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Tab, withNetwork } from "../support.mjs";

const hasCoins = () => window.tabchain.status().confirmed !== "0";

test("tab A pays tab B, both see it confirmed, and a reload of A keeps wallet, balance and chain", async () => {
  await withNetwork(async ({ relay, browser }) => {
    const a = await Tab.open(browser, relay, { workers: 1 });
    const b = await Tab.open(browser, relay, { workers: 0 });
    const addressB = (await b.status()).address;
    await a.waitFor("A's first mature coins", hasCoins);

    // Through the form, as a user would.
    await a.page.fill("#send-to", addressB);
    await a.page.fill("#send-amount", "1.5");
    await a.page.click("#send button[type=submit]");
    const result = await a.page.locator("#send-result").textContent();
    const txid = result.match(/^sent: ([0-9a-f]{64})$/)?.[1];
    assert.ok(txid, `the form said: ${result}`);
    const confirmedIn = ({ txid, received }) =>
      window.tabchain.history().find((t) => t.txid === txid && t.height !== null && t.received === received);
    await a.waitFor("the payment confirmed in A", (txid) => window.tabchain.node.search(txid).view.status === "confirmed", txid);
    await b.waitFor("the payment confirmed in B", confirmedIn, { txid, received: "1.5" });
    await b.waitFor("B's balance", () => window.tabchain.status().confirmed === "1.5");

    // Bad input gets a clear reason and sends nothing.
    await a.page.fill("#send-to", "tabrt1notanaddress");
    await a.page.click("#send button[type=submit]");
    assert.match(await a.page.locator("#send-result").textContent(), /^not sent: /);

    await a.setWorkers(0);
    const before = await a.waitFor("A's writes to finish", () => window.tabchain.pendingWrites === 0 && window.tabchain.status().workers === 0 && window.tabchain.status());
    await a.load(0);
    const restored = await a.page.evaluate(() => window.tabchain.restoredHeight);
    assert.equal(restored, before.height, "the reload did not restore the whole stored chain");
    const after = await a.syncedWithRelay(before.height);
    assert.equal(after.address, before.address);
    assert.equal(after.confirmed, before.confirmed);
    // (The wallet's history lists the newest rows only, which a mining tab fills with coinbases.)
    const payment = await a.page.evaluate((txid) => window.tabchain.node.search(txid).view, txid);
    assert.equal(payment.status, "confirmed");
  });
});

/** Whether the page counts this tab's key as backed up (`mountBackup`'s flag). */
const backedUp = () => localStorage.getItem(`tabchain-backed-up-${window.tabchainIdentity.id}`) === window.tabchainIdentity.seed;

test("the backup words restore a wallet in another browser", async () => {
  await withNetwork(async ({ relay, browser }) => {
    const a = await Tab.open(browser, relay, { workers: 1 });
    await a.waitFor("coins to back up", hasCoins);
    await a.waitFor("the backup reminder", () => !document.getElementById("backup-reminder").hidden);
    await a.setWorkers(0);
    await a.page.click("#key-words-show");
    const words = (await a.page.locator("#key-words").textContent()).trim();
    assert.equal(words.split(/\s+/).length, 24);
    assert.ok(await a.page.locator("#backup-reminder").isHidden(), "the reminder stays after a backup");
    const wallet = await a.syncedWithRelay();

    const c = await Tab.open(browser, relay, { workers: 0 });
    // A mistyped backup is refused with the reason and changes nothing.
    const wrong = words.split(" ").reverse().join(" ");
    await c.page.fill("#key-words-input", wrong);
    await c.page.click("#key-words-import button[type=submit]");
    assert.match(await c.page.locator("#backup-result").textContent(), /^not imported: /);
    await c.page.fill("#key-words-input", words);
    await Promise.all([c.page.waitForEvent("load"), c.page.click("#key-words-import button[type=submit]")]);
    await c.waitFor("the restored wallet", (address) => window.tabchain?.status().address === address, wallet.address);
    const restored = await c.syncedWithRelay(wallet.height);
    assert.equal(restored.confirmed, wallet.confirmed);
    // The restored key came from its words: it counts as backed up, with no reminder.
    assert.ok(await c.page.evaluate(backedUp), "a key restored from its words is not backed up");
    assert.ok(await c.page.locator("#backup-reminder").isHidden());
  });
});

test("the key file restores a wallet in another browser; a bad file is read once and refused in the backup panel", async () => {
  await withNetwork(async ({ relay, browser }) => {
    const a = await Tab.open(browser, relay, { workers: 0 });
    const address = (await a.status()).address;
    const [download] = await Promise.all([a.page.waitForEvent("download"), a.page.click("#key-export")]);
    const file = await download.path();

    const c = await Tab.open(browser, relay, { workers: 0 });
    await c.page.evaluate(() => {
      window.fileReads = 0;
      const text = Blob.prototype.text;
      Blob.prototype.text = function () {
        window.fileReads += 1;
        return text.call(this);
      };
    });
    await c.page.setInputFiles("#key-import", { name: "not-a-key.txt", mimeType: "text/plain", buffer: Buffer.from("key: not hex\n") });
    await c.waitFor("the refusal", () => document.getElementById("backup-result").textContent !== "");
    assert.equal(await c.page.locator("#backup-result").textContent(), "not imported: a key backup holds 64 hexadecimal digits");
    assert.equal(await c.page.locator("#send-result").textContent(), "", "the refusal went to the send form");
    assert.equal(await c.page.evaluate(() => window.fileReads), 1, "the file was not read exactly once");
    assert.notEqual((await c.status()).address, address);

    await Promise.all([c.page.waitForEvent("load"), c.page.setInputFiles("#key-import", file)]);
    await c.waitFor("the restored wallet", (address) => window.tabchain?.status().address === address, address);
    assert.ok(await c.page.evaluate(backedUp), "a key restored from its file is not backed up");
  });
});

test("a tab opened after another is closed picks up its wallet", async () => {
  await withNetwork(async ({ relay, browser }) => {
    const first = await Tab.open(browser, relay, { workers: 0 });
    const firstAddress = (await first.status()).address;
    // A second tab of the same browser, while the first is open, gets a wallet of its own.
    const second = await first.context.newPage();
    await second.goto(`${relay.url}/index.html?workers=0`);
    const secondAddress = await (await second.waitForFunction(() => window.tabchain?.status().address)).jsonValue();
    assert.notEqual(secondAddress, firstAddress);
    await first.page.close();
    const third = await first.context.newPage();
    await third.goto(`${relay.url}/index.html?workers=0`);
    const adopted = await (await third.waitForFunction(() => window.tabchainIdentity?.adopted && window.tabchain?.status().address)).jsonValue();
    assert.equal(adopted, firstAddress);
  });
});
