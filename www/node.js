// The node in the tab: drives the wasm `TabNode` — the relay's WebSocket at this page's origin
// (reconnecting with backoff), the clock (ticks when the node asks), and the miner pool (a new
// template on every new tip, submitting what the workers find).

import { MinerPool } from "./miner.js";

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30000;
const RELAY_PEER = 1;
/** How often, at most, the page is redrawn. */
const REPORT_INTERVAL_MS = 250;

const nowSeconds = () => Math.floor(Date.now() / 1000);

export class TabNodeDriver {
  /**
   * @param node a wasm `TabNode` (new or restored)
   * @param store the `ChainStore` its change sets go to
   */
  constructor(node, store, { onStatus, onLog, onStorageError, workers }) {
    this.node = node;
    this.store = store;
    this.onStatus = onStatus;
    this.onLog = onLog;
    this.onStorageError = onStorageError;
    this.restoredHeight = node.status().height;
    // Change sets handed to IndexedDB and not yet committed; a reload loses only those, and
    // then fetches their blocks again from the relay.
    this.pendingWrites = 0;
    this.stopped = false;
    this.socket = null;
    this.delay = RECONNECT_MIN_MS;
    this.extraNonce = 0;
    this.blocksFound = 0;
    // Called (at most once per report) after the tip changed, for views that follow the chain.
    this.onTip = null;
    this.reportScheduled = false;
    this.tipChangedSinceReport = false;
    this.hashRate = 0;
    this.pool = new MinerPool(workers, {
      onFound: (nonce) => this.#found(nonce),
      onExhausted: () => this.#mine(),
      onError: (message) => this.onLog?.(`miner error: ${message}`),
    });
    this.pool.ready.then(() => this.#mine());
    setInterval(() => {
      this.hashRate = this.pool.takeRate();
      this.#report();
    }, 1000);
    this.#connect();
    this.#scheduleTick();
  }

  #connect() {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    socket.onopen = () => {
      this.delay = RECONNECT_MIN_MS;
      this.node.peer_connected(RELAY_PEER, nowSeconds());
      this.#drain();
    };
    socket.onmessage = (event) => {
      this.node.message(RELAY_PEER, new Uint8Array(event.data), nowSeconds());
      this.#drain();
    };
    socket.onclose = () => {
      if (this.socket !== socket || this.stopped) return;
      this.socket = null;
      this.node.peer_disconnected(RELAY_PEER);
      this.#drain();
      setTimeout(() => this.#connect(), this.delay);
      this.delay = Math.min(this.delay * 2, RECONNECT_MAX_MS);
      this.#report();
    };
  }

  #scheduleTick() {
    const wait = Math.max(this.node.next_tick(nowSeconds()) - nowSeconds(), 1) * 1000;
    setTimeout(() => {
      this.node.tick(nowSeconds());
      this.#drain();
      this.#scheduleTick();
    }, Math.min(wait, 5000));
  }

  /** Carries out the node's outputs. */
  #drain() {
    for (const out of this.node.poll()) {
      if (out.type === "send") {
        if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(out.bytes);
      } else if (out.type === "disconnect") {
        this.onLog?.(`relay dropped: ${out.reason}`);
        this.socket?.close();
      } else if (out.type === "tip") {
        this.onLog?.(out.reorg_depth > 0 ? `reorg of ${out.reorg_depth} to height ${out.height}` : `block ${out.height} ${out.hash.slice(0, 16)}…`);
        this.#mine();
        this.tipChangedSinceReport = true;
      } else if (out.type === "persist") {
        this.pendingWrites += 1;
        this.store
          .append(out.bytes)
          .then(() => (this.pendingWrites -= 1))
          .catch((error) => this.#storageFailed(error));
      } else if (out.type === "rejected") {
        this.onLog?.(`rejected block ${out.hash.slice(0, 16)}…: ${out.reason}`);
      }
    }
    this.#report();
  }

  /** Mines a fresh template (new tip, new extra nonce). */
  #mine() {
    if (!this.pool.workers.length) return;
    this.extraNonce += 1;
    const headerHex = this.node.template(this.extraNonce, nowSeconds());
    this.pool.start({ headerHex });
  }

  #found(nonce) {
    const accepted = this.node.submit_nonce(nonce, nowSeconds());
    if (accepted) {
      this.blocksFound += 1;
      this.onLog?.(`found a block (nonce ${nonce})`);
    }
    this.#drain();
    // A refused block (stale, or dated too far ahead of the clock on an easy network) means
    // waiting a moment rather than spinning.
    if (accepted) this.#mine();
    else setTimeout(() => this.#mine(), 1000);
  }

  /** Storage failed (quota, corruption): stop rather than run ahead of what is stored. */
  #storageFailed(error) {
    if (this.stopped) return;
    this.stopped = true;
    this.pool.resize(0);
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    this.onStorageError?.(error);
  }

  /** Pays `amount` TAB to `address`; returns the txid or throws the reason. */
  pay(address, amount, feeRate) {
    const txid = this.node.pay(address, amount, feeRate, nowSeconds());
    this.#drain();
    return txid;
  }

  /** Submits a whole block given as hex; returns its hash or throws why it was refused. */
  submitBlock(hex) {
    try {
      return this.node.submit_block(hex, nowSeconds());
    } finally {
      this.#drain();
    }
  }

  history() {
    return this.node.history();
  }

  blockTree(depth) {
    return this.node.block_tree(depth);
  }

  setWorkers(n) {
    this.pool.resize(n).then(() => (n > 0 ? this.#mine() : this.pool.stop()));
  }

  status() {
    const s = this.node.status();
    const connected = this.socket?.readyState === WebSocket.OPEN && s.peers > 0;
    const state = !connected ? "connecting" : s.height >= s.best_header_height ? "in sync" : "syncing";
    return { ...s, state, hash_rate: this.hashRate, blocks_found: this.blocksFound, workers: this.pool.workers.length, simd: this.pool.simd };
  }

  /**
   * Redraws the page at most every `REPORT_INTERVAL_MS`: during a sync the node drains after
   * every message, and drawing the page each time would cost more than validating the blocks.
   */
  #report() {
    if (this.reportScheduled) return;
    this.reportScheduled = true;
    setTimeout(() => {
      this.reportScheduled = false;
      this.onStatus?.(this.status());
      if (this.tipChangedSinceReport) {
        this.tipChangedSinceReport = false;
        this.onTip?.();
      }
    }, REPORT_INTERVAL_MS);
  }
}
