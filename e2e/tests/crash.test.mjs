// A tab closed in the middle of its writes reloads to a consistent state: every IndexedDB write
// is one transaction with strict durability, so the store holds each change set whole or not at
// all, in order; the reloaded node resumes from it without complaint and syncs on from the relay.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Relay, eventually, launchProfile } from "../support.mjs";

/** Blocks the relay mines before the tab opens, so that its sync writes for a while. */
const CHAIN_BLOCKS = 400;

async function openPage(profile, relay) {
  const context = await launchProfile(profile);
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(`${relay.url}/index.html?workers=0`);
  return { context, page, errors };
}

test("a tab closed while its writes are pending reloads to a consistent state and syncs on", async () => {
  const relay = await Relay.start(["--mine", "--threads", "1"]);
  const profile = mkdtempSync(join(tmpdir(), "tabchain-profile-"));
  const opened = [];
  try {
    await eventually("the relay to mine a chain", async () => ((await relay.status())?.height ?? 0) >= CHAIN_BLOCKS || null, 180_000);
    const first = await openPage(profile, relay);
    opened.push(first.context);
    // Mid-sync, with change sets handed out and not yet committed: close the browser at once.
    const handle = await first.page.waitForFunction(
      () => {
        const driver = window.tabchain;
        const height = driver?.status().height ?? 0;
        return driver && driver.pendingWrites > 0 && height > 50 ? { height, pending: driver.pendingWrites } : null;
      },
      null,
      { polling: 5, timeout: 120_000 },
    );
    const closedAt = await handle.jsonValue();
    await first.context.close();
    assert.ok(closedAt.pending > 0, "writes were pending when the tab closed");

    const second = await openPage(profile, relay);
    opened.push(second.context);
    const restored = await second.page
      .waitForFunction(() => window.tabchain?.restoredHeight ?? null, null, { polling: 100, timeout: 120_000 })
      .then((h) => h.jsonValue());
    assert.ok(await second.page.locator("#fatal").isHidden(), `no error on reload: ${await second.page.locator("#fatal").textContent()}`);
    assert.notEqual((await second.page.evaluate(() => window.tabchain.status())).state, "stopped");
    // What it resumed is a prefix of the relay's chain (nothing half-written, nothing invented):
    // its block at the restored height is the relay's.
    assert.ok(restored >= 0 && restored <= (await relay.status()).height, `restored at ${restored}`);
    const ours = await second.page.evaluate((h) => window.tabchain.node.search(String(h)).view.hash, restored);
    const theirs = await (await fetch(`${relay.url}/api/blocks/${restored}`)).json();
    assert.equal(ours, theirs.hash, `block ${restored}`);
    // And it syncs on to the relay's tip.
    const tip = (await relay.status()).height;
    await second.page.waitForFunction((tip) => window.tabchain.status().height >= tip, tip, { polling: 200, timeout: 120_000 });
    assert.deepEqual(second.errors, []);
    await second.context.close();
  } finally {
    // A browser left open would keep this process alive after a failure.
    await Promise.all(opened.map((context) => context.close().catch(() => {})));
    rmSync(profile, { recursive: true, force: true });
    await relay.stop();
  }
});
