// What every end-to-end test needs: its own relay (the real `tabchain` binary on a free
// loopback port, with its own data directory), Debian's Chromium under Playwright, and one
// browser context per peer — each context has its own storage, so each is its own node and
// wallet. `cargo xtask test` builds everything and passes the paths in the environment.

import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests with \`cargo xtask test\``);
  return value;
};

/** Where screenshots go (kept as test artifacts). */
export const artifacts = () => {
  const dir = env("TABCHAIN_E2E_ARTIFACTS");
  mkdirSync(dir, { recursive: true });
  return dir;
};

/** The forged blocks `cargo xtask test` wrote: `{genesis, valid: {hash, hex}, invalid: [{name, hex}]}`. */
export const forgedBlocksPath = () => env("TABCHAIN_E2E_FORGED");
/** A valid regtest chain, as the hex of each block in order (`cargo xtask test` writes it). */
export const validChainPath = () => env("TABCHAIN_E2E_CHAIN");

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` (async, returns a value or null) every 200 ms until it returns a value. */
export async function eventually(what, check, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== null && value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last error: ${last.message})` : ""}`);
}

/** A relay on regtest serving the page, on a free port with a fresh data directory. */
export class Relay {
  /**
   * `extraArgs`: more `serve` flags, such as `--peer URL`; or a function of the relay's port
   * that gives them (for flags naming the relay itself, such as `--public-url`). `builtIn`:
   * serve the page built into the binary (no `--www`, `TABCHAIN_WWW` unset), started in a
   * folder of its own that holds nothing else, as an installed relay runs; otherwise the page is
   * served from the source tree's `www/`.
   */
  static async start(extraArgs = [], { builtIn = false } = {}) {
    const port = await freePort();
    const args = typeof extraArgs === "function" ? extraArgs(port) : extraArgs;
    const relay = new Relay(port, mkdtempSync(join(tmpdir(), "tabchain-e2e-")), args, builtIn);
    await relay.#spawn();
    return relay;
  }

  constructor(port, dataDir, extraArgs, builtIn = false) {
    this.port = port;
    this.dataDir = dataDir;
    this.extraArgs = extraArgs;
    this.builtIn = builtIn;
    this.url = `http://127.0.0.1:${port}`;
    this.wsUrl = `ws://127.0.0.1:${port}/ws`;
  }

  async #spawn() {
    const www = this.builtIn ? [] : ["--www", env("TABCHAIN_WWW")];
    const args = ["serve", "--network", "regtest", "--listen", `127.0.0.1:${this.port}`, ...www, "--data", this.dataDir, ...this.extraArgs];
    const { TABCHAIN_WWW: _, ...inherited } = process.env;
    // `TABCHAIN_RELAY_LOG=info` (a `RUST_LOG` filter) shows what the relays do, for a test that fails.
    const options = { env: { ...inherited, RUST_LOG: process.env.TABCHAIN_RELAY_LOG ?? "warn" }, stdio: ["ignore", "ignore", "inherit"] };
    if (this.builtIn) options.cwd = this.dataDir;
    this.process = spawn(env("TABCHAIN_BIN"), args, options);
    await eventually("the relay to listen", () => this.status(), 60_000);
  }

  /** One API request; over the relay's request rate (429: tests poll it from one address) it
   * waits as `Retry-After` says and tries again. */
  async #api(path, init = {}) {
    for (;;) {
      const response = await fetch(`${this.url}/api${path}`, init);
      if (response.status !== 429) return response;
      await sleep((Number(response.headers.get("retry-after")) || 1) * 1000);
    }
  }

  async status() {
    const response = await this.#api("/status");
    return response.ok ? response.json() : null;
  }

  /** `/api/peers`: each connection's `addr` and whether it is `inbound`. */
  async peers() {
    const response = await this.#api("/peers");
    return response.ok ? response.json() : [];
  }

  /** POSTs a block (hex) to the relay as JSON (the API refuses other types with 415); returns
   * `{status, body}`. */
  async submitBlock(hex) {
    const init = { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ hex }) };
    const response = await this.#api("/block", init);
    return { status: response.status, body: await response.json() };
  }

  /** SIGKILL, as a crash would; then the same binary on the same port and data. */
  async killAndRestart() {
    await this.kill();
    await this.#spawn();
  }

  async kill() {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = new Promise((resolve) => this.process.once("exit", resolve));
    this.process.kill("SIGKILL");
    await exited;
  }

  async stop() {
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Runs `body({relay, browser})` against a fresh relay and browser, stopping both after. */
export async function withNetwork(body) {
  const relay = await Relay.start();
  const browser = await launchBrowser();
  try {
    await body({ relay, browser });
  } finally {
    await browser.close();
    await relay.stop();
  }
}

export async function launchBrowser() {
  return chromium.launch(withNetLog(BROWSER_OPTIONS));
}

/** `options` with Chromium's network log written under `TABCHAIN_NETLOG_DIR`, when it is set. */
function withNetLog(options) {
  const dir = process.env.TABCHAIN_NETLOG_DIR;
  if (!dir) return options;
  const file = join(dir, `netlog-${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}.json`);
  return { ...options, args: [...options.args, `--log-net-log=${file}`] };
}

/**
 * A browser profile kept in `userDataDir`, as a person's browser keeps one: closing it and
 * launching it again on the same folder finds the same storage (a test's crash and restart).
 */
export async function launchProfile(userDataDir) {
  return chromium.launchPersistentContext(userDataDir, { ...withNetLog(BROWSER_OPTIONS), viewport: { width: 1200, height: 2000 } });
}

const BROWSER_OPTIONS = {
    executablePath: process.env.TABCHAIN_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // WebRTC between tabs on one machine: host candidates as plain addresses (not mDNS names,
      // which do not resolve here), loopback ones included.
      "--disable-features=WebRtcHideLocalIpsWithMdns",
      "--allow-loopback-in-peer-connection",
      // Every tab is a node that must keep time while another is in front.
      "--disable-background-timer-throttling",
      "--disable-renderer-backgrounding",
      "--disable-backgrounding-occluded-windows",
    ],
};

/** One peer: a fresh browser context (its own storage) with the page open. */
export class Tab {
  /** `initScript`: a script to run before the page's own on every load (a probe). */
  static async open(browser, relay, { workers = 1, viewport = { width: 1200, height: 2000 }, clockOffsetS = 0, initScript = null } = {}) {
    const context = await browser.newContext({ viewport });
    if (initScript) await context.addInitScript(initScript);
    if (clockOffsetS !== 0) {
      // A computer whose clock is off: everything the page reads as "now" is shifted.
      await context.addInitScript((offsetMs) => {
        const realNow = Date.now;
        Date.now = () => realNow() + offsetMs;
      }, clockOffsetS * 1000);
    }
    const tab = new Tab(context, await context.newPage(), relay);
    await tab.load(workers);
    return tab;
  }

  /** Another tab of `tab`'s browser profile: it shares storage and `BroadcastChannel` with it. */
  static async besides(tab, { workers = 1 } = {}) {
    const sibling = new Tab(tab.context, await tab.context.newPage(), tab.relay);
    await sibling.load(workers);
    return sibling;
  }

  constructor(context, page, relay) {
    this.context = context;
    this.page = page;
    this.relay = relay;
    this.errors = [];
    page.on("pageerror", (error) => this.errors.push(error.message));
    // What the network did wrong, for the message of a test that fails (not itself an error: a
    // request cut off by a reload or a closed tab fails too).
    this.networkTrouble = [];
    page.on("requestfailed", (request) => this.networkTrouble.push(`${request.url()}: ${request.failure()?.errorText}`));
    page.on("response", (response) => {
      if (response.status() >= 400) this.networkTrouble.push(`${response.url()}: HTTP ${response.status()}`);
    });
  }

  /** Loads (or reloads) the page and waits for its node to start; returns its status. */
  async load(workers = 1) {
    await this.page.goto(`${this.relay.url}/index.html?workers=${workers}`);
    return this.waitFor("the node to start", () => window.tabchain?.status() ?? null);
  }

  /** Evaluates `fn(arg)` in the page until it returns a value (not null/undefined/false). */
  async waitFor(what, fn, arg, timeoutMs = 120_000) {
    try {
      const handle = await this.page.waitForFunction(fn, arg, { timeout: timeoutMs, polling: 200 });
      return handle.jsonValue();
    } catch (error) {
      const fatal = await this.page.locator("#fatal").textContent().catch(() => "");
      const network = this.networkTrouble.join("; ");
      throw new Error(`waiting for ${what}: ${error.message}\npage errors: ${this.errors.join("; ")}\nnetwork: ${network}\n${fatal}`);
    }
  }

  status() {
    return this.page.evaluate(() => window.tabchain.status());
  }

  setWorkers(n) {
    return this.page.evaluate((n) => window.tabchain.setWorkers(n), n);
  }

  /** Waits until this tab is in sync with the relay's tip at height `minHeight` or more. */
  async syncedWithRelay(minHeight = 0) {
    let seen = "nothing yet";
    return eventually("the relay's tip", async () => {
      const [relay, mine] = [await this.relay.status(), await this.status()];
      seen = `the relay at ${relay?.height} ${relay?.tip}, the tab ${mine.state} at ${mine.height} ${mine.tip} (best header ${mine.best_header_height}, ${mine.peers} peers, ${mine.blocks_found} found)`;
      return mine.state === "in sync" && relay.tip === mine.tip && mine.height >= minHeight ? mine : null;
    }).catch(async (error) => {
      const log = await this.page.locator("#log li").allTextContents().catch(() => []);
      throw new Error(`${error.message}: last seen ${seen}\nthe tab's log, newest first:\n${log.slice(0, 20).join("\n")}`);
    });
  }

  async close() {
    await this.context.close();
  }
}
