// The node in the tab: drives the wasm `TabNode` — the relay's WebSocket at this page's origin
// (reconnecting with backoff), the direct links to this browser's other tabs (`TabMesh`) and to
// tabs elsewhere over WebRTC (`RtcMesh`, set up through the relay), the clock (ticks when the node asks), the store (change sets
// written in order, one write at a time, and a checkpoint in place of the journal once it has
// grown enough, see `CHECKPOINT_JOURNAL_*`) and the miner pool (a new template on every new tip,
// submitting what the workers find). Panels subscribe with `on`; nothing here touches the page.
//
// A failed write stops the node for good: no later change set is written, the miner and the
// socket stop, and payments and block submissions are refused, so the tab never runs ahead of
// what it stored.

import { apiJson } from "./api.js";
import { MinerPool } from "./miner.js";
import { RtcMesh } from "./rtc-mesh.js";
import { TabMesh } from "./tab-mesh.js";

/** @typedef {import("./protocol.js").Output} Output */
/** @typedef {import("./protocol.js").Status} Status */

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30000;
const TICK_WAIT_MAX_MS = 1000; // at least a tick a second: announcements go out in batches on ticks
const RELAY_PEER = 1;
/** How often the relay's round trip is measured (one small API request). */
const RELAY_RTT_INTERVAL_MS = 10000;
/** How often, at most, subscribers to "status" hear from the driver. */
const REPORT_INTERVAL_MS = 250;
/**
 * When the driver replaces the journal with a checkpoint. A checkpoint rewrites the headers and
 * the UTXO set (about 17 MB at 100,000 blocks of one payment each); a reload replays the
 * journal after it, trusting its undo data, at tens of microseconds a set (a set is one input's
 * changes: a block, when following the network or mining). So: not before the journal holds
 * `CHECKPOINT_JOURNAL_SETS_MIN` sets (the blocks a node keeps in memory, `ACTIVE_BLOCKS_KEPT`)
 * and an eighth of the last checkpoint's bytes (`CHECKPOINT_JOURNAL_SHARE`: a long sync then
 * writes each stored byte about ten times, not once per block, and the journal adds at most an
 * eighth to what IndexedDB holds), and always past `CHECKPOINT_JOURNAL_SETS_MAX` sets or
 * `CHECKPOINT_JOURNAL_BYTES_MAX` bytes, which bound what a reload replays.
 */
const CHECKPOINT_JOURNAL_SETS_MIN = 1024;
const CHECKPOINT_JOURNAL_SHARE = 0.125;
const CHECKPOINT_JOURNAL_SETS_MAX = 8192;
const CHECKPOINT_JOURNAL_BYTES_MAX = 4 * 1024 * 1024;

/**
 * How many inputs, and how many bytes of peers' messages among them, a checkpoint may hold
 * back while it is being taken (see `held`). Past either, it is put off: the write is aborted,
 * the held inputs go to the node, and the checkpoint is taken again. A flood from peers, or an
 * IndexedDB write that stalls, would otherwise grow `held` without bound. An honest network
 * sends a few dozen messages in the half second a checkpoint of 100,000 blocks takes.
 */
const CHECKPOINT_HELD_INPUTS_MAX = 4096;
const CHECKPOINT_HELD_BYTES_MAX = 16 * 1024 * 1024;

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Older history entries the page fetches and proves (`#proveOlderHistory`): one relay page. */
const PROVEN_HISTORY_MAX = 100;
/** Why a checkpoint was put off: more came while it was being taken than it may hold back. */
class CheckpointPutOff extends Error {
  constructor(inputs, bytes) {
    super(`${inputs} inputs, ${(bytes / (1024 * 1024)).toFixed(1)} MiB of messages, came while it was being taken`);
  }
}

export class TabNodeDriver {
  /**
   * Nothing runs until `start`, so that panels can subscribe first.
   * @param node a wasm `TabNode` (new or restored)
   * @param store the `ChainStore` its change sets go to
   * @param {{workers: number, journal?: {sets: number, bytes: number}, checkpointBytes?: number,
   *   iceServers?: string[], directLinks?: boolean}} options
   *   `journal` and `checkpointBytes`: what the store held when the node was resumed;
   *   `iceServers`: the relay's STUN/TURN servers for WebRTC links; `directLinks` false keeps
   *   the tab on the relay alone (the propagation benchmark's star)
   */
  constructor(node, store, { workers, journal = { sets: 0, bytes: 0 }, checkpointBytes = 0, iceServers = [], directLinks = true }) {
    this.node = node;
    this.store = store;
    this.restoredHeight = node.status().height;
    // Change sets handed out by the node and not yet committed (queued, being written, or
    // covered by a checkpoint being written); a reload loses only those, and then fetches their
    // blocks again from the relay.
    this.pendingWrites = 0;
    this.queued = [];
    this.queuedBytes = 0;
    this.writing = false;
    /** What the stored journal holds after the checkpoint (`journal`: what the page resumed). */
    this.journalSets = journal.sets;
    this.journalBytes = journal.bytes;
    /** Checkpoints written by this driver, and the bytes of the stored one. */
    this.checkpoints = 0;
    this.checkpointBytes = checkpointBytes;
    /** The snapshot this node joined by, this session (`snapshot_adopted`), or null. */
    this.snapshotAdopted = null;
    /**
     * The wallet's history below the blocks this node holds (a snapshot it joined by, or blocks
     * it pruned), from the relay's address index, each entry proven against this node's own
     * headers (`ProvenTxView`), newest first; asked for once a session, once in sync.
     * @type {import("./protocol.js").ProvenTx[]}
     */
    this.provenHistory = [];
    this.historyProofsAsked = false;
    this.checkpointAsked = false;
    /**
     * While a checkpoint is being taken (a record per task, so that tens of megabytes never
     * block the page), the inputs that came meanwhile, to give the node once it is stored: its
     * records must all describe one state. `null` otherwise.
     * @type {(() => void)[] | null}
     */
    this.held = null;
    /** The bytes of peers' messages in `held`. */
    this.heldBytes = 0;
    /** Aborts the checkpoint being taken (`CHECKPOINT_HELD_*_MAX`); `null` when none is. */
    this.checkpointAbort = null;
    /** Checkpoints started again because a block was submitted while they were being taken. */
    this.checkpointRestarts = 0;
    /** Checkpoints put off because more came meanwhile than they may hold back. */
    this.checkpointsPutOff = 0;
    /** The storage error that stopped the node, once one did. */
    this.stoppedBy = null;
    this.socket = null;
    this.delay = RECONNECT_MIN_MS;
    this.tickTimer = null;
    this.extraNonce = 0;
    this.blocksFound = 0;
    this.hashRate = 0;
    this.reportScheduled = false;
    this.tipChangedSinceReport = false;
    this.listeners = { status: [], tip: [], log: [], stopped: [] };
    this.workersAsked = workers;
    this.pool = null;
    /** When the relay link opened (ms since the epoch), while it is open. */
    this.relaySince = null;
    /** The last round trip of a request to the relay, in ms. */
    this.relayRttMs = null;
    /** When the next attempt to reach the relay is due (ms since the epoch), while it is down. */
    this.relayRetryAt = null;
    this.nextPeer = RELAY_PEER + 1;
    this.iceServers = iceServers;
    this.directLinks = directLinks;
    // Both kinds of direct link hand the node a peer like the relay's.
    const linkHooks = {
      frameBytesMax: node.message_bytes_max(),
      nextPeerId: () => this.nextPeer++,
      onOpen: (peer) => this.#feed(() => this.node.peer_connected(peer, nowSeconds())),
      onMessage: (peer, bytes) => this.#feed(() => this.node.message(peer, bytes, nowSeconds()), bytes.byteLength),
      onClose: (peer) => this.#feed(() => this.node.peer_disconnected(peer)),
    };
    // A tab of this browser is linked over the channel, never over WebRTC as well.
    this.mesh = new TabMesh(node.status().network, { ...linkHooks, onTab: (tabId) => this.rtc.closeTab(tabId) });
    this.rtc = new RtcMesh({
      ...linkHooks,
      tabId: this.mesh.tabId,
      isLinkedTab: (tabId) => this.mesh.hasTab(tabId),
      askLinks: () => {
        if (this.relaySince === null || this.stoppedBy) return false;
        this.#feed(() => this.node.ask_links(RELAY_PEER));
        return true;
      },
      signal: (remote, payload) => this.#feed(() => this.node.signal(RELAY_PEER, remote, payload)),
      log: (line) => this.log(line),
    });
  }

  /**
   * Subscribes to `kind`: "status" `(status, {tipChanged})` at most every 250 ms; "tip" every
   * `TipOutput` as it comes; "log" a line for people; "stopped" the storage error.
   */
  on(kind, listener) {
    if (!this.listeners[kind]) throw new Error(`no such driver event: ${kind}`);
    this.listeners[kind].push(listener);
  }

  #emit(kind, ...args) {
    for (const listener of this.listeners[kind]) listener(...args);
  }

  /** Adds a line to the log. */
  log(line) {
    this.#emit("log", line);
  }

  /** Connects, ticks and mines. */
  start() {
    this.pool = new MinerPool(this.workersAsked, {
      onFound: (nonce) => this.#feed(() => this.#found(nonce)),
      onExhausted: () => this.#mine(),
      onError: (message) => this.log(`miner error: ${message}`),
    });
    this.pool.ready.then(() => this.#mine());
    setInterval(() => {
      this.hashRate = this.pool.takeRate();
      this.#report();
    }, 1000);
    this.#connect();
    if (this.directLinks) {
      this.mesh.start();
      this.rtc.start(this.iceServers);
    }
    setInterval(() => this.#measureRelayRtt(), RELAY_RTT_INTERVAL_MS);
    this.#scheduleTick();
  }

  #connect() {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.delay = RECONNECT_MIN_MS;
      this.relaySince = Date.now();
      this.relayRetryAt = null;
      this.#feed(() => this.node.peer_connected(RELAY_PEER, nowSeconds()));
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket) return; // a stopped node hears nothing more
      const bytes = new Uint8Array(event.data);
      this.#feed(() => this.node.message(RELAY_PEER, bytes, nowSeconds()), bytes.byteLength);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.relaySince = null;
      this.#feed(() => this.node.peer_disconnected(RELAY_PEER));
      setTimeout(() => this.#connect(), this.delay);
      this.relayRetryAt = Date.now() + this.delay;
      this.delay = Math.min(this.delay * 2, RECONNECT_MAX_MS);
      this.#report();
    };
  }

  /** Times one request to the relay (the node's own pings count whole seconds only). */
  async #measureRelayRtt() {
    if (this.relaySince === null) return;
    const started = performance.now();
    try {
      const response = await fetch("./api/status", { cache: "no-store" });
      await response.arrayBuffer();
      if (response.ok) this.relayRttMs = performance.now() - started;
    } catch {
      // The relay is going down; the socket's close says so.
    }
  }

  #scheduleTick() {
    const wait = Math.max(this.node.next_tick(nowSeconds()) - nowSeconds(), 1) * 1000;
    this.tickTimer = setTimeout(() => {
      this.#feed(() => this.node.tick(nowSeconds()));
      this.#scheduleTick();
    }, Math.min(wait, TICK_WAIT_MAX_MS));
  }

  /**
   * Gives the node an input from the network, a timer or the miner, and carries out what
   * follows; while a checkpoint is being taken, once it is stored (see `held`).
   * @param {() => void} input
   * @param {number} bytes the size of the peer's message it carries, if any
   */
  #feed(input, bytes = 0) {
    if (this.stoppedBy) return;
    if (this.held) {
      this.held.push(input);
      this.heldBytes += bytes;
      if (this.held.length > CHECKPOINT_HELD_INPUTS_MAX || this.heldBytes > CHECKPOINT_HELD_BYTES_MAX) {
        this.checkpointAbort?.abort(new CheckpointPutOff(this.held.length, this.heldBytes));
      }
      return;
    }
    input();
    this.#drain();
  }

  /** Carries out the node's outputs. */
  #drain() {
    for (const out of /** @type {Output[]} */ (this.node.poll())) {
      if (out.type === "send") {
        if (this.rtc.has(out.peer)) this.rtc.send(out.peer, out.bytes);
        else if (out.peer !== RELAY_PEER) this.mesh.send(out.peer, out.bytes);
        else if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(out.bytes);
      } else if (out.type === "disconnect") {
        if (this.rtc.has(out.peer)) {
          this.log(`direct peer ${out.peer} dropped: ${out.reason}`);
          this.rtc.close(out.peer, out.misbehaviour);
        } else if (out.peer !== RELAY_PEER) {
          this.log(`tab ${out.peer} dropped: ${out.reason}`);
          this.mesh.close(out.peer, out.misbehaviour);
        } else {
          this.log(`relay dropped: ${out.reason}`);
          this.socket?.close();
        }
      } else if (out.type === "peer") {
        if (out.peer === RELAY_PEER) this.rtc.relayReady();
      } else if (out.type === "link_offer") {
        this.rtc.onOffer(out.you, out.peers);
      } else if (out.type === "signal") {
        this.rtc.onSignal(out.peer, out.payload);
      } else if (out.type === "tip") {
        this.log(out.reorg_depth > 0 ? `reorg of ${out.reorg_depth} to height ${out.height}` : `block ${out.height} ${out.hash.slice(0, 16)}…`);
        this.#emit("tip", out);
        this.#mine();
        this.tipChangedSinceReport = true;
      } else if (out.type === "persist") {
        this.#persist(out.bytes);
      } else if (out.type === "snapshot_adopted") {
        // The store describes the chain before the snapshot: the next write is a checkpoint of
        // the whole new state, which covers (and drops) every set queued before it.
        this.log(`joined at height ${out.height} from a verified snapshot of ${out.coins} coins at height ${out.base_height}`);
        this.snapshotAdopted = out;
        this.checkpointAsked = true;
      } else if (out.type === "rejected") {
        this.log(`rejected block ${out.hash.slice(0, 16)}…: ${out.reason}`);
      }
    }
    // Only now, with every set of this poll queued: a checkpoint the writer takes must cover
    // exactly the sets handed out (see `#checkpoint`).
    if ((this.queued.length > 0 || this.checkpointAsked) && !this.writing) this.#writeQueued();
    this.#report();
  }

  /** Queues a change set; writes go one at a time, in order, what queued meanwhile together. */
  #persist(bytes) {
    if (this.stoppedBy) return;
    this.queued.push(bytes);
    this.queuedBytes += bytes.byteLength;
    this.pendingWrites += 1;
  }

  /** Asks for a checkpoint at the next write, whatever the journal holds (tests use it). */
  requestCheckpoint() {
    if (this.stoppedBy) return;
    this.checkpointAsked = true;
    if (!this.writing) this.#writeQueued();
  }

  #checkpointDue() {
    if (this.checkpointAsked) return true;
    const sets = this.journalSets + this.queued.length;
    const bytes = this.journalBytes + this.queuedBytes;
    if (sets >= CHECKPOINT_JOURNAL_SETS_MAX || bytes >= CHECKPOINT_JOURNAL_BYTES_MAX) return true;
    return sets >= CHECKPOINT_JOURNAL_SETS_MIN && bytes >= this.checkpointBytes * CHECKPOINT_JOURNAL_SHARE;
  }

  async #writeQueued() {
    this.writing = true;
    while ((this.queued.length > 0 || this.checkpointAsked) && !this.stoppedBy) {
      try {
        if (this.#checkpointDue()) {
          await this.#checkpoint();
        } else {
          const batch = this.queued.splice(0);
          const bytes = this.queuedBytes;
          this.queuedBytes = 0;
          await this.store.append(batch);
          this.pendingWrites -= batch.length;
          this.journalSets += batch.length;
          this.journalBytes += bytes;
        }
      } catch (error) {
        this.#storageFailed(error);
      }
    }
    this.writing = false;
  }

  /**
   * Stores the node's current state as the checkpoint and deletes the journal, in one
   * transaction. It runs between writes and outside any drain, so every set the node handed
   * out is either written (in the journal it deletes) or queued; the queued ones are already
   * part of the node's state, so the checkpoint covers them and they are dropped, never to be
   * replayed on top of it.
   */
  async #checkpoint() {
    const covered = this.queued.splice(0);
    const coveredBytes = this.queuedBytes;
    this.queuedBytes = 0;
    this.checkpointAsked = false;
    const checkpoint = this.node.checkpoint();
    this.held = [];
    const abort = new AbortController();
    this.checkpointAbort = abort;
    try {
      this.checkpointBytes = await this.store.replaceCheckpoint(() => this.node.checkpoint_record(checkpoint), abort.signal);
    } catch (error) {
      // Nothing was stored: the sets it covered go back to the queue, and it is taken again,
      // after the inputs held meanwhile (released below). Either more came than it may hold
      // back, or a block submitted meanwhile (the one input not held: it answers at once)
      // moved the chain.
      const putOff = error instanceof CheckpointPutOff;
      if (this.stoppedBy || !(putOff || this.node.checkpoint_moved(checkpoint))) throw error;
      this.queued.unshift(...covered);
      this.queuedBytes += coveredBytes;
      this.checkpointAsked = true;
      if (putOff) {
        this.checkpointsPutOff += 1;
        this.log(`checkpoint put off: ${error.message}; it is taken again once they are handled`);
      } else {
        this.checkpointRestarts += 1;
        this.log("checkpoint started again: a block came while it was being taken");
      }
      return;
    } finally {
      this.checkpointAbort = null;
      checkpoint.free();
      this.#release();
    }
    this.checkpoints += 1;
    this.pendingWrites -= covered.length;
    this.journalSets = 0;
    this.journalBytes = 0;
  }

  /** Gives the node the inputs held while a checkpoint was being taken, in order. */
  #release() {
    const held = this.held ?? [];
    this.held = null;
    this.heldBytes = 0;
    if (this.stoppedBy) return;
    for (const input of held) input();
    if (held.length > 0) this.#drain();
  }

  /** Mines a fresh template (new tip, new extra nonce). */
  #mine() {
    if (this.stoppedBy || !this.pool?.workers.length) return;
    this.extraNonce += 1;
    const headerHex = this.node.template(this.extraNonce, nowSeconds());
    this.pool.start({ headerHex });
  }

  #found(nonce) {
    const accepted = this.node.submit_nonce(nonce, nowSeconds());
    if (accepted) {
      this.blocksFound += 1;
      this.log(`found a block (nonce ${nonce})`);
    }
    this.#drain();
    // A refused block (stale, or dated too far ahead of the clock on an easy network) means
    // waiting a moment rather than spinning.
    if (accepted) this.#mine();
    else setTimeout(() => this.#mine(), 1000);
  }

  /** Storage failed (quota, corruption): stop rather than run ahead of what is stored. */
  #storageFailed(error) {
    if (this.stoppedBy) return;
    this.stoppedBy = error ?? new Error("storage failed");
    this.queued = [];
    this.queuedBytes = 0;
    this.pool.resize(0);
    clearTimeout(this.tickTimer);
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    this.mesh.stop();
    this.rtc.stop();
    this.log(`storage failed, node stopped: ${error?.message ?? error}`);
    this.#emit("stopped", this.stoppedBy);
    this.#report();
  }

  /** Throws why a command cannot run once storage failed. */
  #refuseIfStopped() {
    if (this.stoppedBy) {
      throw new Error(`this tab's node stopped after a storage failure (${this.stoppedBy?.message ?? this.stoppedBy}); rebuild from peers first`);
    }
  }

  /** Pays `amount` TAB to `address`; returns the txid or throws the reason. */
  pay(address, amount, feeRate) {
    this.#refuseIfStopped();
    const txid = this.node.pay(address, amount, feeRate, nowSeconds());
    this.#drain();
    return txid;
  }

  /** Submits a whole block given as hex; returns its hash or throws why it was refused. */
  submitBlock(hex) {
    this.#refuseIfStopped();
    try {
      return this.node.submit_block(hex, nowSeconds());
    } finally {
      this.#drain();
    }
  }

  history() {
    return this.node.history();
  }

  /**
   * Fetches the wallet's history below the blocks this node holds from the relay, a page at a
   * time (at most `PROVEN_HISTORY_MAX` entries), and keeps each entry whose merkle proof core
   * checks against this node's headers; an entry that fails is logged, never shown.
   */
  async #proveOlderHistory() {
    this.historyProofsAsked = true;
    const heldFrom = this.node.held_from_height();
    if (heldFrom <= 1) return;
    const address = this.node.status().address;
    const shown = new Set(this.node.history().map((row) => row.txid));
    const proven = [];
    let cursor = null;
    try {
      while (proven.length < PROVEN_HISTORY_MAX) {
        const query = `limit=${PROVEN_HISTORY_MAX}${cursor ? `&before=${cursor}` : ""}`;
        const page = await apiJson(`./api/address/${address}?${query}`);
        for (const entry of page.history ?? []) {
          if (entry.height === null || entry.height >= heldFrom || shown.has(entry.txid)) continue;
          try {
            const proof = await apiJson(`./api/tx/${entry.txid}/proof`);
            proven.push(this.node.proven_tx(proof.block, proof.tx_hex, proof.proof_hex));
          } catch (error) {
            this.log(`history entry ${entry.txid.slice(0, 16)}… not shown: ${error.message}`);
          }
          if (proven.length >= PROVEN_HISTORY_MAX) break;
        }
        cursor = page.next ?? null;
        if (!cursor) break;
      }
    } catch (error) {
      this.log(`older history not fetched: ${error.message}`);
    }
    this.provenHistory = proven;
    if (proven.length > 0) this.log(`${proven.length} older history entries proven against this node's headers`);
    this.#report();
  }

  /** How many confirmed transactions the wallet's whole history holds (`history` gives the newest). */
  historyLength() {
    return this.node.history_len();
  }

  blockTree(depth) {
    return this.node.block_tree(depth);
  }

  /** @returns {import("./protocol.js").Fees} */
  fees() {
    return this.node.fees();
  }

  /** The fee (decimal TAB) a payment of `amount` at `feeRate` would pay now; throws why not. */
  paymentFee(amount, feeRate) {
    return this.node.payment_fee(amount, feeRate);
  }

  /** @returns {import("./protocol.js").BlockTiming[]} */
  blockTiming(n) {
    return this.node.block_timing(n);
  }

  /** Sets the number of mining workers (0 pauses); a stopped node stays at 0. */
  setWorkers(n) {
    if (this.stoppedBy) return;
    this.pool.resize(n).then(() => (n > 0 ? this.#mine() : this.pool.stop()));
  }

  /** @returns {Status} */
  status() {
    const s = this.node.status();
    const relay = this.socket?.readyState === WebSocket.OPEN && this.relaySince !== null;
    const tabs = this.mesh.links().length;
    const direct = this.rtc.links().length;
    const connected = (relay || tabs > 0 || direct > 0) && s.peers > 0;
    const state = this.stoppedBy ? "stopped" : !connected ? "connecting" : s.height >= s.best_header_height ? "in sync" : "syncing";
    const workers = this.pool?.workers.length ?? 0;
    return {
      ...s, state, relay, tabs, direct, hash_rate: this.hashRate, blocks_found: this.blocksFound, workers, simd: this.pool?.simd ?? null,
      relay_retry_at: relay ? null : this.relayRetryAt,
    };
  }

  /**
   * Every link with what the node knows of its peer.
   * @returns {import("./protocol.js").PeerRow[]}
   */
  peers() {
    const known = new Map(this.node.peers().map((p) => [p.id, p]));
    const row = (peer, kind, since, rttMs) => {
      const p = known.get(peer);
      return { peer, kind, since, ready: p?.ready ?? false, height: p?.ready ? p.best_height : null, rtt_ms: rttMs };
    };
    const rows = [
      ...this.mesh.links().map(({ peer, since, rttMs }) => row(peer, "tab", since, rttMs)),
      ...this.rtc.links().map(({ peer, since, rttMs }) => row(peer, "direct", since, rttMs)),
    ];
    return this.relaySince !== null ? [row(RELAY_PEER, "relay", this.relaySince, this.relayRttMs), ...rows] : rows;
  }

  /**
   * Reports at most every `REPORT_INTERVAL_MS`: during a sync the node drains after every
   * message, and drawing the page each time would cost more than validating the blocks.
   */
  #report() {
    if (this.reportScheduled) return;
    this.reportScheduled = true;
    setTimeout(() => {
      this.reportScheduled = false;
      const tipChanged = this.tipChangedSinceReport;
      this.tipChangedSinceReport = false;
      const status = this.status();
      if (!this.historyProofsAsked && status.state === "in sync" && status.relay) this.#proveOlderHistory();
      this.#emit("status", status, { tipChanged });
    }, REPORT_INTERVAL_MS);
  }
}
