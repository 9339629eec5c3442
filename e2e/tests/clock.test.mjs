// A tab whose clock is far from the network's says so, in words, instead of silently mining
// blocks other nodes refuse; a tab with a right clock shows nothing.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Tab, withNetwork } from "../support.mjs";

const warning = (tab) => tab.page.locator("#clock-warning");

test("a clock ten minutes off is warned about, ahead or behind; a right one is not", async () => {
  await withNetwork(async ({ relay, browser }) => {
    const right = await Tab.open(browser, relay, { workers: 0 });
    assert.equal(await warning(right).isHidden(), true, "no warning with a right clock");

    const ahead = await Tab.open(browser, relay, { workers: 0, clockOffsetS: 600 });
    await ahead.waitFor("the clock warning", () => !document.getElementById("clock-warning").hidden);
    assert.match(await warning(ahead).textContent(), /about 10 min ahead of the network's\. Blocks mined here will be refused/);

    const behind = await Tab.open(browser, relay, { workers: 0, clockOffsetS: -600 });
    await behind.waitFor("the clock warning", () => !document.getElementById("clock-warning").hidden);
    assert.match(await warning(behind).textContent(), /about 10 min behind the network's/);
    assert.deepEqual([...right.errors, ...ahead.errors, ...behind.errors], []);
  });
});
