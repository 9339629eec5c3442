// The JavaScript protocol between the page and the wasm `TabNode` (`web/src/node.rs`), written
// down once. Every value is the serde form of one of core's types (`Output` and `Event` in
// `core/src/node/output.rs`, the views in `core/src/explorer/`), made by `serde-wasm-bindgen`. Nothing here runs: modules import these types with
// `/** @typedef {import("./protocol.js").Status} Status */`. Field names are the façade's own,
// in snake_case; amounts the wallet shows are decimal TAB strings made by core's `Amount`.

// ---- `poll()`: everything the node wants done, drained after every input ----

/**
 * Send `bytes` (one wire message) to `peer`.
 * @typedef {{type: "send", peer: number, bytes: Uint8Array}} SendOutput
 */
/**
 * Drop `peer` for `reason`; `misbehaviour` false when it was only slow (a stall, a ping timeout, a late hello).
 * @typedef {{type: "disconnect", peer: number, reason: string, misbehaviour: boolean}} DisconnectOutput
 */
/**
 * The active chain's tip changed; `reorg_depth` blocks were disconnected first (0: it grew),
 * `connected` blocks were connected, the first of them `first_connected` (after a reorg: where
 * the node switched branches).
 * @typedef {{type: "tip", hash: string, height: number, reorg_depth: number, connected: number,
 *   first_connected: string | null}} TipOutput
 */
/**
 * Headers-first sync progress.
 * @typedef {{type: "sync", height: number, best_header_height: number}} SyncOutput
 */
/**
 * Headers presync: a peer's header chain checked without being stored while the node syncs (it
 * has less than the network's minimum chain work), how high and how much work (hashes) it reached.
 * @typedef {{type: "presync", height: number, work: number}} PresyncOutput
 */
/**
 * A transaction the mempool took or refused (`reason` only when refused).
 * @typedef {{type: "tx", txid: string, accepted: boolean, reason?: string}} TxOutput
 */
/**
 * A block that broke the rules; `peer` sent it (null: this tab's own or a submitted block).
 * @typedef {{type: "rejected", hash: string, reason: string, peer: number | null}} RejectedOutput
 */
/**
 * A peer finished its handshake.
 * @typedef {{type: "peer", peer: number, best_height: number}} PeerOutput
 */
/**
 * The relay (`via`) offers tabs to link with directly over WebRTC; `you` is this tab's id there.
 * @typedef {{type: "link_offer", via: number, you: number, peers: number[]}} LinkOfferOutput
 */
/**
 * WebRTC set-up data (an offer or answer, JSON) from the tab `peer`, passed on by the relay `via`.
 * @typedef {{type: "signal", via: number, peer: number, payload: Uint8Array}} SignalOutput
 */
/**
 * A change set to store, in order, before anything that depends on it: `TabResume` replays
 * every `bytes` stored after the last checkpoint (`TabNode.checkpoint`), oldest first.
 * @typedef {{type: "persist", bytes: Uint8Array}} PersistOutput
 */
/**
 * The node adopted a verified UTXO snapshot (it joined a long chain without its old blocks):
 * what the store holds describes the chain before it, so the driver replaces checkpoint and
 * journal with a checkpoint at once, before any later change set.
 * @typedef {{type: "snapshot_adopted", base: string, base_height: number, tip: string, height: number,
 *   coins: number}} SnapshotAdoptedOutput
 */
/**
 * @typedef {SendOutput | DisconnectOutput | TipOutput | SyncOutput | PresyncOutput | TxOutput
 *   | RejectedOutput | PeerOutput | LinkOfferOutput | SignalOutput | PersistOutput
 *   | SnapshotAdoptedOutput} Output
 */

// ---- getters ----

/**
 * `status()`: a snapshot of the node and its wallet.
 * @typedef {object} NodeStatus
 * @property {"tabchain" | "regtest"} network the network's one name
 * @property {number} height of the active chain
 * @property {string} tip block hash of the active tip
 * @property {string} genesis
 * @property {number} best_header_height the best header known (above `height` while syncing)
 * @property {number} peers peers past their handshake
 * @property {number} mempool_txs
 * @property {number} mempool_bytes
 * @property {number | null} time the relay's clock in `/api/status` (Unix seconds); null from a tab
 * @property {string[]} ice_servers the relay's STUN/TURN servers for WebRTC links; empty from a tab
 * @property {{base: string, base_height: number, coins: number, chunks: number, verifying: boolean}}
 *   [snapshot] a snapshot download in progress (coins and chunks received; `verifying` once the
 *   last chunk came and the block after the base is awaited); absent otherwise
 * @property {number} difficulty at the tip
 * @property {number} network_hashrate hashes per second, estimated from recent blocks
 * @property {number} block_work hashes one block takes on average at the tip's target
 * @property {string} address the wallet's address
 * @property {string} confirmed balance, decimal TAB
 * @property {string} immature coinbase coins not yet spendable, decimal TAB
 * @property {string} pending unconfirmed, decimal TAB
 */

/**
 * `block_tree(depth)`: one stored block of the last `depth` heights, any branch, lowest first.
 * @typedef {object} TreeBlock
 * @property {string} hash
 * @property {number} height
 * @property {string} prev the parent's hash
 * @property {boolean} active on the active chain
 * @property {boolean} invalid known to break the rules
 * @property {string} mined_by the address its coinbase pays
 * @property {boolean} mine this tab's wallet mined it
 * @property {string | null} miner_tag the software its coinbase names ("tabchain-web" for a tab,
 *   "tabchain-node" or "tabchain-relay" for a native miner; null when untagged)
 * @property {number} txs transactions in it
 * @property {number} time header time, Unix seconds
 * @property {number} switched_here depth of the reorg that made this block the first of the
 *   active branch (0 if none did)
 */

/**
 * `history()`: the wallet's transactions, newest first (the newest 50).
 * @typedef {object} HistoryRow
 * @property {string} txid
 * @property {number | null} height null while unconfirmed
 * @property {number} confirmations
 * @property {string} received decimal TAB
 * @property {string} sent decimal TAB
 * @property {boolean} coinbase
 */

/**
 * A wallet history entry below the blocks the tab holds, from the relay and proven against the
 * tab's own headers by a merkle proof (core's `ProvenTxView`, `TabNode.proven_tx`).
 * @typedef {object} ProvenTx
 * @property {string} txid
 * @property {string} block
 * @property {number} height
 * @property {number} confirmations
 * @property {number} received_units
 * @property {string} received decimal TAB, read from the proven transaction
 * @property {string} verified what it was checked for, in words
 */

/**
 * `fees()`: the fee tiers and the projected next block, from the mempool (core's
 * `explorer::fees`). Rates in base units per 1000 bytes (what `pay` takes).
 * @typedef {object} Fees
 * @property {{tier: "next_block" | "within_6_blocks" | "minimum", blocks: number | null,
 *   fee_rate_units_per_kb: number}[]} tiers the rate to be mined within `blocks` blocks (null: to
 *   enter the mempool at all), dearest first
 * @property {{txs: number, bytes: number, fee_units: number, fee_rate_min: number | null,
 *   fee_rate_max: number | null, top: {txid: string, fee_units: number, size_bytes: number,
 *   fee_rate_units_per_kb: number}[]}} next_block the block a miner would make now, its
 *   transactions in block order (the first 100)
 * @property {number} blocks_projected how many blocks the mempool fills, counted up to 7
 */

/**
 * `payment_fee(amount, fee_rate)`: the fee, decimal TAB, a payment of `amount` would pay at
 * `fee_rate` now (throws why it cannot be made). `target_spacing_s()`: the seconds the
 * difficulty rule aims for between blocks.
 *
 * `block_timing(n)`: the active chain's last `n` blocks (at most 200), lowest first.
 * @typedef {object} BlockTiming
 * @property {number} height
 * @property {number} time header time, Unix seconds
 * @property {number} interval_s its time less its parent's (negative when dated earlier)
 * @property {number} difficulty
 */

/**
 * `search(query)`: a height, block hash, txid or address; the views are `core::explorer`'s,
 * the same JSON as the relay's `/api` (throws why when nothing matches).
 * @typedef {{kind: "block", view: object} | {kind: "tx", view: object} | {kind: "address", view: object}} Found
 */

// ---- what the page's driver (`node.js`) adds ----

/**
 * `TabNodeDriver.status()`: the node's status with the driver's own facts: `relay` whether the
 * relay's link is open, `tabs` how many tabs of this browser are linked directly, `direct` how
 * many tabs elsewhere (WebRTC); `relay_retry_at` when the next attempt to reach the relay is
 * due (ms since the epoch), while its link is down.
 * @typedef {NodeStatus & {state: "connecting" | "syncing" | "in sync" | "stopped", relay: boolean,
 *   tabs: number, direct: number, hash_rate: number, blocks_found: number, workers: number, simd: boolean | null,
 *   relay_retry_at: number | null}} Status
 */

/**
 * `TabNodeDriver.peers()`: one link. `kind` "relay", "tab" (a tab of this browser, linked over
 * `BroadcastChannel`) or "direct" (a tab elsewhere, over a WebRTC data channel); `since` when the link opened (ms since the epoch); `ready` once the peer's
 * handshake is done; `height` the height it claims (null before); `rtt_ms` the last round trip
 * (null before one was measured).
 * @typedef {{peer: number, kind: "relay" | "tab" | "direct", since: number, ready: boolean,
 *   height: number | null, rtt_ms: number | null}} PeerRow
 */

/**
 * What every panel is given when it is mounted: the wasm module's exports, the driver (to
 * subscribe to and to command), this tab's identity, and a way to add a line to the log.
 * @typedef {object} PanelContext
 * @property {any} wasm the module's exports (`qr_svg`, `key_to_words`, `words_to_key`, …)
 * @property {import("./node.js").TabNodeDriver} driver
 * @property {{id: string, seed: string, adopted: boolean}} identity
 * @property {(hex: string) => void} setSeed replaces this tab's wallet key (applies on reload)
 */

export {};
