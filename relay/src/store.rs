//! The relay's chain on disk, in redb: every stored block, the active chain's undo data, the UTXO
//! set with its checksum, and the tip, plus `chain_index`'s tables (headers by height, txids,
//! addresses); each change set is written in one transaction, so a crash at any moment leaves
//! the database at the end of some committed set.
//!
//! A restart resumes from these tables (`load`) without validating the blocks again; a store
//! whose pieces do not fit is refused with a sentence naming the damage, and `reindex` rebuilds
//! the tables by validating the stored blocks from genesis.

use crate::chain_index::{ACTIVE, IndexTables};
use anyhow::{Context as _, bail};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use tabchain_core::commitment::UtxoSetHash;
use tabchain_core::{
    ACTIVE_BLOCKS_KEPT, Block, BlockHash, BlockUndo, ChainOp, ChainResume, ChangeSet, Coin, CoinStore, Header,
    MUHASH_BYTES, OutPoint, Params, ResumeError, StoredTip, UtxoChecksum, UtxoSet, apply_connect, apply_disconnect,
    decode, encode,
};

/// Block hash → encoded block, for every block stored, on any branch.
pub(crate) const BLOCKS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("blocks");
/// Storage sequence → block hash: every stored block, parents first (what `reindex` replays).
const ORDER: TableDefinition<u64, &[u8]> = TableDefinition::new("order");
/// Block hash → encoded undo data, for blocks on the active chain.
pub(crate) const UNDO: TableDefinition<&[u8], &[u8]> = TableDefinition::new("undo");
/// Encoded outpoint → encoded coin: the UTXO set at the tip.
const UTXOS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("utxos");
/// Named values: format version, network, tip, UTXO checksum, UTXO set hash.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// Memory redb may use to cache pages. Its default (1 GiB) lets the cache grow with the
/// database, so the relay's memory grew with the chain. Every lookup is a few B-tree descents
/// whose upper levels this holds many times over (at 100,000 blocks a lookup took 1.2 ms with
/// 32 MiB and 1.6 ms at most with 4 MiB, which takes 4 MiB off the relay's memory); a restart
/// reads its tables once, in order.
const STORE_CACHE_BYTES: usize = 4 * 1024 * 1024;

/// Version of this database layout. Layout 1 kept no indexes (`chain_index`) nor a UTXO checksum,
/// and was restored by validating every block again; layout 2 kept no UTXO set hash (its chain
/// has no commitments). `reindex` converts them.
const STORE_VERSION: u8 = 3;

/// The database file in a data directory.
const DB_FILE: &str = "chain.redb";
/// Where `reindex` builds the new database before it replaces the old one.
const REINDEX_FILE: &str = "chain.redb.reindex";

/// Opens the database again (after an I/O error, which makes redb refuse every later operation
/// on the handle that met it).
pub type Opener = Arc<dyn Fn() -> Result<Database, redb::DatabaseError> + Send + Sync>;

/// The relay's database.
pub struct Store {
    /// The open handle; `None` while it is being reopened. Readers take a clone of the `Arc`
    /// for one read transaction.
    db: RwLock<Option<Arc<Database>>>,
    /// How to open it again; `None` for a store in memory, which has no file to go back to.
    opener: Option<Opener>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("reopens", &self.opener.is_some()).finish_non_exhaustive()
    }
}

/// How many times `reopen` tries, and how long it waits between tries, for readers still
/// holding the old handle (and its file lock) to finish.
const REOPEN_TRIES: u32 = 40;
const REOPEN_WAIT: std::time::Duration = std::time::Duration::from_millis(50);

/// Why a store cannot be resumed.
#[derive(Debug)]
pub enum LoadError {
    /// The tables do not fit together: the store was damaged. `reindex` repairs it.
    Damaged(String),
    /// The database itself cannot be read.
    Io(anyhow::Error),
}

impl From<redb::Error> for LoadError {
    fn from(error: redb::Error) -> Self {
        Self::Io(error.into())
    }
}

macro_rules! io_errors {
    ($($t:ty),*) => {$(
        impl From<$t> for LoadError {
            fn from(error: $t) -> Self {
                Self::Io(error.into())
            }
        }
    )*};
}
io_errors!(redb::TransactionError, redb::TableError, redb::StorageError);

impl From<anyhow::Error> for LoadError {
    fn from(error: anyhow::Error) -> Self {
        Self::Io(error)
    }
}

impl From<ResumeError> for LoadError {
    fn from(error: ResumeError) -> Self {
        Self::Damaged(error.to_string())
    }
}

impl Store {
    /// Opens (or creates) `dir/chain.redb` for the network `params`, refusing one made for
    /// another network or by another layout version.
    pub fn open(dir: &Path, params: &Params) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create data directory {}", dir.display()))?;
        Self::open_with(dir, params, file_opener(dir.join(DB_FILE)))
    }

    /// Opens the store `opener` gives (a file, or in tests a storage that can fill up) for the
    /// data directory `dir`.
    pub fn open_with(dir: &Path, params: &Params, opener: Opener) -> anyhow::Result<Self> {
        let db = opener().with_context(|| format!("cannot open the chain database in {}", dir.display()))?;
        let store = Self { db: RwLock::new(Some(Arc::new(db))), opener: Some(opener) };
        store.check_identity(params, dir)?;
        Ok(store)
    }

    /// A store held in memory (for a node run without a data directory), so that every node has
    /// one: the API reads blocks and indexes from it alone. It grows with the chain.
    pub fn in_memory(params: &Params) -> anyhow::Result<Self> {
        let db = redb::Builder::new().create_with_backend(redb::backends::InMemoryBackend::new())?;
        let store = Self { db: RwLock::new(Some(Arc::new(db))), opener: None };
        store.check_identity(params, Path::new("(memory)"))?;
        Ok(store)
    }

    /// The database file at `path`, without the identity check (`reindex` reads and writes
    /// stores before they are whole).
    fn open_file(path: &Path) -> anyhow::Result<Self> {
        let opener = file_opener(path.to_path_buf());
        let db = opener().with_context(|| format!("cannot open database {}", path.display()))?;
        Ok(Self { db: RwLock::new(Some(Arc::new(db))), opener: Some(opener) })
    }

    /// The database, for one transaction (and the reads of `chain_index`).
    pub(crate) fn db(&self) -> anyhow::Result<Arc<Database>> {
        let slot = self.db.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        slot.clone().context("the chain database is being reopened")
    }

    /// Drops the handle and opens the database again: after an I/O error redb refuses every
    /// operation on the old handle, reads included. Waits (boundedly) for readers holding the
    /// old handle to let go of its file lock.
    pub fn reopen(&self) -> anyhow::Result<()> {
        let Some(opener) = &self.opener else { bail!("a store in memory cannot be reopened") };
        let old = self.db.write().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        drop(old);
        let mut last = None;
        for _ in 0..REOPEN_TRIES {
            match opener() {
                Ok(db) => {
                    *self.db.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::new(db));
                    return Ok(());
                }
                Err(error) => last = Some(error),
            }
            std::thread::sleep(REOPEN_WAIT);
        }
        Err(anyhow::Error::from(last.expect("tried at least once")).context("cannot reopen the chain database"))
    }

    fn check_identity(&self, params: &Params, dir: &Path) -> anyhow::Result<()> {
        let genesis = params.genesis_block().context("a relay needs a network with a genesis block")?;
        let txn = self.db()?.begin_write()?;
        {
            let mut meta = txn.open_table(META)?;
            let version = meta.get("version")?.map(|v| v.value().to_vec());
            let network = meta.get("network")?.map(|v| v.value().to_vec());
            match (version, network) {
                (None, None) => {
                    meta.insert("version", [STORE_VERSION].as_slice())?;
                    meta.insert("network", genesis.block_hash().as_byte_array().as_slice())?;
                    meta.insert("tip", genesis.block_hash().as_byte_array().as_slice())?;
                    meta.insert("utxo_checksum", UtxoChecksum::default().to_bytes().as_slice())?;
                    meta.insert("utxo_set_hash", UtxoSetHash::default().to_bytes().as_slice())?;
                    crate::chain_index::create(&txn, params)?;
                }
                (_, Some(n)) if n != genesis.block_hash().as_byte_array() => {
                    bail!("the data directory holds another network's chain")
                }
                (Some(v), _) if v != [STORE_VERSION] => bail!(
                    "the database in {} has layout version {v:?}, not {STORE_VERSION}: run `tabchain reindex --data {}` to rebuild it from its blocks",
                    dir.display(),
                    dir.display()
                ),
                _ => {}
            }
            txn.open_table(BLOCKS)?;
            txn.open_table(UNDO)?;
            txn.open_table(UTXOS)?;
            txn.open_table(ORDER)?;
        }
        txn.commit()?;
        Ok(())
    }

    /// The stored chain, resumed without validating its blocks again: the active headers, the
    /// newest `ACTIVE_BLOCKS_KEPT` blocks with undo data, the coins, checked against the tip
    /// and the UTXO checksum stored with it.
    pub fn load(&self, params: Params) -> Result<ChainResume, LoadError> {
        // The coins are read and built into a set on a second thread while this one takes the
        // headers: the two halves of a restart cost about the same. Nothing writes meanwhile, so
        // both read transactions see the same committed state.
        std::thread::scope(|scope| {
            let coins = scope.spawn(|| self.load_coins());
            let chain = self.load_chain(params);
            let coins = coins.join().map_err(|_| damaged("reading the coins panicked".into()))?;
            let (mut resume, state) = chain?;
            resume.push_utxos(coins?);
            resume.check_state(state)?;
            Ok(resume)
        })
    }

    /// The active headers and the newest blocks with their undo data, and the stored tip.
    fn load_chain(&self, params: Params) -> Result<(ChainResume, StoredTip), LoadError> {
        let txn = self.db()?.begin_read()?;
        let meta = txn.open_table(META)?;
        let tip = read_meta::<BlockHash>(&meta, "tip")?;
        let checksum = UtxoChecksum::from_bytes(read_meta::<[u8; 32]>(&meta, "utxo_checksum")?);
        let set_hash = read_set_hash(&meta)?;
        let active = txn.open_table(ACTIVE)?;
        let blocks = txn.open_table(BLOCKS)?;
        let undo = txn.open_table(UNDO)?;
        let top = active.last()?.map_or(0, |(height, _)| height.value());
        let kept_from = top.saturating_sub(ACTIVE_BLOCKS_KEPT).max(1);
        let mut resume = ChainResume::new(params);
        for (expected, row) in (1..).zip(active.range(1..)?) {
            let (height, bytes) = row?;
            let height = height.value();
            if height != expected {
                return Err(damaged(format!("no header is stored at height {expected}")));
            }
            let header: Header = decode(bytes.value()).map_err(|e| damaged(format!("header {height}: {e}")))?;
            if height < kept_from {
                resume.push_header(header)?;
                continue;
            }
            let hash = header.block_hash();
            let key = hash.as_byte_array().as_slice();
            let block = blocks.get(key)?.ok_or_else(|| damaged(format!("block {height} ({hash}) is missing")))?;
            let block = Block::from_bytes(block.value()).map_err(|e| damaged(format!("block {height}: {e}")))?;
            let block_undo =
                undo.get(key)?.ok_or_else(|| damaged(format!("undo data of block {height} is missing")))?;
            let block_undo: BlockUndo =
                decode(block_undo.value()).map_err(|e| damaged(format!("undo data of block {height}: {e}")))?;
            resume.push_block(block, block_undo)?;
        }
        Ok((resume, StoredTip { tip, checksum, set_hash }))
    }

    /// The stored UTXO set; its set hash comes with the tip (`check_state`).
    fn load_coins(&self) -> Result<UtxoSet, LoadError> {
        let txn = self.db()?.begin_read()?;
        let utxos = txn.open_table(UTXOS)?;
        let mut coins = Vec::new();
        for row in utxos.iter()? {
            let (k, v) = row?;
            let outpoint: OutPoint = decode(k.value()).map_err(|e| damaged(format!("a coin's outpoint: {e}")))?;
            let coin: Coin = decode(v.value()).map_err(|e| damaged(format!("coin {outpoint:?}: {e}")))?;
            coins.push((outpoint, coin));
        }
        Ok(UtxoSet::from_stored(coins, UtxoSetHash::default()))
    }

    /// Writes one change set atomically.
    pub fn apply(&self, set: &ChangeSet) -> anyhow::Result<()> {
        let txn = self.db()?.begin_write()?;
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
            let mut meta = txn.open_table(META)?;
            let stored_sum = meta.get("utxo_checksum")?.context("no UTXO checksum stored")?.value().to_vec();
            let stored_set_hash = meta.get("utxo_set_hash")?.context("no UTXO set hash stored")?.value().to_vec();
            let stored_set_hash: &[u8; MUHASH_BYTES] =
                stored_set_hash.as_slice().try_into().map_err(|_| anyhow::anyhow!("bad set hash"))?;
            let mut coins = CoinTable {
                table: txn.open_table(UTXOS)?,
                checksum: UtxoChecksum::from_bytes(stored_sum.try_into().map_err(|_| anyhow::anyhow!("bad checksum"))?),
                set_hash: UtxoSetHash::from_bytes(stored_set_hash)
                    .map_err(|e| anyhow::anyhow!("bad set hash: {e:?}"))?,
            };
            let mut undo = txn.open_table(UNDO)?;
            let mut index = IndexTables::open(&txn)?;
            for op in &set.ops {
                apply_op(op, &blocks, &mut undo, &mut coins, &mut index)?;
            }
            meta.insert("tip", set.tip.as_byte_array().as_slice())?;
            meta.insert("utxo_checksum", coins.checksum.to_bytes().as_slice())?;
            meta.insert("utxo_set_hash", coins.set_hash.to_bytes().as_slice())?;
        }
        txn.commit().context("cannot commit to the database")?;
        Ok(())
    }

    /// A stored block, if the store has it.
    pub fn block(&self, hash: &BlockHash) -> anyhow::Result<Option<Block>> {
        let txn = self.db()?.begin_read()?;
        let blocks = txn.open_table(BLOCKS)?;
        let Some(bytes) = blocks.get(hash.as_byte_array().as_slice())? else { return Ok(None) };
        Ok(Some(Block::from_bytes(bytes.value()).with_context(|| format!("stored block {hash} is corrupt"))?))
    }

    /// Every stored block's hash, parents first.
    fn stored_order(&self) -> anyhow::Result<Vec<BlockHash>> {
        let txn = self.db()?.begin_read()?;
        let order = txn.open_table(ORDER)?;
        let mut hashes = Vec::new();
        for row in order.iter()? {
            hashes.push(decode(row?.1.value())?);
        }
        Ok(hashes)
    }
}

/// Opens the database file at `path` with the relay's page cache.
fn file_opener(path: PathBuf) -> Opener {
    Arc::new(move || redb::Builder::new().set_cache_size(STORE_CACHE_BYTES).create(&path))
}

/// The set hash stored with the tip.
fn read_set_hash(meta: &redb::ReadOnlyTable<&str, &[u8]>) -> Result<UtxoSetHash, LoadError> {
    let value = meta.get("utxo_set_hash")?.ok_or_else(|| damaged("no utxo_set_hash is stored".into()))?;
    let bytes: &[u8; MUHASH_BYTES] =
        value.value().try_into().map_err(|_| damaged("the stored utxo_set_hash has the wrong length".into()))?;
    UtxoSetHash::from_bytes(bytes).map_err(|e| damaged(format!("the stored utxo_set_hash: {e:?}")))
}

fn damaged(reason: String) -> LoadError {
    LoadError::Damaged(reason)
}

fn read_meta<T: tabchain_core::Decode>(
    meta: &redb::ReadOnlyTable<&str, &[u8]>,
    key: &'static str,
) -> Result<T, LoadError> {
    let value = meta.get(key)?.ok_or_else(|| damaged(format!("no {key} is stored")))?;
    decode(value.value()).map_err(|e| damaged(format!("the stored {key}: {e}")))
}

/// The UTXO table, with the checksum and set hash of what it holds kept in step.
struct CoinTable<'txn> {
    table: redb::Table<'txn, &'static [u8], &'static [u8]>,
    checksum: UtxoChecksum,
    set_hash: UtxoSetHash,
}

impl CoinStore for CoinTable<'_> {
    type Error = anyhow::Error;

    fn put(&mut self, outpoint: OutPoint, coin: Coin) -> anyhow::Result<()> {
        if let Some(old) = self.table.insert(encode(&outpoint).as_slice(), encode(&coin).as_slice())? {
            let old: Coin = decode(old.value())?;
            self.checksum.remove(&outpoint, &old);
            self.set_hash.remove(&outpoint, &old);
        }
        self.checksum.add(&outpoint, &coin);
        self.set_hash.add(&outpoint, &coin);
        Ok(())
    }

    fn delete(&mut self, outpoint: &OutPoint) -> anyhow::Result<()> {
        if let Some(old) = self.table.remove(encode(outpoint).as_slice())? {
            let old: Coin = decode(old.value())?;
            self.checksum.remove(outpoint, &old);
            self.set_hash.remove(outpoint, &old);
        }
        Ok(())
    }
}

/// One step of the active chain: its coins, its undo data and the indexes.
fn apply_op(
    op: &ChainOp,
    blocks: &redb::Table<&[u8], &[u8]>,
    undo: &mut redb::Table<&[u8], &[u8]>,
    coins: &mut CoinTable<'_>,
    index: &mut IndexTables<'_>,
) -> anyhow::Result<()> {
    let hash = match op {
        ChainOp::Connect { hash, .. } | ChainOp::Disconnect { hash } => *hash,
    };
    let key = hash.as_byte_array().as_slice();
    let bytes = blocks.get(key)?.with_context(|| format!("chain step for unknown block {hash}"))?;
    let block = Block::from_bytes(bytes.value()).with_context(|| format!("stored block {hash} is corrupt"))?;
    drop(bytes);
    match op {
        ChainOp::Connect { undo: block_undo, .. } => {
            let height = index.top()?.height + 1;
            apply_connect(&block, height, block_undo, coins)?;
            undo.insert(key, encode(block_undo).as_slice())?;
            index.connect(hash, &block, block_undo)?;
        }
        ChainOp::Disconnect { .. } => {
            let block_undo: BlockUndo =
                decode(undo.remove(key)?.with_context(|| format!("no undo data for {hash}"))?.value())?;
            apply_disconnect(&block, &block_undo, coins)?;
            index.disconnect(hash, &block)?;
        }
    }
    Ok(())
}

/// Rebuilds the database in `dir` from its stored blocks, validating each again from genesis as
/// if it came from a peer; blocks that fail or whose ancestry is lost are left out. Returns the
/// height reached. The old database is replaced only once the new one is complete.
pub fn reindex(dir: &Path, params: Params) -> anyhow::Result<ReindexReport> {
    let old_path = dir.join(DB_FILE);
    let new_path: PathBuf = dir.join(REINDEX_FILE);
    let old = Store::open_file(&old_path)?;
    let hashes = old.stored_order().context("the list of stored blocks cannot be read")?;
    let _ = std::fs::remove_file(&new_path);
    let new = Store::open_file(&new_path)?;
    new.check_identity(&params, dir)?;
    let mut node = tabchain_core::Node::new(params, "reindex");
    let mut report = ReindexReport::default();
    for hash in hashes {
        let block = match old.block(&hash) {
            Ok(Some(block)) => block,
            _ => {
                report.unreadable += 1;
                continue;
            }
        };
        match node.submit_block(block, crate::driver::now()) {
            Ok(_) => report.blocks += 1,
            Err(_) => report.refused += 1,
        }
        while let Some(output) = node.poll_output() {
            if let tabchain_core::Output::Persist(set) = output {
                new.apply(&set)?;
            }
        }
    }
    report.height = node.chain().height();
    drop((old, new));
    std::fs::rename(&new_path, &old_path).context("cannot replace the old database")?;
    Ok(report)
}

/// What `reindex` did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReindexReport {
    /// Blocks validated and stored again.
    pub blocks: usize,
    /// Stored blocks the rules refused (or whose parent was lost).
    pub refused: usize,
    /// Stored blocks that could not be read.
    pub unreadable: usize,
    /// The height of the rebuilt active chain.
    pub height: u32,
}

/// Whether a store error means the disk (or the user's quota) is full, or that an earlier such
/// error left the handle refusing everything: writes may succeed again once space returns and
/// the store is reopened. Anything else is a fault the relay stops on.
pub fn is_out_of_space(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        let storage = cause
            .downcast_ref::<redb::StorageError>()
            .or_else(|| match cause.downcast_ref::<redb::CommitError>() {
                Some(redb::CommitError::Storage(e)) => Some(e),
                _ => None,
            })
            .or_else(|| match cause.downcast_ref::<redb::TransactionError>() {
                Some(redb::TransactionError::Storage(e)) => Some(e),
                _ => None,
            })
            .or_else(|| match cause.downcast_ref::<redb::TableError>() {
                Some(redb::TableError::Storage(e)) => Some(e),
                _ => None,
            });
        match storage {
            Some(redb::StorageError::Io(io)) => io_out_of_space(io),
            Some(redb::StorageError::PreviousIo) => true,
            _ => cause.downcast_ref::<std::io::Error>().is_some_and(io_out_of_space),
        }
    })
}

/// `ENOSPC` (no space left on device) and `EDQUOT` (quota exceeded).
fn io_out_of_space(error: &std::io::Error) -> bool {
    const ENOSPC: i32 = 28;
    const EDQUOT: i32 = 122;
    matches!(error.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded)
        || matches!(error.raw_os_error(), Some(ENOSPC | EDQUOT))
}
