//! Resuming a `Chain` from what a shell stored, without validating again what its node validated
//! before storing it: the active chain's headers, its newest blocks with their undo data, the
//! UTXO set at the tip, that set's checksum and its set hash (`StoredTip`).
//!
//! Resuming checks that the pieces fit: each header builds on the one before and carries its
//! proof of work, each kept block matches its header (merkle root) and passes the checks that
//! need no chain, the coins add up to the stored checksum, the stored set hash, taken back
//! through the tip block, is what that block commits to, and the tip is the stored tip. That
//! catches a corrupt or half-written store; it is not a defence against a hostile one (a shell
//! only stores what its node validated). Signatures and difficulty are not checked again.
//!
//! The set hash is stored rather than computed from the coins again, which would cost a
//! multiplication modulo a 3072-bit prime per coin at every restart.
//!
//! Two shells use it. The relay loads its tables (`push_header`, `push_block`, `push_coins`,
//! `check_state`). The tab stores a checkpoint (`Chain::checkpoint_records`, bounded records)
//! and the change sets written since, which `apply_change_set` replays: a connect takes the
//! stored undo data instead of validating the block again.

use super::{BlockEntry, Chain, Reverse};
use crate::amount::Amount;
use crate::block::Block;
use crate::commitment::{UTXO_COMMITMENT_FROM_HEIGHT, UtxoSetHash, block_commitment};
use crate::encode::{Decode, DecodeError, Encode, Reader, decode, write_compact_size, write_list};
use crate::hash::BlockHash;
use crate::hash::Txid;
use crate::header::{HEADER_BYTES, Header};
use crate::limits::TX_OUTPUTS_MAX;
use crate::node::ChainOp;
use crate::node::ChangeSet;
use crate::params::Params;
use crate::pow::check_proof_of_work_of;
use crate::signature::PublicKey;
use crate::target::{CompactTarget, Work};
use crate::transaction::OutPoint;
use crate::transaction::TxOut;
use crate::utxo::{BlockUndo, Coin, UtxoSet, apply_connect, apply_disconnect, created_coins};
use crate::utxo_checksum::UtxoChecksum;
use crate::validation::{BlockError, check_block};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

/// Version of the checkpoint record format (2: headers without the previous hash, coins grouped
/// by transaction with variable-length numbers; about a third smaller than version 1; 3: the end
/// record carries the set hash, and a coins record lists each owner once).
pub const CHECKPOINT_VERSION: u8 = 3;
/// Bytes of one checkpoint record, about: a shell stores each as one row. Records stop growing
/// at the first item past this, so one may exceed it by one item (a block, at most
/// `BLOCK_BYTES_MAX` with its undo data).
pub const CHECKPOINT_RECORD_BYTES_MAX: usize = 1 << 20;

/// Smallest encodings, for bounding the lists a record decodes.
const LINKED_HEADER_BYTES: usize = HEADER_BYTES - 32;
const COIN_GROUP_BYTES_MIN: usize = 32 + 1 + COIN_IN_GROUP_BYTES_MIN;
const COIN_IN_GROUP_BYTES_MIN: usize = 1 + 1 + 1 + 1 + 1;
const KEPT_BLOCK_BYTES_MIN: usize = HEADER_BYTES + 2;

/// Why stored state cannot be resumed: the store is corrupt or incomplete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResumeError {
    /// The header (or kept block) at `height` does not build on the one below it.
    BrokenLink { height: u32 },
    /// The header at `height` lacks its proof of work.
    BadProofOfWork { height: u32 },
    /// The kept block at `height` fails a check that needs no chain (its body does not match
    /// its header, for one).
    BadBlock { height: u32, error: BlockError },
    /// A bare header came after a kept block: headers come first, then the newest blocks.
    HeaderAfterBlock { height: u32 },
    /// The newest active block is missing: its body and undo data must be kept.
    TipBlockMissing { height: u32 },
    /// Checkpoint records were given but not their end record: the checkpoint was cut short.
    CheckpointIncomplete,
    /// The stored tip is not where the stored headers and blocks end.
    TipMismatch { stored: BlockHash, loaded: BlockHash },
    /// The coins loaded do not add up to the checksum stored with the tip.
    ChecksumMismatch { stored: UtxoChecksum, loaded: UtxoChecksum },
    /// The set hash stored with the tip, taken back through the tip block, is not what that
    /// block commits to.
    SetHashMismatch { height: u32 },
    /// A stored undo entry names a coin the set does not hold, as stored.
    MissingCoin { outpoint: OutPoint },
    /// A stored chain step names a block the store does not hold, or disconnects one that is
    /// not the tip.
    StepOutOfPlace { hash: BlockHash },
    /// A record or stored change set does not decode.
    Corrupt { what: &'static str, error: DecodeError },
}

impl fmt::Display for ResumeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BrokenLink { height } => {
                write!(f, "the stored header at height {height} does not follow the one below")
            }
            Self::BadProofOfWork { height } => {
                write!(f, "the stored header at height {height} lacks its proof of work")
            }
            Self::BadBlock { height, error } => write!(f, "the stored block at height {height} is damaged: {error}"),
            Self::HeaderAfterBlock { height } => {
                write!(f, "a bare header (height {height}) is stored after full blocks")
            }
            Self::TipBlockMissing { height } => write!(f, "the tip's block (height {height}) is not stored"),
            Self::CheckpointIncomplete => f.write_str("the stored checkpoint ends before its end record"),
            Self::TipMismatch { stored, loaded } => {
                write!(f, "the stored tip {stored} is not the last stored block {loaded}")
            }
            Self::ChecksumMismatch { stored, loaded } => {
                write!(f, "the stored coins add up to checksum {loaded}, not the {stored} stored with the tip")
            }
            Self::SetHashMismatch { height } => write!(
                f,
                "the UTXO set hash stored with the tip does not match the commitment of the block at height {height}"
            ),
            Self::MissingCoin { outpoint } => {
                write!(f, "stored undo data names coin {outpoint:?}, which is not in the set")
            }
            Self::StepOutOfPlace { hash } => write!(f, "a stored chain step for block {hash} does not fit the chain"),
            Self::Corrupt { what, error } => write!(f, "a stored {what} is corrupt: {error}"),
        }
    }
}

/// A chain being resumed from storage: push the pieces, then `finish`.
#[derive(Debug)]
pub struct ChainResume {
    chain: Chain,
    /// Blocks a replayed change set stored, not (or no longer) on the active chain.
    side_blocks: BTreeMap<BlockHash, Block>,
    /// The work of the last header's bits.
    last_work: Option<(CompactTarget, Work)>,
    /// Whether checkpoint records were pushed, and whether the last one was their end record.
    checkpoint: CheckpointSeen,
}

/// What `push_record` has seen of a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CheckpointSeen {
    None,
    Started,
    Ended,
}

impl ChainResume {
    /// Starts from the genesis block of `params` (see `Chain::new`).
    pub fn new(params: Params) -> Self {
        Self {
            chain: Chain::new(params),
            side_blocks: BTreeMap::new(),
            last_work: None,
            checkpoint: CheckpointSeen::None,
        }
    }

    /// The chain so far (its coins as pushed, its tip as the last header or block pushed).
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// Appends the next active header whose block is not kept in memory (the shell serves it from
    /// its store, or a pruned shell no longer has it).
    pub fn push_header(&mut self, header: Header) -> Result<(), ResumeError> {
        let height = self.chain.height() + 1;
        if self.chain.kept_from_height < self.chain.height() || self.chain.entries.len() > 1 {
            return Err(ResumeError::HeaderAfterBlock { height });
        }
        let hash = self.extend(header)?;
        self.chain.active.push(hash);
        self.chain.kept_from_height = height + 1;
        Ok(())
    }

    /// Appends the next active block, kept in memory with its undo data. The coins are not
    /// touched: pushed coins are the set at the tip.
    pub fn push_block(&mut self, block: Block, undo: BlockUndo) -> Result<(), ResumeError> {
        let height = self.chain.height() + 1;
        check_block(&block, &self.chain.params).map_err(|error| ResumeError::BadBlock { height, error })?;
        let hash = self.extend(block.header)?;
        let node = &self.chain.headers[&hash];
        let (chain_work, seq) = (node.chain_work, node.seq);
        let entry = BlockEntry { block, height, chain_work, undo: Some(undo), invalid: false, seq };
        self.chain.entries.insert(hash, entry);
        self.chain.entries_by_height.insert((height, hash));
        self.chain.candidates.insert((chain_work, Reverse(seq), hash));
        self.chain.active.push(hash);
        Ok(())
    }

    /// Adds stored coins of the UTXO set at the tip. Their set hash comes with `check_state`.
    pub fn push_coins(&mut self, coins: impl IntoIterator<Item = (OutPoint, Coin)>) {
        if self.chain.utxos.is_empty() {
            // Built at once from sorted coins, which is much faster than coin by coin.
            self.chain.utxos = UtxoSet::from_stored(coins.into_iter().collect(), UtxoSetHash::default());
            return;
        }
        for (outpoint, coin) in coins {
            self.chain.utxos.put_stored(outpoint, coin);
        }
    }

    /// Sets the coins of the UTXO set at the tip, built elsewhere (say, on another thread),
    /// replacing any pushed before.
    pub fn push_utxos(&mut self, utxos: UtxoSet) {
        self.chain.utxos = utxos;
    }

    /// Checks what was pushed against what was stored with the tip, and takes its set hash.
    pub fn check_state(&mut self, stored: StoredTip) -> Result<(), ResumeError> {
        let StoredTip { tip, checksum, set_hash } = stored;
        let loaded = self.chain.tip_hash();
        if loaded != tip {
            return Err(ResumeError::TipMismatch { stored: tip, loaded });
        }
        let height = self.chain.height();
        let tip_entry = self.chain.entries.get(&loaded).ok_or(ResumeError::TipBlockMissing { height })?;
        let sum = self.chain.utxos.checksum();
        if sum != checksum {
            return Err(ResumeError::ChecksumMismatch { stored: checksum, loaded: sum });
        }
        if height >= UTXO_COMMITMENT_FROM_HEIGHT {
            let undo = tip_entry.undo.as_ref().expect("active blocks in memory have undo data");
            let mut before_tip = set_hash.clone();
            for (outpoint, coin) in created_coins(&tip_entry.block, height) {
                before_tip.remove(&outpoint, &coin);
            }
            for (outpoint, coin) in &undo.spent {
                before_tip.add(outpoint, coin);
            }
            if Some(before_tip.commitment()) != block_commitment(&tip_entry.block) {
                return Err(ResumeError::SetHashMismatch { height });
            }
        }
        self.chain.utxos.set_stored_hash(set_hash);
        Ok(())
    }

    /// Replays one stored change set written after the state pushed so far: its blocks are
    /// kept aside, its connects apply the stored undo data, its disconnects reverse them.
    pub fn apply_change_set(&mut self, bytes: &[u8]) -> Result<(), ResumeError> {
        let set: ChangeSet = decode(bytes).map_err(|error| ResumeError::Corrupt { what: "change set", error })?;
        for block in set.blocks {
            let hash = block.block_hash();
            if !self.chain.entries.contains_key(&hash) {
                self.side_blocks.insert(hash, block);
            }
        }
        for op in set.ops {
            match op {
                ChainOp::Connect { hash, undo } => self.connect_stored(hash, undo)?,
                ChainOp::Disconnect { hash } => self.disconnect_stored(hash)?,
            }
        }
        let loaded = self.chain.tip_hash();
        if loaded != set.tip {
            return Err(ResumeError::TipMismatch { stored: set.tip, loaded });
        }
        Ok(())
    }

    /// Applies one checkpoint record (see `Chain::checkpoint_records`).
    pub fn push_record(&mut self, bytes: &[u8]) -> Result<(), ResumeError> {
        let record: Record =
            decode(bytes).map_err(|error| ResumeError::Corrupt { what: "checkpoint record", error })?;
        self.checkpoint =
            if matches!(record, Record::End(_)) { CheckpointSeen::Ended } else { CheckpointSeen::Started };
        match record {
            Record::Headers(headers) => {
                headers.into_iter().try_for_each(|h| self.push_header(h.after(self.chain.tip_hash())))
            }
            Record::Blocks(blocks) => blocks.into_iter().try_for_each(|k| self.push_block(k.block, k.undo)),
            Record::Coins(groups) => {
                self.push_coins(groups.into_iter().flat_map(|group| {
                    let txid = group.txid;
                    group.coins.into_iter().map(move |(vout, coin)| (OutPoint { txid, vout }, coin))
                }));
                Ok(())
            }
            Record::End(stored) => self.check_state(*stored),
        }
    }

    /// The resumed chain. It holds in memory the blocks pushed (and replayed); the next block it
    /// accepts trims them to the newest `ACTIVE_BLOCKS_KEPT`, as always. Fails on a checkpoint
    /// cut short, or a chain whose tip's block is not held (a node cannot run without it).
    pub fn finish(mut self) -> Result<Chain, ResumeError> {
        if self.checkpoint == CheckpointSeen::Started {
            return Err(ResumeError::CheckpointIncomplete);
        }
        let height = self.chain.height();
        if height > 0 && !self.chain.entries.contains_key(&self.chain.tip_hash()) {
            return Err(ResumeError::TipBlockMissing { height });
        }
        self.chain.utxos.refresh_commitment();
        let kept_from = self.chain.kept_from_height;
        let below: Vec<(u32, BlockHash)> =
            self.chain.entries_by_height.range(..(kept_from, BlockHash::ZERO)).copied().collect();
        for (height, hash) in below {
            self.chain.entries_by_height.remove(&(height, hash));
            let entry = self.chain.entries.remove(&hash).expect("indexed by height");
            self.chain.candidates.remove(&(entry.chain_work, Reverse(entry.seq), hash));
        }
        Ok(self.chain)
    }

    /// Checks that `header` builds on the tip with its proof of work, and remembers it.
    fn extend(&mut self, header: Header) -> Result<BlockHash, ResumeError> {
        let height = self.chain.height() + 1;
        if header.prev_blockhash != self.chain.tip_hash() {
            return Err(ResumeError::BrokenLink { height });
        }
        let hash = header.block_hash();
        let target = check_proof_of_work_of(&header, hash, self.chain.params.pow_limit)
            .map_err(|_| ResumeError::BadProofOfWork { height })?;
        if self.chain.headers.contains_key(&hash) {
            // Back on a branch a replayed disconnect left: the header is known.
            return Ok(hash);
        }
        // Runs of headers share their bits: the work of a target is a 256-bit division.
        let work = match self.last_work {
            Some((bits, work)) if bits == header.bits => work,
            _ => target.work(),
        };
        self.last_work = Some((header.bits, work));
        self.chain.insert_header(header, hash, work);
        Ok(hash)
    }

    fn connect_stored(&mut self, hash: BlockHash, undo: BlockUndo) -> Result<(), ResumeError> {
        let block = self.side_blocks.remove(&hash).ok_or(ResumeError::StepOutOfPlace { hash })?;
        for (outpoint, coin) in &undo.spent {
            if self.chain.utxos.get(outpoint) != Some(coin) {
                return Err(ResumeError::MissingCoin { outpoint: *outpoint });
            }
        }
        let height = self.chain.height() + 1;
        let Ok(()) = apply_connect(&block, height, &undo, &mut self.chain.utxos);
        self.push_block(block, undo)
    }

    fn disconnect_stored(&mut self, hash: BlockHash) -> Result<(), ResumeError> {
        let height = self.chain.height();
        if hash != self.chain.tip_hash() || height == 0 {
            return Err(ResumeError::StepOutOfPlace { hash });
        }
        let entry = self.chain.entries.remove(&hash).ok_or(ResumeError::StepOutOfPlace { hash })?;
        let undo = entry.undo.expect("active blocks in memory have undo data");
        let Ok(()) = apply_disconnect(&entry.block, &undo, &mut self.chain.utxos);
        self.chain.entries_by_height.remove(&(height, hash));
        self.chain.candidates.remove(&(entry.chain_work, Reverse(entry.seq), hash));
        self.chain.active.pop();
        self.chain.kept_from_height = self.chain.kept_from_height.min(height);
        self.side_blocks.insert(hash, entry.block);
        Ok(())
    }
}

/// Where a checkpoint being taken has got to: `Chain::next_checkpoint_record` hands out one
/// record per call, so that a shell copies each out before the next is made (a tab's wasm
/// memory never shrinks, and a whole checkpoint is tens of megabytes).
#[derive(Debug, Clone)]
pub struct CheckpointCursor {
    /// The tip the checkpoint is of; records of another tip would not fit together.
    tip: BlockHash,
    stage: Stage,
}

#[derive(Debug, Clone, Copy)]
enum Stage {
    Headers { next: u32 },
    Blocks { next: u32 },
    Coins { after: Option<OutPoint> },
    End,
    Done,
}

/// The chain moved while a checkpoint of it was being taken: its records would not fit together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointMoved;

impl fmt::Display for CheckpointMoved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the chain moved while a checkpoint of it was being taken")
    }
}

impl Chain {
    /// A cursor for a checkpoint of the chain as it stands.
    pub fn checkpoint_cursor(&self) -> CheckpointCursor {
        CheckpointCursor { tip: self.tip_hash(), stage: Stage::Headers { next: 1 } }
    }

    /// Whether the chain moved since `cursor` began, so that its next record would not fit with
    /// those already taken: a shell that takes them over several tasks starts again.
    pub fn checkpoint_moved(&self, cursor: &CheckpointCursor) -> bool {
        cursor.tip != self.tip_hash()
    }

    /// The next checkpoint record, of about `CHECKPOINT_RECORD_BYTES_MAX`, in the order
    /// `ChainResume::push_record` takes them: the headers of active blocks not in memory, the
    /// active blocks in memory with their undo data, the coins, and an end record naming the
    /// tip and the coins' checksum; `None` after the end record. Side branches are not kept
    /// (peers have them).
    pub fn next_checkpoint_record(&self, cursor: &mut CheckpointCursor) -> Result<Option<Vec<u8>>, CheckpointMoved> {
        self.next_checkpoint_record_within(cursor, CHECKPOINT_RECORD_BYTES_MAX)
    }

    /// `next_checkpoint_record` with records of about `record_bytes` (tests split them small).
    fn next_checkpoint_record_within(
        &self,
        cursor: &mut CheckpointCursor,
        record_bytes: usize,
    ) -> Result<Option<Vec<u8>>, CheckpointMoved> {
        if self.checkpoint_moved(cursor) {
            return Err(CheckpointMoved);
        }
        loop {
            let record = match cursor.stage {
                Stage::Headers { next } => {
                    let end = self.kept_from_height.min(self.height() + 1);
                    let mut record = OneRecord::new(KIND_HEADERS, record_bytes);
                    let mut height = next;
                    while height < end && !record.is_full() {
                        record.push(&LinkedHeader(self.headers[&self.active[height as usize]].header));
                        height += 1;
                    }
                    cursor.stage = if height < end {
                        Stage::Headers { next: height }
                    } else {
                        Stage::Blocks { next: self.kept_from_height.max(1) }
                    };
                    record
                }
                Stage::Blocks { next } => {
                    let mut record = OneRecord::new(KIND_BLOCKS, record_bytes);
                    let mut height = next;
                    while height <= self.height() && !record.is_full() {
                        let entry = &self.entries[&self.active[height as usize]];
                        let undo = entry.undo.as_ref().expect("active blocks in memory have undo data");
                        record.push(&KeptBlockRef { block: &entry.block, undo });
                        height += 1;
                    }
                    cursor.stage = if height <= self.height() {
                        Stage::Blocks { next: height }
                    } else {
                        Stage::Coins { after: None }
                    };
                    record
                }
                Stage::Coins { after } => {
                    let mut record = CoinsRecord::default();
                    let mut group = CoinGroup { txid: Txid::from_byte_array([0; 32]), coins: Vec::new() };
                    let mut last_taken = after;
                    for (outpoint, coin) in self.utxos.iter_after(after.as_ref()) {
                        if outpoint.txid != group.txid && !group.coins.is_empty() {
                            record.push(&group);
                            last_taken =
                                Some(OutPoint { txid: group.txid, vout: group.coins.last().expect("non-empty").0 });
                            group.coins.clear();
                            if record.len() >= record_bytes {
                                break;
                            }
                        }
                        group.txid = outpoint.txid;
                        group.coins.push((outpoint.vout, *coin));
                    }
                    if record.len() >= record_bytes {
                        cursor.stage = Stage::Coins { after: last_taken };
                    } else {
                        if !group.coins.is_empty() {
                            record.push(&group);
                        }
                        cursor.stage = Stage::End;
                    }
                    if let Some(bytes) = record.finish() {
                        return Ok(Some(bytes));
                    }
                    continue;
                }
                Stage::End => {
                    let mut end = Vec::new();
                    Record::write_head(&mut end, KIND_END);
                    self.stored_tip().encode_to(&mut end);
                    cursor.stage = Stage::Done;
                    return Ok(Some(end));
                }
                Stage::Done => return Ok(None),
            };
            if let Some(bytes) = record.finish() {
                return Ok(Some(bytes));
            }
        }
    }

    /// The whole checkpoint at once (see `next_checkpoint_record`).
    pub fn checkpoint_records(&self) -> Vec<Vec<u8>> {
        let mut cursor = self.checkpoint_cursor();
        let mut records = Vec::new();
        while let Some(record) = self.next_checkpoint_record(&mut cursor).expect("the chain does not move meanwhile") {
            records.push(record);
        }
        records
    }
}

const KIND_HEADERS: u8 = 0;
const KIND_BLOCKS: u8 = 1;
const KIND_COINS: u8 = 2;
const KIND_END: u8 = 3;

/// One checkpoint record, decoded.
enum Record {
    Headers(Vec<LinkedHeader>),
    Blocks(Vec<KeptBlock>),
    Coins(Vec<CoinGroup>),
    /// Boxed: a set hash is 384 bytes, the other records a few pointers.
    End(Box<StoredTip>),
}

/// What a shell stores with its tip, for `ChainResume::check_state`.
#[derive(Debug, Clone)]
pub struct StoredTip {
    pub tip: BlockHash,
    /// The coins' checksum: a coin lost or damaged in the store shows here.
    pub checksum: UtxoChecksum,
    /// The coins' set hash, checked against the tip block's commitment.
    pub set_hash: UtxoSetHash,
}

impl Chain {
    /// What a shell stores with the tip.
    pub fn stored_tip(&self) -> StoredTip {
        StoredTip { tip: self.tip_hash(), checksum: self.utxos.checksum(), set_hash: self.utxos.set_hash().clone() }
    }
}

impl Encode for StoredTip {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.tip.encode_to(out);
        self.checksum.encode_to(out);
        out.extend_from_slice(&self.set_hash.to_bytes());
    }
}

impl Decode for StoredTip {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let tip = BlockHash::decode_from(r)?;
        let checksum = UtxoChecksum::decode_from(r)?;
        let set_hash = UtxoSetHash::from_bytes(&r.array()?).map_err(|_| DecodeError::Invalid { what: "set hash" })?;
        Ok(Self { tip, checksum, set_hash })
    }
}

/// A header of the active chain stored without its previous block hash, which is the hash of
/// the header before it: `version ‖ merkle root ‖ time ‖ bits ‖ nonce` (48 bytes).
struct LinkedHeader(Header);

impl LinkedHeader {
    /// The header, on the block whose hash is `prev`.
    fn after(self, prev: BlockHash) -> Header {
        Header { prev_blockhash: prev, ..self.0 }
    }
}

impl Encode for LinkedHeader {
    fn encode_to(&self, out: &mut Vec<u8>) {
        let h = &self.0;
        h.version.encode_to(out);
        h.merkle_root.encode_to(out);
        h.time.encode_to(out);
        h.bits.encode_to(out);
        h.nonce.encode_to(out);
    }
}

impl Decode for LinkedHeader {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self(Header {
            version: r.i32()?,
            prev_blockhash: BlockHash::ZERO,
            merkle_root: Decode::decode_from(r)?,
            time: r.u32()?,
            bits: Decode::decode_from(r)?,
            nonce: r.u32()?,
        }))
    }
}

/// The unspent outputs of one transaction: `txid ‖ CompactSize(n) ‖ n × (CompactSize(vout) ‖
/// varint(amount) ‖ varint(owner index) ‖ varint(height) ‖ is_coinbase (u8))`, varints being
/// LEB128 (7 bits a byte, least significant first, minimal), the owner an index into its
/// record's owner list.
struct CoinGroup {
    txid: Txid,
    coins: Vec<(u32, Coin)>,
}

/// A coins record being filled: `list<owner (32)> ‖ list<CoinGroup>`. Each owner is written once
/// a record: most coins belong to a few keys (miners' coinbases, change), so a coin costs about
/// 10 bytes plus its share of the txid instead of 42.
#[derive(Default)]
struct CoinsRecord {
    owners: Vec<[u8; 32]>,
    owner_index: BTreeMap<[u8; 32], u64>,
    groups: Vec<u8>,
    n_groups: usize,
}

impl CoinsRecord {
    fn push(&mut self, group: &CoinGroup) {
        group.txid.encode_to(&mut self.groups);
        write_compact_size(&mut self.groups, group.coins.len() as u64);
        for (vout, coin) in &group.coins {
            let owner = coin.output.owner;
            let next = self.owners.len() as u64;
            let index = *self.owner_index.entry(owner.0).or_insert(next);
            if index == next {
                self.owners.push(owner.0);
            }
            write_compact_size(&mut self.groups, u64::from(*vout));
            write_varint(&mut self.groups, coin.output.amount.to_units());
            write_varint(&mut self.groups, index);
            write_varint(&mut self.groups, u64::from(coin.height));
            self.groups.push(u8::from(coin.is_coinbase));
        }
        self.n_groups += 1;
    }

    /// About the bytes the record will take.
    fn len(&self) -> usize {
        self.owners.len() * 32 + self.groups.len()
    }

    /// The record, or `None` when it holds nothing.
    fn finish(self) -> Option<Vec<u8>> {
        if self.n_groups == 0 {
            return None;
        }
        let mut record = Vec::with_capacity(self.len() + 16);
        Record::write_head(&mut record, KIND_COINS);
        write_list(&mut record, &self.owners);
        write_compact_size(&mut record, self.n_groups as u64);
        record.extend_from_slice(&self.groups);
        Some(record)
    }

    /// A coins record's groups, decoded with its owner list.
    fn decode(r: &mut Reader<'_>, max_bytes: usize) -> Result<Vec<CoinGroup>, DecodeError> {
        let owners: Vec<[u8; 32]> = r.list("checkpoint owners", max_bytes / 32, 32)?;
        let n = r.compact_size()?;
        if n > (max_bytes / COIN_GROUP_BYTES_MIN) as u64 {
            return Err(DecodeError::Invalid { what: "checkpoint coins" });
        }
        (0..n).map(|_| decode_group(r, &owners)).collect()
    }
}

fn decode_group(r: &mut Reader<'_>, owners: &[[u8; 32]]) -> Result<CoinGroup, DecodeError> {
    let txid = Txid::decode_from(r)?;
    let n = r.compact_size()?;
    if n == 0 || n > (TX_OUTPUTS_MAX as u64) {
        return Err(DecodeError::Invalid { what: "checkpoint coins of a transaction" });
    }
    let mut coins = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let vout = u32::try_from(r.compact_size()?).map_err(|_| DecodeError::Invalid { what: "coin vout" })?;
        let amount = Amount::from_units(read_varint(r)?).map_err(|_| DecodeError::Invalid { what: "coin amount" })?;
        let owner = usize::try_from(read_varint(r)?)
            .ok()
            .and_then(|index| owners.get(index))
            .map(|&key| PublicKey(key))
            .ok_or(DecodeError::Invalid { what: "coin owner index" })?;
        let height = u32::try_from(read_varint(r)?).map_err(|_| DecodeError::Invalid { what: "coin height" })?;
        let is_coinbase = match r.u8()? {
            0 => false,
            1 => true,
            _ => return Err(DecodeError::Invalid { what: "coinbase flag" }),
        };
        coins.push((vout, Coin { output: TxOut { amount, owner }, height, is_coinbase }));
    }
    Ok(CoinGroup { txid, coins })
}

fn write_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn read_varint(r: &mut Reader<'_>) -> Result<u64, DecodeError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = r.u8()?;
        let bits = u64::from(byte & 0x7f);
        if shift == 63 && bits > 1 {
            return Err(DecodeError::Invalid { what: "varint" });
        }
        value |= bits << shift;
        if byte & 0x80 == 0 {
            if byte == 0 && shift > 0 {
                return Err(DecodeError::Invalid { what: "varint (not minimal)" });
            }
            return Ok(value);
        }
    }
    Err(DecodeError::Invalid { what: "varint" })
}

impl Record {
    fn write_head(out: &mut Vec<u8>, kind: u8) {
        out.push(CHECKPOINT_VERSION);
        out.push(kind);
    }
}

/// A kept block and its undo data.
struct KeptBlock {
    block: Block,
    undo: BlockUndo,
}

struct KeptBlockRef<'a> {
    block: &'a Block,
    undo: &'a BlockUndo,
}

impl Encode for KeptBlockRef<'_> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.block.encode_to(out);
        self.undo.encode_to(out);
    }
}

impl Decode for KeptBlock {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { block: Block::decode_from(r)?, undo: BlockUndo::decode_from(r)? })
    }
}

impl Decode for Record {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if r.u8()? != CHECKPOINT_VERSION {
            return Err(DecodeError::Invalid { what: "checkpoint version" });
        }
        let max = CHECKPOINT_RECORD_BYTES_MAX * 2;
        match r.u8()? {
            KIND_HEADERS => {
                Ok(Self::Headers(r.list("checkpoint headers", max / LINKED_HEADER_BYTES, LINKED_HEADER_BYTES)?))
            }
            KIND_BLOCKS => {
                Ok(Self::Blocks(r.list("checkpoint blocks", max / KEPT_BLOCK_BYTES_MIN, KEPT_BLOCK_BYTES_MIN)?))
            }
            KIND_COINS => Ok(Self::Coins(CoinsRecord::decode(r, max)?)),
            KIND_END => Ok(Self::End(Box::new(StoredTip::decode_from(r)?))),
            _ => Err(DecodeError::Invalid { what: "checkpoint record kind" }),
        }
    }
}

/// One record being filled with items of one kind, up to about `full_at` bytes.
struct OneRecord {
    kind: u8,
    items: Vec<u8>,
    count: usize,
    full_at: usize,
}

impl OneRecord {
    fn new(kind: u8, full_at: usize) -> Self {
        Self { kind, items: Vec::new(), count: 0, full_at }
    }

    fn push(&mut self, item: &impl Encode) {
        item.encode_to(&mut self.items);
        self.count += 1;
    }

    fn is_full(&self) -> bool {
        self.items.len() >= self.full_at
    }

    /// The record, or `None` when it holds nothing.
    fn finish(self) -> Option<Vec<u8>> {
        if self.count == 0 {
            return None;
        }
        let mut record = Vec::with_capacity(self.items.len() + 12);
        Record::write_head(&mut record, self.kind);
        write_compact_size(&mut record, self.count as u64);
        record.extend_from_slice(&self.items);
        Some(record)
    }
}

#[cfg(test)]
mod tests;
