//! The store's indexes over the active chain, and the API's reads through them without the node's lock.
//!
//! `ACTIVE` holds the active chain's headers by height, `TX_INDEX` its transactions by txid,
//! `ADDRESS_HISTORY` and `ADDRESS_UNSPENT` each address's transactions and unspent total.
//!
//! Every index moves with the active chain: `ChainOp::Connect` adds a block's rows, and
//! `ChainOp::Disconnect` (always of the top block) takes them away, in the same redb write
//! transaction as the change set, so a read transaction sees them and the stored blocks at the
//! same committed change set.
//!
//! Balances without a scan of the UTXO set: `ADDRESS_UNSPENT` keeps, per address, the units of
//! its unspent coins (plus what each transaction paid it, minus what it spent of its coins;
//! immature coinbase outputs included). An immature coinbase output cannot have been spent
//! yet, so the immature part is exactly what the coinbases of the last `coinbase_maturity - 1`
//! heights paid the address: their history rows at position 0, read by one point lookup each.
//! A balance therefore costs O(maturity window × log n).
//!
//! The genesis block is indexed by height and its coinbase by txid, but its coinbase is in no
//! UTXO set (it cannot be spent), so it is in no address's history or balance.

use crate::store::{BLOCKS, UNDO};
use anyhow::{Context as _, bail, ensure};
use redb::{
    Database, ReadTransaction, ReadableDatabase as _, ReadableTable as _, Table, TableDefinition, WriteTransaction,
};
use std::collections::BTreeSet;
use std::fmt;
use std::ops::Bound;
use std::str::FromStr;
use tabchain_core::explorer::{AddressBalance, AddressTx, address_txs, block_spent_coins, immature_coinbase_heights};
use tabchain_core::{Block, BlockHash, BlockUndo, Header, Params, PublicKey, Txid, decode, encode};

/// Height → the 80-byte encoded header of the active chain's block at that height (genesis at 0).
pub(crate) const ACTIVE: TableDefinition<u32, &[u8]> = TableDefinition::new("active");
/// Txid → `TxPlace` (height, position in the block), for the active chain's transactions.
const TX_INDEX: TableDefinition<[u8; 32], [u8; TX_PLACE_BYTES]> = TableDefinition::new("tx_index");
/// `HistoryKey` (owner ‖ height ‖ position, big-endian so rows sort by chain order within an
/// owner) → `HistoryValue` (txid ‖ received units ‖ sent units).
const ADDRESS_HISTORY: TableDefinition<[u8; HISTORY_KEY_BYTES], [u8; HISTORY_VALUE_BYTES]> =
    TableDefinition::new("address_history");
/// Owner → units of its unspent coins on the active chain (no row when zero).
const ADDRESS_UNSPENT: TableDefinition<[u8; OWNER_BYTES], u64> = TableDefinition::new("address_unspent");
/// Height → the owners (32 bytes each) with history rows at that height, so disconnecting the
/// top block finds its rows without its undo data, which the store drops in the same
/// transaction.
const OWNERS_AT_HEIGHT: TableDefinition<u32, &[u8]> = TableDefinition::new("owners_at_height");

const OWNER_BYTES: usize = 32;
const TXID_BYTES: usize = 32;
const TX_PLACE_BYTES: usize = 8;
const HISTORY_KEY_BYTES: usize = OWNER_BYTES + 8;
const HISTORY_VALUE_BYTES: usize = TXID_BYTES + 16;

/// Where a transaction of the active chain is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TxPlace {
    pub height: u32,
    pub position: u32,
}

impl TxPlace {
    fn to_bytes(self) -> [u8; TX_PLACE_BYTES] {
        let mut bytes = [0; TX_PLACE_BYTES];
        bytes[..4].copy_from_slice(&self.height.to_be_bytes());
        bytes[4..].copy_from_slice(&self.position.to_be_bytes());
        bytes
    }

    fn from_bytes(bytes: [u8; TX_PLACE_BYTES]) -> Self {
        let (height, position) = bytes.split_at(4);
        Self { height: be_u32(height), position: be_u32(position) }
    }
}

/// A place in an address's history, newest-first pages start before it: written
/// `height:position` in the API (`?before=`, `next`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HistoryCursor {
    pub height: u32,
    pub position: u32,
}

impl fmt::Display for HistoryCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.height, self.position)
    }
}

/// Why a history cursor does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorError(String);

impl fmt::Display for CursorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for HistoryCursor {
    type Err = CursorError;

    fn from_str(text: &str) -> Result<Self, CursorError> {
        let (height, position) =
            text.split_once(':').ok_or_else(|| CursorError(format!("cursor {text:?} is not height:position")))?;
        let number = |part: &str, what: &str| {
            part.parse::<u32>().map_err(|e| CursorError(format!("cursor {text:?} has a bad {what} ({e})")))
        };
        Ok(Self { height: number(height, "height")?, position: number(position, "position")? })
    }
}

/// The key of an address's history row.
fn history_key(owner: &PublicKey, cursor: HistoryCursor) -> [u8; HISTORY_KEY_BYTES] {
    let mut key = [0; HISTORY_KEY_BYTES];
    key[..OWNER_BYTES].copy_from_slice(&owner.0);
    key[OWNER_BYTES..OWNER_BYTES + 4].copy_from_slice(&cursor.height.to_be_bytes());
    key[OWNER_BYTES + 4..].copy_from_slice(&cursor.position.to_be_bytes());
    key
}

/// What one transaction did to an address: the value of its history row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct HistoryValue {
    txid: Txid,
    received_units: u64,
    sent_units: u64,
}

impl HistoryValue {
    fn to_bytes(self) -> [u8; HISTORY_VALUE_BYTES] {
        let mut bytes = [0; HISTORY_VALUE_BYTES];
        bytes[..TXID_BYTES].copy_from_slice(self.txid.as_byte_array());
        bytes[TXID_BYTES..TXID_BYTES + 8].copy_from_slice(&self.received_units.to_be_bytes());
        bytes[TXID_BYTES + 8..].copy_from_slice(&self.sent_units.to_be_bytes());
        bytes
    }

    fn from_bytes(bytes: &[u8; HISTORY_VALUE_BYTES]) -> Self {
        let mut txid = [0; TXID_BYTES];
        txid.copy_from_slice(&bytes[..TXID_BYTES]);
        Self {
            txid: Txid::from_byte_array(txid),
            received_units: be_u64(&bytes[TXID_BYTES..TXID_BYTES + 8]),
            sent_units: be_u64(&bytes[TXID_BYTES + 8..]),
        }
    }
}

fn be_u32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes(bytes.try_into().expect("callers pass 4 bytes"))
}

fn be_u64(bytes: &[u8]) -> u64 {
    u64::from_be_bytes(bytes.try_into().expect("callers pass 8 bytes"))
}

/// The top of the indexed active chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IndexTop {
    pub height: u32,
    pub hash: BlockHash,
}

/// The index tables, open for writing in one transaction.
pub(crate) struct IndexTables<'txn> {
    active: Table<'txn, u32, &'static [u8]>,
    tx_index: Table<'txn, [u8; 32], [u8; TX_PLACE_BYTES]>,
    history: Table<'txn, [u8; HISTORY_KEY_BYTES], [u8; HISTORY_VALUE_BYTES]>,
    unspent: Table<'txn, [u8; OWNER_BYTES], u64>,
    owners_at_height: Table<'txn, u32, &'static [u8]>,
}

impl<'txn> IndexTables<'txn> {
    pub(crate) fn open(txn: &'txn WriteTransaction) -> anyhow::Result<Self> {
        Ok(Self {
            active: txn.open_table(ACTIVE)?,
            tx_index: txn.open_table(TX_INDEX)?,
            history: txn.open_table(ADDRESS_HISTORY)?,
            unspent: txn.open_table(ADDRESS_UNSPENT)?,
            owners_at_height: txn.open_table(OWNERS_AT_HEIGHT)?,
        })
    }

    /// The top of the indexed active chain.
    pub(crate) fn top(&self) -> anyhow::Result<IndexTop> {
        let (height, header) = self.active.last()?.context("the active chain index is empty")?;
        let header: Header = decode(header.value()).context("an indexed header is corrupt")?;
        Ok(IndexTop { height: height.value(), hash: header.block_hash() })
    }

    /// Adds the rows of `block`, which extends the top, connected with `undo`.
    pub(crate) fn connect(&mut self, hash: BlockHash, block: &Block, undo: &BlockUndo) -> anyhow::Result<()> {
        let IndexTop { height: top, hash: top_hash } = self.top()?;
        ensure!(block.header.prev_blockhash == top_hash, "block {hash} does not extend the indexed tip {top_hash}");
        let height = top + 1;
        self.active.insert(height, encode(&block.header).as_slice())?;
        for (position, tx) in block.txs.iter().enumerate() {
            let place = TxPlace { height, position: position as u32 };
            let txid = tx.txid();
            if self.tx_index.insert(txid.to_byte_array(), place.to_bytes())?.is_some() {
                bail!("transaction {txid} is already on the indexed active chain");
            }
        }
        let mut owners = BTreeSet::new();
        for row in address_txs(block, height, &block_spent_coins(block, undo)) {
            let key = history_key(&row.owner, HistoryCursor { height, position: row.position });
            let value = HistoryValue { txid: row.txid, received_units: row.received_units, sent_units: row.sent_units };
            self.history.insert(key, value.to_bytes())?;
            owners.insert(row.owner);
            // Rows come in block order, so a coin is counted before a later transaction spends it.
            self.change_unspent(&row.owner, row.received_units, row.sent_units)?;
        }
        if !owners.is_empty() {
            let list: Vec<u8> = owners.iter().flat_map(|owner| owner.0).collect();
            self.owners_at_height.insert(height, list.as_slice())?;
        }
        Ok(())
    }

    /// Takes away the rows of `block`, the top.
    pub(crate) fn disconnect(&mut self, hash: BlockHash, block: &Block) -> anyhow::Result<()> {
        let IndexTop { height, hash: top_hash } = self.top()?;
        ensure!(hash == top_hash, "disconnecting {hash}, which is not the indexed tip {top_hash}");
        ensure!(height > 0, "disconnecting the genesis block");
        self.active.remove(height)?;
        for tx in &block.txs {
            self.tx_index.remove(tx.txid().to_byte_array())?;
        }
        let owners: Vec<PublicKey> = match self.owners_at_height.remove(height)? {
            Some(list) => list.value().chunks_exact(OWNER_BYTES).map(owner_from).collect(),
            None => Vec::new(),
        };
        for owner in owners {
            let from = history_key(&owner, HistoryCursor { height, position: 0 });
            let to = history_key(&owner, HistoryCursor { height, position: u32::MAX });
            let (mut received, mut sent) = (0u64, 0u64);
            for row in self.history.extract_from_if(from..=to, |_, _| true)? {
                let value = HistoryValue::from_bytes(&row?.1.value());
                received += value.received_units;
                sent += value.sent_units;
            }
            // Coins the block spent come back before the ones it created go away.
            self.change_unspent(&owner, sent, received)?;
        }
        Ok(())
    }

    /// Adds `plus` units to `owner`'s unspent total, then takes `minus` away.
    fn change_unspent(&mut self, owner: &PublicKey, plus: u64, minus: u64) -> anyhow::Result<()> {
        let old = self.unspent.get(owner.0)?.map_or(0, |v| v.value());
        let new = old
            .checked_add(plus)
            .and_then(|units| units.checked_sub(minus))
            .with_context(|| format!("the unspent total of {owner:?} would leave its range"))?;
        if new == 0 {
            self.unspent.remove(owner.0)?;
        } else {
            self.unspent.insert(owner.0, new)?;
        }
        Ok(())
    }
}

fn owner_from(bytes: &[u8]) -> PublicKey {
    PublicKey(bytes.try_into().expect("chunks of OWNER_BYTES"))
}

/// Creates the index tables of a new store, holding the genesis block of `params`.
pub(crate) fn create(txn: &WriteTransaction, params: &Params) -> anyhow::Result<()> {
    let genesis = params.genesis_block().context("a relay needs a network with a full genesis block")?;
    let mut tables = IndexTables::open(txn)?;
    tables.active.insert(0, encode(&genesis.header).as_slice())?;
    for (position, tx) in genesis.txs.iter().enumerate() {
        tables
            .tx_index
            .insert(tx.txid().to_byte_array(), TxPlace { height: 0, position: position as u32 }.to_bytes())?;
    }
    Ok(())
}

/// One page of an address's history, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HistoryPage {
    pub rows: Vec<AddressTx>,
    /// Where the next page starts, when older rows remain.
    pub next: Option<HistoryCursor>,
}

/// Reads of the indexes and the stored chain, all at one committed change set.
pub(crate) struct IndexRead {
    txn: ReadTransaction,
}

impl IndexRead {
    pub(crate) fn begin(db: &Database) -> anyhow::Result<Self> {
        Ok(Self { txn: db.begin_read()? })
    }

    /// The height of the active chain's tip.
    pub(crate) fn tip_height(&self) -> anyhow::Result<u32> {
        let active = self.txn.open_table(ACTIVE)?;
        Ok(active.last()?.context("the active chain index is empty")?.0.value())
    }

    /// The active chain's block hash at `height`.
    pub(crate) fn active_hash(&self, height: u32) -> anyhow::Result<Option<BlockHash>> {
        let active = self.txn.open_table(ACTIVE)?;
        let Some(bytes) = active.get(height)? else { return Ok(None) };
        let header: Header = decode(bytes.value()).with_context(|| format!("indexed header {height} is corrupt"))?;
        Ok(Some(header.block_hash()))
    }

    /// A stored block, on any branch; the genesis block comes from `params`.
    pub(crate) fn block(&self, params: &Params, hash: &BlockHash) -> anyhow::Result<Option<Block>> {
        if *hash == params.genesis_hash() {
            return Ok(params.genesis_block());
        }
        let blocks = self.txn.open_table(BLOCKS)?;
        let Some(bytes) = blocks.get(hash.as_byte_array().as_slice())? else { return Ok(None) };
        Ok(Some(Block::from_bytes(bytes.value()).with_context(|| format!("stored block {hash} is corrupt"))?))
    }

    /// The undo data of an active block (empty for genesis, which spends nothing).
    pub(crate) fn undo(&self, params: &Params, hash: &BlockHash) -> anyhow::Result<Option<BlockUndo>> {
        if *hash == params.genesis_hash() {
            return Ok(Some(BlockUndo::default()));
        }
        let undo = self.txn.open_table(UNDO)?;
        let Some(bytes) = undo.get(hash.as_byte_array().as_slice())? else { return Ok(None) };
        Ok(Some(decode(bytes.value()).with_context(|| format!("undo data of {hash} is corrupt"))?))
    }

    /// Where a transaction of the active chain is.
    pub(crate) fn tx_place(&self, txid: &Txid) -> anyhow::Result<Option<TxPlace>> {
        let index = self.txn.open_table(TX_INDEX)?;
        Ok(index.get(txid.to_byte_array())?.map(|place| TxPlace::from_bytes(place.value())))
    }

    /// Units of `owner`'s unspent coins, immature coinbase outputs included.
    pub(crate) fn unspent_units(&self, owner: &PublicKey) -> anyhow::Result<u64> {
        let unspent = self.txn.open_table(ADDRESS_UNSPENT)?;
        Ok(unspent.get(owner.0)?.map_or(0, |units| units.value()))
    }

    /// `owner`'s balance on the active chain whose tip is at `tip` (no pending units: the
    /// mempool is the node's): its unspent total, of which what the coinbases of the immature
    /// window paid it (one lookup per height) is immature.
    pub(crate) fn balance(&self, params: &Params, owner: &PublicKey, tip: u32) -> anyhow::Result<AddressBalance> {
        let unspent = self.unspent_units(owner)?;
        let history = self.txn.open_table(ADDRESS_HISTORY)?;
        let mut immature = 0u64;
        for height in immature_coinbase_heights(params, tip) {
            let key = history_key(owner, HistoryCursor { height, position: 0 });
            immature += history.get(key)?.map_or(0, |row| HistoryValue::from_bytes(&row.value()).received_units);
        }
        let confirmed = unspent.checked_sub(immature).context("an unspent total is below its immature coinbases")?;
        Ok(AddressBalance { confirmed_units: confirmed, immature_units: immature, pending_units: 0 })
    }

    /// Up to `limit` of `owner`'s history rows before `before` (or the newest), newest first.
    pub(crate) fn history(
        &self,
        owner: &PublicKey,
        before: Option<HistoryCursor>,
        limit: usize,
    ) -> anyhow::Result<HistoryPage> {
        let history = self.txn.open_table(ADDRESS_HISTORY)?;
        let from = history_key(owner, HistoryCursor { height: 0, position: 0 });
        let to = match before {
            Some(cursor) => Bound::Excluded(history_key(owner, cursor)),
            None => Bound::Included(history_key(owner, HistoryCursor { height: u32::MAX, position: u32::MAX })),
        };
        let mut rows = Vec::new();
        for row in history.range::<[u8; HISTORY_KEY_BYTES]>((Bound::Included(from), to))?.rev().take(limit + 1) {
            let (key, value) = row?;
            let key = key.value();
            let value = HistoryValue::from_bytes(&value.value());
            rows.push(AddressTx {
                owner: *owner,
                txid: value.txid,
                height: be_u32(&key[OWNER_BYTES..OWNER_BYTES + 4]),
                position: be_u32(&key[OWNER_BYTES + 4..]),
                received_units: value.received_units,
                sent_units: value.sent_units,
            });
        }
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next =
            more.then(|| rows.last().map(|r| HistoryCursor { height: r.height, position: r.position })).flatten();
        Ok(HistoryPage { rows, next })
    }
}

#[cfg(test)]
#[path = "chain_index_tests.rs"]
mod tests;
