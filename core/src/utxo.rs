//! The set of unspent outputs (`UtxoSet`), the undo data that lets a block be disconnected, and
//! the one definition of what connecting or disconnecting a block does to a set of coins
//! (`apply_connect`, `apply_disconnect`), whether the coins are in memory or in a shell's store.

use crate::amount::Amount;
use crate::block::Block;
use crate::encode::{Decode, DecodeError, Encode, Reader, write_list};
use crate::limits::BLOCK_INPUTS_MAX;
use crate::transaction::{OutPoint, TxOut};
use crate::utxo_checksum::UtxoChecksum;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use core::convert::Infallible;

/// An unspent output and where it was created.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Coin {
    pub output: TxOut,
    /// Height of the block that created it.
    pub height: u32,
    /// Coinbase outputs must wait `coinbase_maturity` blocks before they can be spent.
    pub is_coinbase: bool,
}

impl Coin {
    /// Whether a transaction in a block at `spend_height` may spend this coin: any output may,
    /// but a coinbase's only once it has `maturity` confirmations there.
    pub fn is_mature_at(&self, spend_height: u32, maturity: u32) -> bool {
        !self.is_coinbase || spend_height - self.height >= maturity
    }
}

/// Every output of the active chain not yet spent, in a deterministic order, with its checksum.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct UtxoSet {
    coins: BTreeMap<OutPoint, Coin>,
    checksum: UtxoChecksum,
}

impl UtxoSet {
    pub fn get(&self, outpoint: &OutPoint) -> Option<&Coin> {
        self.coins.get(outpoint)
    }

    pub fn contains(&self, outpoint: &OutPoint) -> bool {
        self.coins.contains_key(outpoint)
    }

    pub fn len(&self) -> usize {
        self.coins.len()
    }

    pub fn is_empty(&self) -> bool {
        self.coins.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&OutPoint, &Coin)> {
        self.coins.iter()
    }

    /// The coins after `outpoint` in order (all of them for `None`).
    pub fn iter_after(&self, outpoint: Option<&OutPoint>) -> impl Iterator<Item = (&OutPoint, &Coin)> {
        use core::ops::Bound;
        let start = outpoint.map_or(Bound::Unbounded, Bound::Excluded);
        self.coins.range((start, Bound::Unbounded))
    }

    /// The sum of every unspent amount. It never exceeds the subsidy issued, so it cannot
    /// overflow `MAX_MONEY`; a broken invariant would panic here rather than wrap.
    pub fn total_value(&self) -> Amount {
        Amount::checked_sum(self.coins.values().map(|coin| coin.output.amount))
            .expect("unspent value <= issued subsidy")
    }

    /// The checksum of the coins in the set (see `UtxoChecksum`).
    pub fn checksum(&self) -> UtxoChecksum {
        self.checksum
    }

    pub(crate) fn insert(&mut self, outpoint: OutPoint, coin: Coin) {
        let previous = self.coins.insert(outpoint, coin);
        assert!(previous.is_none(), "outpoints are unique: {outpoint:?}");
        self.checksum.add(&outpoint, &coin);
    }

    pub(crate) fn remove(&mut self, outpoint: &OutPoint) -> Option<Coin> {
        let coin = self.coins.remove(outpoint)?;
        self.checksum.remove(outpoint, &coin);
        Some(coin)
    }
}

impl UtxoSet {
    /// A set of stored coins, built at once; a repeated outpoint keeps its last coin.
    fn from_coins(mut coins: Vec<(OutPoint, Coin)>) -> Self {
        // Stable: among equal outpoints the last stays last, and `BTreeMap` keeps the last.
        coins.sort_by_key(|&(outpoint, _)| outpoint);
        coins.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                *earlier = *later;
            }
            same
        });
        let mut checksum = UtxoChecksum::default();
        for (outpoint, coin) in &coins {
            checksum.add(outpoint, coin);
        }
        Self { coins: coins.into_iter().collect(), checksum }
    }
}

impl FromIterator<(OutPoint, Coin)> for UtxoSet {
    /// A set of stored coins; a repeated outpoint keeps its last coin.
    fn from_iter<I: IntoIterator<Item = (OutPoint, Coin)>>(coins: I) -> Self {
        Self::from_coins(coins.into_iter().collect())
    }
}

/// Somewhere coins are kept: the node's `UtxoSet`, or a shell's table on disk.
pub trait CoinStore {
    type Error;
    fn put(&mut self, outpoint: OutPoint, coin: Coin) -> Result<(), Self::Error>;
    /// Removes a coin; removing one that is absent does nothing.
    fn delete(&mut self, outpoint: &OutPoint) -> Result<(), Self::Error>;
}

impl CoinStore for UtxoSet {
    type Error = Infallible;

    fn put(&mut self, outpoint: OutPoint, coin: Coin) -> Result<(), Infallible> {
        self.insert(outpoint, coin);
        Ok(())
    }

    fn delete(&mut self, outpoint: &OutPoint) -> Result<(), Infallible> {
        self.remove(outpoint);
        Ok(())
    }
}

/// What connecting `block` at `height` does to the coins, once it is known valid: the coins its
/// `undo` lists leave, and every output it creates joins, except those a later transaction of
/// the same block spends.
pub fn apply_connect<S: CoinStore>(
    block: &Block,
    height: u32,
    undo: &BlockUndo,
    coins: &mut S,
) -> Result<(), S::Error> {
    for (outpoint, _) in &undo.spent {
        coins.delete(outpoint)?;
    }
    let spent_in_block: BTreeSet<OutPoint> =
        block.txs.iter().skip(1).flat_map(|tx| tx.inputs.iter().map(|input| input.prev_out)).collect();
    for tx in &block.txs {
        let txid = tx.txid();
        for (vout, output) in tx.outputs.iter().enumerate() {
            let outpoint = OutPoint { txid, vout: vout as u32 };
            if !spent_in_block.contains(&outpoint) {
                coins.put(outpoint, Coin { output: *output, height, is_coinbase: tx.is_coinbase() })?;
            }
        }
    }
    Ok(())
}

/// What disconnecting `block` (the tip) does to the coins: its outputs leave, and the coins its
/// `undo` lists come back.
pub fn apply_disconnect<S: CoinStore>(block: &Block, undo: &BlockUndo, coins: &mut S) -> Result<(), S::Error> {
    for tx in &block.txs {
        let txid = tx.txid();
        for vout in 0..tx.outputs.len() as u32 {
            // Absent when a later transaction of the same block spent it.
            coins.delete(&OutPoint { txid, vout })?;
        }
    }
    for (outpoint, coin) in &undo.spent {
        coins.put(*outpoint, *coin)?;
    }
    Ok(())
}

/// What connecting a block spent, so that disconnecting it can put those coins back.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct BlockUndo {
    /// Coins of earlier blocks spent by this block, in the order they were spent.
    pub spent: Vec<(OutPoint, Coin)>,
}

impl Encode for Coin {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.output.encode_to(out);
        self.height.encode_to(out);
        u8::from(self.is_coinbase).encode_to(out);
    }
}

impl Decode for Coin {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let output = TxOut::decode_from(r)?;
        let height = r.u32()?;
        let is_coinbase = match r.u8()? {
            0 => false,
            1 => true,
            _ => return Err(DecodeError::Invalid { what: "coinbase flag" }),
        };
        Ok(Self { output, height, is_coinbase })
    }
}

/// Encoded size of an undo entry: outpoint, output, height, flag.
const UNDO_ENTRY_BYTES: usize = 36 + 40 + 4 + 1;

impl Encode for BlockUndo {
    fn encode_to(&self, out: &mut Vec<u8>) {
        write_list(out, &self.spent);
    }
}

impl Decode for BlockUndo {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { spent: r.list("undo entries", BLOCK_INPUTS_MAX, UNDO_ENTRY_BYTES)? })
    }
}

impl Encode for (OutPoint, Coin) {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.0.encode_to(out);
        self.1.encode_to(out);
    }
}

impl Decode for (OutPoint, Coin) {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok((OutPoint::decode_from(r)?, Coin::decode_from(r)?))
    }
}
