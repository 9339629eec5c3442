// The page's boot file: loads the wasm façade (`www/pkg`, built by `cargo xtask run`), resumes
// this tab's node from its store (the checkpoint record by record, then the journal, yielding to
// the event loop so that no task blocks the page), starts the driver (`node.js`) and mounts the
// panels. Any
// failure to load, any panic inside wasm and any storage failure shows in the #fatal banner.
// Each panel (`panels/*.js`) owns its part of the page and hears from the driver by
// subscribing; they share no state but the context they are given.

import { ApiError, apiJson } from "./api.js";
import { loadWasm } from "./wasm-loader.js";

/** The panels, each `panels/NAME.js` exporting `mount(context)`; the log first, to hear all. */
const PANELS = ["log", "status", "states", "peers", "miner", "wallet", "charts", "forks", "explorer"];

/** @typedef {import("./protocol.js").PanelContext} PanelContext */

/** The waits between tries to reach the relay at start-up: doubled from the least to the most. */
const RELAY_RETRY_MIN_S = 1;
const RELAY_RETRY_MAX_S = 30;

/** Longest run of resume calls before the page yields to its event loop. */
const RESUME_SLICE_MS = 30;

const $ = (id) => document.getElementById(id);

function showFatal(message) {
  const banner = $("fatal");
  banner.textContent = message;
  banner.hidden = false;
  $("status").textContent = "stopped: see the error above";
  $("status-dot").className = "dot dot-bad";
}

/** An unexpected failure in words: what happened, then what to do (no stack trace). */
const inWords = (message) =>
  `Something went wrong in this page: ${String(message).replace(/^(Uncaught )?(Error: )?/, "")}.\nReloading the page usually recovers; the chain and wallet are kept in this browser.`;

window.addEventListener("error", (event) => showFatal(inWords(event.message)));
// A panic inside wasm: the bundle's panic hook hands its message and place here
// (`tabchain_web::FATAL_HANDLER`).
globalThis.tabchainFatal = showFatal;
window.addEventListener("unhandledrejection", (event) =>
  showFatal(inWords(event.reason instanceof Error ? event.reason.message : event.reason)),
);

/** Shows a storage problem with the way out: drop the tab's store and sync again from peers. */
function showRebuild(message, dbName, ChainStore) {
  showFatal(`${message}\nThis tab's stored chain cannot be used. Rebuilding fetches it again from peers; the wallet key is kept.`);
  const button = Object.assign(document.createElement("button"), { id: "rebuild", textContent: "Rebuild from peers" });
  button.onclick = async () => {
    await ChainStore.destroy(dbName);
    location.reload();
  };
  $("fatal").append(document.createElement("br"), button);
}

/** Half the cores by default; `?workers=N` opens the page with N (0: not mining). */
function workersAsked() {
  const cores = navigator.hardwareConcurrency || 2;
  const asked = Number.parseInt(new URLSearchParams(location.search).get("workers") ?? "", 10);
  return Number.isInteger(asked) ? Math.min(Math.max(asked, 0), cores) : Math.max(1, Math.floor(cores / 2));
}

/**
 * Warns when this computer's clock is far from the relay's (core's rule, `clock_skew_s`):
 * blocks mined here would be refused as too far ahead, or the network's blocks look too new.
 */
function checkClock(wasm, network, relayTime) {
  const skew = wasm.clock_skew_s(network, Date.now() / 1000, relayTime);
  if (skew === undefined) return;
  const minutes = Math.max(1, Math.round(Math.abs(skew) / 60));
  const banner = $("clock-warning");
  banner.textContent = skew > 0
    ? `This computer's clock is about ${minutes} min ahead of the network's. Blocks mined here will be refused by other nodes as dated in the future. Set the clock right (automatic time), then reload.`
    : `This computer's clock is about ${minutes} min behind the network's. New blocks from the network look dated in the future to this tab, so it falls behind. Set the clock right (automatic time), then reload.`;
  banner.hidden = false;
}

/**
 * The relay's status (`/api/status`), asked again with growing waits while the relay cannot be
 * reached (it restarts, or this computer went offline after the page loaded); the status line
 * says so and when the next try is.
 */
async function relayStatus() {
  for (let waitS = RELAY_RETRY_MIN_S; ; waitS = Math.min(waitS * 2, RELAY_RETRY_MAX_S)) {
    try {
      return await apiJson("./api/status");
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 0) throw error;
      $("status").textContent = `cannot reach the relay; trying again in ${waitS} s`;
      await new Promise((resolve) => setTimeout(resolve, waitS * 1000));
      $("status").textContent = "cannot reach the relay; trying again now";
    }
  }
}

/** Lets the page draw and handle input before the next slice of work. */
const yieldToPage = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Resumes this tab's node from `store` (`wasm.TabResume`): each checkpoint record (about 1 MiB,
 * read one at a time), then each change set of the journal, in slices of `RESUME_SLICE_MS`.
 * Returns the node and what the checkpoint and journal hold, for the driver's next checkpoint.
 */
async function resumeNode(wasm, network, seed, store) {
  const resume = new wasm.TabResume(network);
  const nRecords = await store.checkpointLength();
  let sliceStart = performance.now();
  const maybeYield = async () => {
    if (performance.now() - sliceStart < RESUME_SLICE_MS) return;
    await yieldToPage();
    sliceStart = performance.now();
  };
  let checkpointBytes = 0;
  for (let index = 0; index < nRecords; index += 1) {
    const record = await store.checkpointRecord(index);
    resume.push_record(record);
    checkpointBytes += record.byteLength;
    await maybeYield();
  }
  const journal = await store.loadJournal();
  let bytes = 0;
  for (const set of journal) {
    resume.apply_change_set(set);
    bytes += set.byteLength;
    await maybeYield();
  }
  return { tab: resume.finish(seed), nRecords, checkpointBytes, journal: { sets: journal.length, bytes } };
}

/**
 * The page's modules, fetched at once while the wasm bundle loads (none does anything when
 * imported): the driver's, then the panels, mounted in `PANELS`' order.
 */
function importModules() {
  return {
    node: import("./node.js"),
    identity: import("./identity.js"),
    store: import("./store.js"),
    panels: Promise.all(PANELS.map((name) => import(`./panels/${name}.js`))),
  };
}

/** The IndexedDB database of this tab's node on `network`. */
const storeName = (network, identity) => `tabchain-${network}-${identity.id}`;

/**
 * What the node needs besides wasm, asked for while the bundle loads: the relay's status
 * (`relay`: it says which network the relay runs, by the name core gives it; the tab joins the
 * same one), this tab's identity, and then its store, opened as soon as both name it.
 */
function startPrerequisites(relay, modules) {
  const identity = modules.identity.then(({ claimIdentity }) => claimIdentity());
  const store = Promise.all([relay, identity, modules.store]).then(([status, id, { ChainStore }]) =>
    ChainStore.open(storeName(status.network, id)),
  );
  // Awaited by `startNode`; marked handled here so that, when the bundle fails to load too, its
  // message is the one the banner keeps.
  for (const promise of [relay, identity, store]) promise.catch(() => {});
  return { relay, identity, store };
}

async function startNode(wasm, modules, prerequisites) {
  const relay = await prerequisites.relay;
  const network = relay.network;
  checkClock(wasm, network, relay.time);
  const { TabNodeDriver } = await modules.node;
  const { setSeed } = await modules.identity;
  const identity = await prerequisites.identity;
  const { ChainStore } = await modules.store;
  navigator.storage?.persist?.(); // ask the browser not to evict the chain under pressure
  const dbName = storeName(network, identity);
  let store;
  let resumed;
  try {
    store = await prerequisites.store;
    resumed = await resumeNode(wasm, network, identity.seed, store);
  } catch (error) {
    // A `ResumeError` names what is wrong with the store; anything else is IndexedDB's.
    showRebuild(`Could not restore the chain: ${error?.message ?? error}`, dbName, ChainStore);
    return;
  }
  performance.mark("tabchain:resumed");
  const { tab, nRecords, checkpointBytes, journal } = resumed;
  const workers = workersAsked();
  // `?links=0` keeps the tab on the relay alone, with no direct links to other tabs.
  const directLinks = new URLSearchParams(location.search).get("links") !== "0";
  const iceServers = relay.ice_servers ?? [];
  const driver = new TabNodeDriver(tab, store, { workers, journal, checkpointBytes, iceServers, directLinks });
  driver.on("stopped", (error) => showRebuild(`Storage failed: ${error?.message ?? error}`, dbName, ChainStore));
  /** @type {PanelContext} */
  const context = { wasm, driver, identity, setSeed: (hex) => setSeed(identity.id, hex) };
  // Dynamic imports, so that a panel that fails to load is an error the banner shows.
  const panels = await modules.panels;
  performance.mark("tabchain:panels");
  for (const panel of panels) panel.mount(context);
  performance.mark("tabchain:mounted");
  driver.start();
  // For the end-to-end tests and benchmarks only; the page itself never reads these (nor the
  // `tabchain:*` performance marks: wasm loaded, node resumed, panels in, panels mounted).
  window.tabchain = driver;
  window.tabchainIdentity = identity;
  window.tabchainStartedMs = performance.now();
  if (identity.adopted) driver.log("picked up the node and wallet of a tab that was closed");
  driver.log(`node started on ${network} at height ${driver.restoredHeight} (resumed from ${nRecords} checkpoint records and ${journal.sets} change sets), mining with ${workers} worker${workers === 1 ? "" : "s"}`);
}

async function main() {
  // The bundle first: it is the longest fetch, and the browser opens only a few connections to
  // the relay at once, so it must not queue behind the panels' modules. The loader imports the
  // bundle dynamically, so that a missing bundle is an error we can show; it picks the SIMD128
  // build, or the scalar one where the browser lacks SIMD.
  const loading = loadWasm();
  // The relay's status next: the node cannot start without it, so it must not queue behind the
  // modules either.
  const relay = relayStatus();
  const modules = importModules();
  const prerequisites = startPrerequisites(relay, modules);
  let wasm;
  try {
    wasm = await loading;
    performance.mark("tabchain:wasm");
  } catch (err) {
    showFatal(
      `Could not load the wasm bundle (./pkg/tabchain_web.js): ${err.message ?? err}\n` +
        "Build it with `cargo xtask run`.",
    );
    return;
  }
  await startNode(wasm, modules, prerequisites);
}

main();
