//! Read-only views of the chain and mempool for people: a block, a transaction (with the coins
//! it spends and its fee), an address, the mempool, and one search over all of them. The relay's
//! HTTP API and the tab's explorer pages both show these, so they agree field for field.
//!
//! With the `serde` feature each view serializes to the JSON the API documents.
//!
//! Each view has one builder, fed plain values (`block_view`, `tx_view`, `address_view`), so the
//! relay can build it from what its store reads, without a `Chain`; the lookups over a `Chain`
//! (`block`, `tx`, `address`, `search`), which the tab uses, are thin callers of the same builders.
//!
//! Beside the lookups here: `address` (what a block's transactions did to each address, and the
//! address view), `node` (the node's status, the block tree with its branch switches, the
//! wallet, the recent blocks' times and difficulty), `fees` (fee tiers and the projected next
//! block, from the mempool), `input` (blocks and transactions handed in as hex), and `proven_tx`
//! (a transaction below the blocks a node holds, proven against its header chain).

mod address;
mod fees;
mod input;
mod node;
mod proven_tx;

pub use address::{
    AddressBalance, AddressTx, address, address_txs, address_view, immature_coinbase_heights, parse_address,
    pending_units,
};
pub use fees::{FEE_TIER_BLOCKS, FeeTierView, FeesView, PROJECTED_BLOCK_LIST_MAX, ProjectedBlockView, fees};
pub use input::{HexInputError, block_from_hex, tx_from_hex};
pub use node::{
    SnapshotView, StatusView, TreeBlockView, WalletTxView, WalletView, block_tree, clock_skew_s, status, wallet_history,
};
pub use proven_tx::{
    PROVEN_TX_CHECKS, ProvenTxView, TxProof, TxProofError, TxProofView, check_tx_proof, tx_proof_view,
};

use crate::{
    Block, BlockEntry, BlockHash, BlockUndo, Chain, Header, Mempool, MempoolEntry, OutPoint, Params, Transaction,
    TxOut, Txid, encode_address,
};
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// Blocks listed by `recent_blocks`.
pub const RECENT_BLOCKS_MAX: u32 = 50;
/// History entries in the tab's `AddressView` (the relay pages through the rest).
pub const ADDRESS_HISTORY_MAX: usize = 100;
/// Pooled transactions listed in a `MempoolView`.
pub const MEMPOOL_LIST_MAX: usize = 100;
/// Blocks `block_timing` lists at most.
pub const BLOCK_TIMING_MAX: u32 = 200;
/// Blocks the network hash rate is estimated over.
pub const HASHRATE_WINDOW_BLOCKS: u32 = 60;

#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq)]
pub struct BlockView {
    pub hash: String,
    pub height: u32,
    /// On the active chain (false for a side branch).
    pub active: bool,
    pub confirmations: u32,
    pub version: i32,
    pub prev_hash: String,
    pub merkle_root: String,
    pub time: u32,
    pub bits: String,
    /// The target the hash had to be at or below, as 64 hex digits.
    pub target: String,
    pub nonce: u32,
    pub difficulty: f64,
    pub size_bytes: usize,
    /// The address the coinbase's first output pays.
    pub mined_by: String,
    pub txids: Vec<String>,
}

#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputView {
    pub amount: String,
    pub amount_units: u64,
    pub address: String,
}

#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputView {
    pub txid: String,
    pub vout: u32,
    pub coinbase: bool,
    /// The coin spent, when known (always for confirmed and pooled transactions).
    pub spends: Option<OutputView>,
}

#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxView {
    pub txid: String,
    /// "confirmed" or "mempool".
    pub status: &'static str,
    pub block: Option<String>,
    pub height: Option<u32>,
    pub confirmations: u32,
    /// Inputs minus outputs; `None` for a coinbase.
    pub fee_units: Option<u64>,
    pub size_bytes: usize,
    pub inputs: Vec<InputView>,
    pub outputs: Vec<OutputView>,
}

#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryView {
    pub txid: String,
    pub height: Option<u32>,
    pub confirmations: u32,
    pub received_units: u64,
    pub sent_units: u64,
}

#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressView {
    pub address: String,
    pub confirmed_units: u64,
    pub immature_units: u64,
    pub pending_units: u64,
    pub confirmed: String,
    /// Newest first: the tab's newest `ADDRESS_HISTORY_MAX`, or one page of the relay's.
    pub history: Vec<HistoryView>,
    /// Where the next (older) page of history starts, when there is one: the relay's cursor for
    /// `?before=`. Absent from the JSON on the last page.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub next: Option<String>,
}

#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MempoolTxView {
    pub txid: String,
    pub fee_units: u64,
    pub size_bytes: usize,
    pub fee_rate_units_per_kb: u64,
}

#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MempoolView {
    pub txs: usize,
    pub bytes: usize,
    /// The best-paying first, at most `MEMPOOL_LIST_MAX`.
    pub top: Vec<MempoolTxView>,
}

/// What a search found.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", content = "view", rename_all = "lowercase"))]
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    Block(BlockView),
    Tx(TxView),
    Address(AddressView),
}

/// Why a lookup found nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// The query is not a height, hash, txid or address of this network.
    BadQuery(String),
    /// Well formed, but nothing by that name.
    NotFound(String),
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadQuery(reason) | Self::NotFound(reason) => f.write_str(reason),
        }
    }
}

/// One search box: a height, a block hash, a txid (pooled or confirmed), or an address.
pub fn search(chain: &Chain, mempool: &Mempool, query: &str) -> Result<Found, LookupError> {
    let query = query.trim();
    if let Ok(BlockId::Height(_)) = BlockId::parse(query) {
        return block(chain, query).map(Found::Block);
    }
    if let Ok(txid) = query.parse::<Txid>() {
        return match tx(chain, mempool, &txid) {
            Ok(view) => Ok(Found::Tx(view)),
            Err(_) => block(chain, query)
                .map(Found::Block)
                .map_err(|_| LookupError::NotFound(format!("no block or transaction {query}"))),
        };
    }
    match address(chain, mempool, query) {
        Ok(view) => Ok(Found::Address(view)),
        Err(_) => Err(LookupError::BadQuery(format!("{query:?} is not a height, block hash, txid or address"))),
    }
}

/// How a block is named: a height on the active chain, or a hash on any branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockId {
    Height(u32),
    Hash(BlockHash),
}

/// Characters of a block hash in hex.
const BLOCK_HASH_HEX_CHARS: usize = 64;

impl BlockId {
    /// A height in decimal, or a block hash in hex. A hash's digits may all be decimal ones (the
    /// genesis block's parent is `000…0`): 64 characters are a hash, never a height.
    pub fn parse(id: &str) -> Result<Self, LookupError> {
        if id.len() != BLOCK_HASH_HEX_CHARS
            && let Ok(height) = id.parse::<u32>()
        {
            return Ok(Self::Height(height));
        }
        id.parse::<BlockHash>()
            .map(Self::Hash)
            .map_err(|e| LookupError::BadQuery(format!("not a height or block hash: {e}")))
    }

    /// Why nothing was found by this name.
    pub fn not_found(self) -> LookupError {
        match self {
            Self::Height(height) => LookupError::NotFound(format!("no block at height {height}")),
            Self::Hash(hash) => LookupError::NotFound(format!("unknown block {hash}")),
        }
    }
}

/// A block in memory, by height (on the active chain) or by hash (on any branch).
pub fn block(chain: &Chain, id: &str) -> Result<BlockView, LookupError> {
    let id = BlockId::parse(id)?;
    let hash = match id {
        BlockId::Height(height) => chain.hash_at(height).ok_or(id.not_found())?,
        BlockId::Hash(hash) => hash,
    };
    let entry = chain.entry(&hash).ok_or(id.not_found())?;
    Ok(entry_view(chain, entry))
}

fn entry_view(chain: &Chain, entry: &BlockEntry) -> BlockView {
    let active = chain.is_active(&entry.block_hash());
    block_view(chain.params(), &entry.block, entry.height, active, chain.height())
}

/// The view of `block` at `height`, on the active chain whose tip is at `tip_height` or not
/// (`active`): the one builder of block views.
pub fn block_view(params: &Params, block: &Block, height: u32, active: bool, tip_height: u32) -> BlockView {
    let header = &block.header;
    BlockView {
        hash: block.block_hash().to_string(),
        height,
        active,
        confirmations: if active { (tip_height + 1).saturating_sub(height) } else { 0 },
        version: header.version,
        prev_hash: header.prev_blockhash.to_string(),
        merkle_root: header.merkle_root.to_string(),
        time: header.time,
        bits: header.bits.to_string(),
        target: header.bits.to_target().map(|t| format!("{t:064x}")).unwrap_or_default(),
        nonce: header.nonce,
        difficulty: header_difficulty(params, header),
        size_bytes: block.size_bytes(),
        mined_by: encode_address(params.address_hrp, &block.txs[0].outputs[0].owner),
        txids: block.txs.iter().map(|tx| tx.txid().to_string()).collect(),
    }
}

/// The active chain's newest blocks in memory, the tip first.
pub fn recent_blocks(chain: &Chain) -> Vec<BlockView> {
    let low = chain.height().saturating_sub(RECENT_BLOCKS_MAX - 1);
    (low..=chain.height())
        .rev()
        .filter_map(|h| chain.hash_at(h).and_then(|hash| chain.entry(&hash)))
        .map(|entry| entry_view(chain, entry))
        .collect()
}

/// How many times harder than the easiest target this block's is.
pub fn difficulty(chain: &Chain, entry: &BlockEntry) -> f64 {
    header_difficulty(chain.params(), entry.header())
}

fn header_difficulty(params: &Params, header: &Header) -> f64 {
    header.bits.to_target().map_or(0.0, |t| t.difficulty(params.pow_limit))
}

/// Expected hashes per second over the last blocks: work done divided by the time it took.
pub fn network_hashrate(chain: &Chain) -> f64 {
    let tip = chain.tip();
    let start_height = tip.height.saturating_sub(HASHRATE_WINDOW_BLOCKS);
    let Some(start) = chain.hash_at(start_height).and_then(|h| chain.entry(&h)) else { return 0.0 };
    let seconds = f64::from(tip.header().time.saturating_sub(start.header().time));
    let work = tip.chain_work.to_f64() - start.chain_work.to_f64();
    if seconds > 0.0 { work / seconds } else { 0.0 }
}

/// One active block's time, the time since its parent's and its difficulty: the points of the
/// page's chart of block intervals, where ASERT's answer to them shows.
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[derive(Debug, Clone, PartialEq)]
pub struct BlockTimingView {
    pub height: u32,
    pub time: u32,
    /// Its header time less its parent's, in seconds: negative when a miner's clock dated it
    /// earlier (the rules allow it, above the median time past).
    pub interval_s: i64,
    pub difficulty: f64,
}

/// The active chain's last `n` blocks (at most `BLOCK_TIMING_MAX`, genesis excluded), lowest
/// first, read from headers, so blocks below the kept window count too.
pub fn block_timing(chain: &Chain, n: u32) -> Vec<BlockTimingView> {
    let tip = chain.height();
    let from = (tip + 1).saturating_sub(n.min(BLOCK_TIMING_MAX)).max(1);
    let header_at = |height: u32| chain.hash_at(height).and_then(|hash| chain.header(&hash)).map(|k| k.header);
    let mut parent = header_at(from - 1);
    let mut points = Vec::new();
    for height in from..=tip {
        let (Some(header), Some(before)) = (header_at(height), parent) else { break };
        points.push(BlockTimingView {
            height,
            time: header.time,
            interval_s: i64::from(header.time) - i64::from(before.time),
            difficulty: header_difficulty(chain.params(), &header),
        });
        parent = Some(header);
    }
    points
}

/// Where a confirmed transaction sits, and the tip it is counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxPlacement {
    pub block: BlockHash,
    pub height: u32,
    pub tip_height: u32,
}

/// A pooled transaction, or a confirmed one found by walking the active chain's blocks in
/// memory from the tip.
pub fn tx(chain: &Chain, mempool: &Mempool, txid: &Txid) -> Result<TxView, LookupError> {
    if let Some(entry) = mempool.get(txid) {
        let spent = |outpoint: &OutPoint| {
            chain.utxos().get(outpoint).map(|coin| coin.output).or_else(|| mempool.output(outpoint).copied())
        };
        return Ok(tx_view(chain.params(), &entry.tx, None, spent));
    }
    for height in (chain.kept_from_height()..=chain.height()).rev() {
        let Some(entry) = chain.hash_at(height).and_then(|hash| chain.entry(&hash)) else { continue };
        let Some(position) = entry.block.txs.iter().position(|tx| tx.txid() == *txid) else { continue };
        let hash = entry.block_hash();
        let spent = chain.undo(&hash).map(|undo| block_spent_coins(&entry.block, undo)).unwrap_or_default();
        let placement = TxPlacement { block: hash, height, tip_height: chain.height() };
        let view = tx_view(chain.params(), &entry.block.txs[position], Some(&placement), |outpoint| {
            spent.get(outpoint).copied()
        });
        return Ok(view);
    }
    Err(LookupError::NotFound(format!("unknown transaction {txid}")))
}

/// The coins the transactions of `block` spend: those its undo data records (coins of earlier
/// blocks), and the outputs of the block's own transactions (a transaction may spend an earlier
/// one's in the same block).
pub fn block_spent_coins(block: &Block, undo: &BlockUndo) -> BTreeMap<OutPoint, TxOut> {
    let mut coins = BTreeMap::new();
    coins.extend(undo.spent.iter().map(|(outpoint, coin)| (*outpoint, coin.output)));
    for tx in &block.txs {
        let txid = tx.txid();
        for (vout, output) in tx.outputs.iter().enumerate() {
            coins.insert(OutPoint { txid, vout: vout as u32 }, *output);
        }
    }
    coins
}

/// The view of `tx`, confirmed at `placement` or pooled (`None`), with the coins its inputs
/// spend as `spent` finds them: the one builder of transaction views.
pub fn tx_view(
    params: &Params,
    tx: &Transaction,
    placement: Option<&TxPlacement>,
    spent: impl Fn(&OutPoint) -> Option<TxOut>,
) -> TxView {
    let inputs: Vec<InputView> = tx
        .inputs
        .iter()
        .map(|input| {
            let coinbase = input.prev_out.is_coinbase_marker();
            InputView {
                txid: input.prev_out.txid.to_string(),
                vout: input.prev_out.vout,
                coinbase,
                spends: if coinbase { None } else { spent(&input.prev_out).map(|o| output_view(params, &o)) },
            }
        })
        .collect();
    let fee_units = if tx.is_coinbase() {
        None
    } else {
        let paid_in: Option<u64> = inputs.iter().map(|i| i.spends.as_ref().map(|o| o.amount_units)).sum();
        let paid_out: u64 = tx.outputs.iter().map(|o| o.amount.to_units()).sum();
        paid_in.and_then(|total| total.checked_sub(paid_out))
    };
    TxView {
        txid: tx.txid().to_string(),
        status: if placement.is_some() { "confirmed" } else { "mempool" },
        block: placement.map(|p| p.block.to_string()),
        height: placement.map(|p| p.height),
        confirmations: placement.map_or(0, |p| (p.tip_height + 1).saturating_sub(p.height)),
        fee_units,
        size_bytes: tx.size_bytes(),
        inputs,
        outputs: tx.outputs.iter().map(|o| output_view(params, o)).collect(),
    }
}

fn output_view(params: &Params, output: &TxOut) -> OutputView {
    OutputView {
        amount: output.amount.to_string(),
        amount_units: output.amount.to_units(),
        address: encode_address(params.address_hrp, &output.owner),
    }
}

/// The address an output pays, on this chain's network.
pub(crate) fn address_of(chain: &Chain, output: &TxOut) -> String {
    encode_address(chain.params().address_hrp, &output.owner)
}

fn mempool_tx_view(entry: &MempoolEntry) -> MempoolTxView {
    MempoolTxView {
        txid: entry.tx.txid().to_string(),
        fee_units: entry.fee.to_units(),
        size_bytes: entry.size_bytes,
        fee_rate_units_per_kb: entry.fee_rate().0,
    }
}

/// The mempool's size and its best-paying transactions.
pub fn mempool(mempool: &Mempool) -> MempoolView {
    let mut top: Vec<(usize, MempoolTxView)> = mempool.iter().map(mempool_tx_view).enumerate().collect();
    // Arrival order among equal fee rates.
    crate::sort::sort_by_key(&mut top, |(arrival, t)| (core::cmp::Reverse(t.fee_rate_units_per_kb), *arrival));
    let top = top.into_iter().take(MEMPOOL_LIST_MAX).map(|(_, t)| t).collect();
    MempoolView { txs: mempool.len(), bytes: mempool.total_bytes(), top }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;
    use alloc::vec;

    /// A chain whose tip holds a payment and a spend of that payment's output (made in the same
    /// block, so its coin is in no undo data), with 300 and 200 units of fee.
    fn chain_with_payments() -> (Builder, Txid, Txid) {
        let mut b = Builder::new();
        let (coin, value) = b.mature_coin();
        let genesis = b.genesis();
        let to_self = TxOut { amount: value.checked_sub(units(300)).expect("valid"), owner: miner().public_key() };
        let first = spend(&[coin], vec![to_self], genesis);
        let second_out = TxOut { amount: to_self.amount.checked_sub(units(200)).expect("valid"), ..to_self };
        let second = spend(&[OutPoint { txid: first.txid(), vout: 0 }], vec![second_out], genesis);
        let (first_id, second_id) = (first.txid(), second.txid());
        let block = b.block_on(b.chain.tip_hash(), vec![first, second], units(500));
        b.chain.accept_block(block, NOW).expect("valid");
        (b, first_id, second_id)
    }

    #[test]
    fn confirmed_transactions_show_the_coins_they_spend_and_their_fee() {
        let (b, first, second) = chain_with_payments();
        let pool = Mempool::default();
        for (txid, fee) in [(first, 300), (second, 200)] {
            let view = tx(&b.chain, &pool, &txid).expect("valid");
            assert_eq!((view.status, view.confirmations, view.fee_units), ("confirmed", 1, Some(fee)));
            assert!(view.inputs.iter().all(|i| i.spends.is_some()), "{view:?}");
        }
        let coinbase = b.chain.tip().block.txs[0].txid();
        let view = tx(&b.chain, &pool, &coinbase).expect("valid");
        assert_eq!(view.fee_units, None);
        assert!(view.inputs[0].coinbase);
    }

    #[test]
    fn block_timing_lists_the_last_blocks_with_their_intervals() {
        let mut b = Builder::new();
        b.extend(5);
        let timing = block_timing(&b.chain, 3);
        assert_eq!(timing.iter().map(|t| t.height).collect::<Vec<_>>(), [3, 4, 5]);
        for point in &timing {
            let parent = b.chain.header(&b.chain.hash_at(point.height - 1).expect("active")).expect("known");
            assert_eq!(point.interval_s, i64::from(point.time) - i64::from(parent.header.time));
            assert!(point.difficulty > 0.0);
        }
        assert_eq!(block_timing(&b.chain, 100).len(), 5, "genesis has no interval");
        assert!(block_timing(&Builder::new().chain, 10).is_empty());
    }

    #[test]
    fn block_ids_of_64_decimal_digits_are_hashes() {
        let zeros = "0".repeat(64);
        let twelve = alloc::format!("{:0>64}", 12);
        for (id, expected) in [
            ("12", Ok(BlockId::Height(12))),
            ("0", Ok(BlockId::Height(0))),
            (zeros.as_str(), Ok(BlockId::Hash(BlockHash::ZERO))),
            (twelve.as_str(), Ok(BlockId::Hash(twelve.parse().expect("64 hex digits")))),
        ] {
            assert_eq!(BlockId::parse(id), expected, "{id}");
        }
        let b = Builder::new();
        let genesis_parent = search(&b.chain, &Mempool::default(), &zeros);
        assert_eq!(genesis_parent, Err(LookupError::NotFound(alloc::format!("no block or transaction {zeros}"))));
    }

    #[test]
    fn search_finds_heights_blocks_transactions_and_addresses() {
        let (b, first, _) = chain_with_payments();
        let pool = Mempool::default();
        let tip = b.chain.tip_hash().to_string();
        assert!(matches!(search(&b.chain, &pool, "0"), Ok(Found::Block(v)) if v.height == 0));
        assert!(matches!(search(&b.chain, &pool, &tip), Ok(Found::Block(v)) if v.hash == tip));
        assert!(matches!(search(&b.chain, &pool, &first.to_string()), Ok(Found::Tx(_))));
        let address = encode_address(b.chain.params().address_hrp, &miner().public_key());
        let Ok(Found::Address(view)) = search(&b.chain, &pool, &address) else { panic!("address not found") };
        assert!(view.confirmed_units > 0 && !view.history.is_empty());
        assert!(matches!(search(&b.chain, &pool, "999999"), Err(LookupError::NotFound(_))));
        assert!(matches!(search(&b.chain, &pool, &"ab".repeat(32)), Err(LookupError::NotFound(_))));
        assert!(matches!(search(&b.chain, &pool, "tab1notanaddress"), Err(LookupError::BadQuery(_))));
    }
}
