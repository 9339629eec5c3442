//! The relay's chain on disk, in redb: every stored block (in the order stored), undo data of
//! the active chain, the UTXO set and the tip, each change set written in one transaction.
//!
//! A crash at any moment leaves the database at the end of some committed change set; restart
//! replays the stored blocks through `core` (`Node::restore`) and checks the UTXO table against
//! the result.

use anyhow::{Context as _, bail};
use redb::backends::InMemoryBackend;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::collections::BTreeSet;
use std::path::Path;
use tabchain_core::{Block, BlockHash, ChainOp, ChangeSet, Coin, OutPoint, Params, UtxoSet, decode, encode};

/// Block hash → encoded block.
pub(crate) const BLOCKS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("blocks");
/// Storage sequence → block hash: blocks are replayed in this order, parents first.
const ORDER: TableDefinition<u64, &[u8]> = TableDefinition::new("order");
/// Block hash → encoded undo data, for blocks on the active chain.
pub(crate) const UNDO: TableDefinition<&[u8], &[u8]> = TableDefinition::new("undo");
/// Encoded outpoint → encoded coin.
const UTXOS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("utxos");
/// Named values: format version, network, tip.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// Memory redb may use to cache pages. Its default (1 GiB) lets the cache grow with the
/// database, so the relay's memory grew with the chain; lookups touch few pages beyond the
/// B-trees' upper levels, which this holds many times over.
const STORE_CACHE_BYTES: usize = 32 * 1024 * 1024;

/// Version of this database layout (2: with `chain_index`'s tables).
const STORE_VERSION: u8 = 2;

/// The relay's database.
#[derive(Debug)]
pub struct Store {
    db: Database,
}

/// What a restart needs.
#[derive(Debug)]
pub struct Loaded {
    pub blocks: Vec<Block>,
    pub tip: Option<BlockHash>,
}

impl Store {
    /// Opens (or creates) `dir/chain.redb` for the network `params`, refusing one made for
    /// another network or by an unknown layout version.
    pub fn open(dir: &Path, params: &Params) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create data directory {}", dir.display()))?;
        let path = dir.join("chain.redb");
        let db = redb::Builder::new()
            .set_cache_size(STORE_CACHE_BYTES)
            .create(&path)
            .with_context(|| format!("cannot open database {}", path.display()))?;
        let store = Self { db };
        store.check_identity(params)?;
        Ok(store)
    }

    /// A store held in memory (for a node run without a data directory), so that every node
    /// has one: the API reads blocks and indexes from it alone. It grows with the chain.
    pub fn in_memory(params: &Params) -> anyhow::Result<Self> {
        let db = redb::Builder::new().create_with_backend(InMemoryBackend::new())?;
        let store = Self { db };
        store.check_identity(params)?;
        Ok(store)
    }

    /// The database, for the reads of `chain_index`.
    pub(crate) fn db(&self) -> &Database {
        &self.db
    }

    fn check_identity(&self, params: &Params) -> anyhow::Result<()> {
        let genesis = params.genesis_hash();
        let txn = self.db.begin_write()?;
        {
            let mut meta = txn.open_table(META)?;
            let version = meta.get("version")?.map(|v| v.value().to_vec());
            let network = meta.get("network")?.map(|v| v.value().to_vec());
            match (version, network) {
                (None, None) => {
                    meta.insert("version", [STORE_VERSION].as_slice())?;
                    meta.insert("network", genesis.as_byte_array().as_slice())?;
                    crate::chain_index::create(&txn, params)?;
                }
                (Some(v), _) if v != [STORE_VERSION] => bail!("database layout version {v:?} is not {STORE_VERSION}"),
                (_, Some(n)) if n != genesis.as_byte_array() => {
                    bail!("the data directory holds another network's chain")
                }
                _ => {}
            }
            for table in [BLOCKS, UNDO, UTXOS] {
                txn.open_table(table)?;
            }
            txn.open_table(ORDER)?;
        }
        txn.commit()?;
        Ok(())
    }

    /// Every stored block in storage order, and the stored tip.
    pub fn load(&self) -> anyhow::Result<Loaded> {
        let txn = self.db.begin_read()?;
        let order = txn.open_table(ORDER)?;
        let blocks_table = txn.open_table(BLOCKS)?;
        let mut blocks = Vec::new();
        for row in order.iter()? {
            let (seq, hash) = row?;
            let bytes =
                blocks_table.get(hash.value())?.with_context(|| format!("block #{} is missing", seq.value()))?;
            let block =
                Block::from_bytes(bytes.value()).with_context(|| format!("block #{} is corrupt", seq.value()))?;
            blocks.push(block);
        }
        let meta = txn.open_table(META)?;
        let tip = match meta.get("tip")? {
            Some(bytes) => Some(decode::<BlockHash>(bytes.value()).context("stored tip is corrupt")?),
            None => None,
        };
        Ok(Loaded { blocks, tip })
    }

    /// Writes one change set atomically.
    pub fn apply(&self, set: &ChangeSet) -> anyhow::Result<()> {
        let txn = self.db.begin_write()?;
        {
            let mut blocks = txn.open_table(BLOCKS)?;
            let mut order = txn.open_table(ORDER)?;
            let mut next_seq = order.last()?.map_or(0, |(seq, _)| seq.value() + 1);
            for block in &set.blocks {
                let hash = block.block_hash();
                if blocks.insert(hash.as_byte_array().as_slice(), encode(block).as_slice())?.is_none() {
                    order.insert(next_seq, hash.as_byte_array().as_slice())?;
                    next_seq += 1;
                }
            }
            let mut undo = txn.open_table(UNDO)?;
            let mut utxos = txn.open_table(UTXOS)?;
            for op in &set.ops {
                apply_op(op, &blocks, &mut undo, &mut utxos)?;
            }
            let mut meta = txn.open_table(META)?;
            meta.insert("tip", set.tip.as_byte_array().as_slice())?;
            meta.insert("height", set.height.to_le_bytes().as_slice())?;
        }
        crate::chain_index::apply(&txn, set)?;
        txn.commit().context("cannot commit to the database")?;
        Ok(())
    }

    /// A stored block, if the store has it.
    pub fn block(&self, hash: &BlockHash) -> anyhow::Result<Option<Block>> {
        let txn = self.db.begin_read()?;
        let blocks = txn.open_table(BLOCKS)?;
        let Some(bytes) = blocks.get(hash.as_byte_array().as_slice())? else { return Ok(None) };
        Ok(Some(Block::from_bytes(bytes.value()).with_context(|| format!("stored block {hash} is corrupt"))?))
    }

    /// The stored UTXO set.
    pub fn utxos(&self) -> anyhow::Result<UtxoSetRows> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(UTXOS)?;
        let mut rows = Vec::new();
        for row in table.iter()? {
            let (k, v) = row?;
            rows.push((decode::<OutPoint>(k.value())?, decode::<Coin>(v.value())?));
        }
        Ok(rows)
    }

    /// Replaces the stored UTXO set and undo data with `utxos` (repair after a mismatch).
    pub fn rewrite_utxos(&self, utxos: &UtxoSet) -> anyhow::Result<()> {
        let txn = self.db.begin_write()?;
        txn.delete_table(UTXOS)?;
        {
            let mut table = txn.open_table(UTXOS)?;
            for (outpoint, coin) in utxos.iter() {
                table.insert(encode(outpoint).as_slice(), encode(coin).as_slice())?;
            }
        }
        txn.commit()?;
        Ok(())
    }
}

/// The rows of the stored UTXO table.
pub type UtxoSetRows = Vec<(OutPoint, Coin)>;

fn apply_op(
    op: &ChainOp,
    blocks: &redb::Table<&[u8], &[u8]>,
    undo: &mut redb::Table<&[u8], &[u8]>,
    utxos: &mut redb::Table<&[u8], &[u8]>,
) -> anyhow::Result<()> {
    let hash = match op {
        ChainOp::Connect { hash, .. } | ChainOp::Disconnect { hash } => *hash,
    };
    let bytes =
        blocks.get(hash.as_byte_array().as_slice())?.with_context(|| format!("chain step for unknown block {hash}"))?;
    let block = Block::from_bytes(bytes.value())?;
    match op {
        ChainOp::Connect { undo: block_undo, .. } => {
            let height_of_coins = block.txs[0].coinbase_height().context("stored block without coinbase")?;
            let spent_here: BTreeSet<OutPoint> =
                block.txs.iter().skip(1).flat_map(|t| t.inputs.iter().map(|i| i.prev_out)).collect();
            for (outpoint, _) in &block_undo.spent {
                utxos.remove(encode(outpoint).as_slice())?;
            }
            for tx in &block.txs {
                let txid = tx.txid();
                for (vout, output) in tx.outputs.iter().enumerate() {
                    let outpoint = OutPoint { txid, vout: vout as u32 };
                    if !spent_here.contains(&outpoint) {
                        let coin = Coin { output: *output, height: height_of_coins, is_coinbase: tx.is_coinbase() };
                        utxos.insert(encode(&outpoint).as_slice(), encode(&coin).as_slice())?;
                    }
                }
            }
            undo.insert(hash.as_byte_array().as_slice(), encode(block_undo).as_slice())?;
        }
        ChainOp::Disconnect { .. } => {
            for tx in &block.txs {
                let txid = tx.txid();
                for vout in 0..tx.outputs.len() as u32 {
                    utxos.remove(encode(&OutPoint { txid, vout }).as_slice())?;
                }
            }
            let stored =
                undo.remove(hash.as_byte_array().as_slice())?.with_context(|| format!("no undo data for {hash}"))?;
            let block_undo: tabchain_core::BlockUndo = decode(stored.value())?;
            drop(stored);
            for (outpoint, coin) in &block_undo.spent {
                utxos.insert(encode(outpoint).as_slice(), encode(coin).as_slice())?;
            }
        }
    }
    Ok(())
}
