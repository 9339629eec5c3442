//! Views of the node as a whole, shown by both shells: its status (the relay's `/api/status`
//! and the tab's status panel), the recent block tree with the points where the node switched
//! branches, and the wallet's balance and history.

use super::{address_of, difficulty, network_hashrate};
use crate::{Node, Params, PublicKey, coinbase_tag, encode_address};
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// What a node is doing, at a glance.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq)]
pub struct StatusView {
    /// The network's name (`Network::name`).
    pub network: &'static str,
    pub genesis: String,
    pub height: u32,
    pub tip: String,
    pub best_header_height: u32,
    pub difficulty: f64,
    pub network_hashrate: f64,
    /// Hashes one block takes on average at the tip's target ("expected time to a block").
    pub block_work: f64,
    /// Peers that completed the handshake.
    pub peers: usize,
    pub mempool_txs: usize,
    pub mempool_bytes: usize,
    /// The node's clock when the view was made (Unix seconds), if the shell tells it: the relay
    /// does, so a tab can compare its own clock (`clock_skew_s`).
    pub time: Option<u64>,
    /// STUN/TURN servers for direct links between tabs, if the shell has any to tell (the
    /// relay's `--ice-server`s).
    pub ice_servers: Vec<String>,
    /// A snapshot download in progress (a fresh tab joining by snapshot); absent otherwise.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub snapshot: Option<SnapshotView>,
    /// The node's own wallet, if it has one (the tab's does; the relay's does not).
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub wallet: Option<WalletView>,
}

/// A snapshot download: the base it is for, the coins and chunks received so far, and whether
/// it waits for the block that verifies it. Nothing of it is shown as confirmed before that.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotView {
    pub base: String,
    pub base_height: u32,
    pub coins: usize,
    pub chunks: u32,
    pub verifying: bool,
}

/// A wallet's address and balance, amounts in decimal TAB.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletView {
    pub address: String,
    pub confirmed: String,
    pub immature: String,
    pub pending: String,
}

/// One transaction of the wallet's history.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletTxView {
    pub txid: String,
    /// `None` while unconfirmed.
    pub height: Option<u32>,
    pub confirmations: u32,
    pub received: String,
    pub sent: String,
    pub coinbase: bool,
}

/// A stored block in the recent block tree.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeBlockView {
    pub hash: String,
    pub height: u32,
    pub prev: String,
    pub active: bool,
    pub invalid: bool,
    /// The address the coinbase's first output pays.
    pub mined_by: String,
    /// Mined by the viewer's own key.
    pub mine: bool,
    /// The software its coinbase names (`coinbase_tag`): "tabchain-web" for a tab's,
    /// "tabchain-node" or "tabchain-relay" for a native miner's; null when untagged.
    pub miner_tag: Option<String>,
    pub txs: usize,
    pub time: u32,
    /// The depth of the latest reorg that made this block the first of the active branch; 0 if
    /// none did.
    pub switched_here: usize,
}

/// How far `local_now` is from `peer_now` (seconds, positive when local is ahead), when far
/// enough to matter: beyond half the network's future-time limit, blocks one side mines risk
/// being refused by the other as too far ahead, and blocks from the other as too new. `None`
/// when the clocks agree well enough.
pub fn clock_skew_s(params: &Params, local_now: u64, peer_now: u64) -> Option<i64> {
    let skew = i64::try_from(local_now).ok()?.saturating_sub(i64::try_from(peer_now).ok()?);
    (skew.unsigned_abs() > u64::from(params.future_time_limit_s / 2)).then_some(skew)
}

pub fn status(node: &Node) -> StatusView {
    let chain = node.chain();
    let tip = chain.tip();
    StatusView {
        network: chain.params().network.name(),
        genesis: chain.params().genesis_hash().to_string(),
        height: chain.height(),
        tip: chain.tip_hash().to_string(),
        best_header_height: chain.best_header().height,
        difficulty: difficulty(chain, tip),
        network_hashrate: network_hashrate(chain),
        block_work: tip.header().bits.to_target().map_or(0.0, |t| t.work().to_f64()),
        peers: node.n_ready_peers(),
        mempool_txs: node.mempool().len(),
        mempool_bytes: node.mempool().total_bytes(),
        time: None,
        ice_servers: Vec::new(),
        snapshot: node.snapshot_progress().map(|p| SnapshotView {
            base: p.base.to_string(),
            base_height: p.base_height,
            coins: p.coins,
            chunks: p.chunks,
            verifying: p.verifying,
        }),
        wallet: wallet(node),
    }
}

fn wallet(node: &Node) -> Option<WalletView> {
    let wallet = node.wallet()?;
    let balance = wallet.balance(node.chain(), node.mempool());
    Some(WalletView {
        address: encode_address(node.chain().params().address_hrp, &wallet.owner()),
        confirmed: balance.confirmed.to_string(),
        immature: balance.immature.to_string(),
        pending: balance.pending.to_string(),
    })
}

/// The wallet's newest `max` transactions, newest (and unconfirmed) first.
pub fn wallet_history(node: &Node, max: usize) -> Vec<WalletTxView> {
    let Some(wallet) = node.wallet() else { return Vec::new() };
    let tip = node.chain().height();
    wallet
        .history(node.mempool())
        .into_iter()
        .take(max)
        .map(|tx| WalletTxView {
            txid: tx.txid.to_string(),
            height: tx.height,
            confirmations: tx.confirmations(tip),
            received: tx.received.to_string(),
            sent: tx.sent.to_string(),
            coinbase: tx.is_coinbase,
        })
        .collect()
}

/// The stored blocks of the last `depth` heights, on every branch, lowest first; `own` marks
/// the blocks the viewer mined.
pub fn block_tree(node: &Node, depth: u32, own: Option<PublicKey>) -> Vec<TreeBlockView> {
    let chain = node.chain();
    chain
        .blocks_since(chain.height().saturating_sub(depth))
        .into_iter()
        .map(|entry| {
            let hash = entry.block_hash();
            let reward = &entry.block.txs[0].outputs[0];
            let switched_here = node.branch_switches().rev().find(|s| s.first_connected == hash).map_or(0, |s| s.depth);
            TreeBlockView {
                hash: hash.to_string(),
                height: entry.height,
                prev: entry.header().prev_blockhash.to_string(),
                active: chain.is_active(&hash),
                invalid: entry.is_invalid(),
                mined_by: address_of(chain, reward),
                mine: Some(reward.owner) == own,
                miner_tag: coinbase_tag(&entry.block.txs[0]),
                txs: entry.block.txs.len(),
                time: entry.header().time,
                switched_here,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{Builder, NOW, miner};
    use crate::{Amount, Params};

    #[test]
    fn status_and_tree_describe_the_node_as_it_is() {
        let mut builder = Builder::new();
        let genesis = builder.genesis();
        let short = builder.branch_on(genesis, 1);
        let long = builder.branch_on(genesis, 2);
        let mut node = Node::new(Params::regtest(), "test");
        node.set_wallet(miner());
        for block in short.iter().chain(&long) {
            node.submit_block(block.clone(), NOW).expect("valid");
        }
        let status = status(&node);
        assert_eq!((status.network, status.height, status.best_header_height), ("regtest", 2, 2));
        assert_eq!(status.tip, long[1].block_hash().to_string());
        assert_eq!(status.genesis, genesis.to_string());
        assert_eq!(status.peers, 0);
        let wallet = status.wallet.expect("the node has a wallet");
        assert_eq!(wallet.address, encode_address("tabrt", &miner().public_key()));
        assert_eq!((wallet.confirmed.as_str(), wallet.pending.as_str()), ("0", "0"));
        assert_ne!(wallet.immature, Amount::ZERO.to_string(), "two coinbases await maturity");

        let tree = block_tree(&node, 10, Some(miner().public_key()));
        let row = |hash: crate::BlockHash| tree.iter().find(|b| b.hash == hash.to_string()).expect("in the tree");
        assert_eq!(tree.len(), 4, "genesis and both branches");
        assert!(!row(short[0].block_hash()).active);
        assert_eq!(row(long[0].block_hash()).switched_here, 1, "the reorg is marked where it switched");
        assert_eq!(row(long[1].block_hash()).switched_here, 0);
        assert!(row(long[1].block_hash()).mine && row(long[1].block_hash()).active);
        assert!(!row(genesis).mine);

        let params = Params::tabchain();
        assert_eq!(clock_skew_s(&params, 1_000, 1_060), None, "within half the 120 s limit");
        assert_eq!(clock_skew_s(&params, 1_000, 1_061), Some(-61));
        assert_eq!(clock_skew_s(&params, 2_000, 1_000), Some(1_000));

        let history = wallet_history(&node, 1);
        assert_eq!(history.len(), 1, "capped at the asked number");
        assert_eq!((history[0].height, history[0].coinbase), (Some(2), true));

        // A template names the node's software in its coinbase, and the tree shows it.
        let mut block = node.block_template(miner().public_key(), 1, NOW);
        block.header = crate::search_nonce(&block.header, u32::MAX).expect("regtest is easy");
        node.submit_block(block.clone(), NOW).expect("valid");
        let tree = block_tree(&node, 10, None);
        let tip = tree.iter().find(|b| b.hash == block.block_hash().to_string()).expect("in the tree");
        assert_eq!(tip.miner_tag.as_deref(), Some("test"));
    }
}
