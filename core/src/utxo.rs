//! The set of unspent outputs (`UtxoSet`), the undo data that lets a block be disconnected, and
//! the one definition of what connecting or disconnecting a block does to a set of coins
//! (`apply_connect`, `apply_disconnect`), whether the coins are in memory or in a shell's store.

use crate::amount::Amount;
use crate::block::Block;
use crate::commitment::UtxoSetHash;
use crate::encode::{Decode, DecodeError, Encode, Reader, write_list};
use crate::hash::UtxoCommitment;
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

/// Every output of the active chain not yet spent, in a deterministic order, with its checksum
/// and its set hash.
#[derive(Clone, Debug, Default)]
pub struct UtxoSet {
    coins: BTreeMap<OutPoint, Coin>,
    checksum: UtxoChecksum,
    set_hash: UtxoSetHash,
    /// `set_hash`'s digest as of the last `refresh_commitment`, if nothing changed since (it costs
    /// a modular inverse, so the chain computes it once a block, not at every question).
    commitment: Option<UtxoCommitment>,
}

/// Two sets are equal when they hold the same coins (the set hash is a function of them).
impl PartialEq for UtxoSet {
    fn eq(&self, other: &Self) -> bool {
        self.coins == other.coins
    }
}

impl Eq for UtxoSet {}

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

    /// The set hash a block on this set must commit to (see `commitment`): cached by the last
    /// `refresh_commitment` if nothing changed since, computed otherwise.
    pub fn commitment(&self) -> UtxoCommitment {
        self.commitment.unwrap_or_else(|| self.set_hash.commitment())
    }

    /// Computes and caches `commitment`.
    pub fn refresh_commitment(&mut self) {
        if self.commitment.is_none() {
            self.commitment = Some(self.set_hash.commitment());
        }
    }

    /// The set hash's state, for a shell to store with its tip.
    pub fn set_hash(&self) -> &UtxoSetHash {
        &self.set_hash
    }

    pub(crate) fn insert(&mut self, outpoint: OutPoint, coin: Coin) {
        let previous = self.coins.insert(outpoint, coin);
        assert!(previous.is_none(), "outpoints are unique: {outpoint:?}");
        self.checksum.add(&outpoint, &coin);
        self.set_hash.add(&outpoint, &coin);
        self.commitment = None;
    }

    pub(crate) fn remove(&mut self, outpoint: &OutPoint) -> Option<Coin> {
        let coin = self.coins.remove(outpoint)?;
        self.checksum.remove(outpoint, &coin);
        self.set_hash.remove(outpoint, &coin);
        self.commitment = None;
        Some(coin)
    }

    /// Stored coins with the set hash stored beside them, which is trusted rather than computed
    /// again (that costs a multiplication per coin); `ChainResume` checks it against the tip
    /// block's commitment. A repeated outpoint keeps its last coin.
    pub fn from_stored(coins: Vec<(OutPoint, Coin)>, set_hash: UtxoSetHash) -> Self {
        let (coins, checksum) = Self::sorted_with_checksum(coins);
        Self { coins, checksum, set_hash, commitment: None }
    }

    /// Puts a stored coin in place, replacing any at its outpoint, leaving the set hash to be
    /// replaced by the stored one (see `from_stored`).
    pub(crate) fn put_stored(&mut self, outpoint: OutPoint, coin: Coin) {
        if let Some(previous) = self.coins.insert(outpoint, coin) {
            self.checksum.remove(&outpoint, &previous);
        }
        self.checksum.add(&outpoint, &coin);
    }

    /// Replaces the set hash with a stored one (see `from_stored`).
    pub(crate) fn set_stored_hash(&mut self, set_hash: UtxoSetHash) {
        self.set_hash = set_hash;
        self.commitment = None;
    }
}

impl UtxoSet {
    /// Coins sorted by outpoint, a repeated outpoint keeping its last coin, with their checksum.
    fn sorted_with_checksum(coins: Vec<(OutPoint, Coin)>) -> (BTreeMap<OutPoint, Coin>, UtxoChecksum) {
        // `BTreeMap` collects by a stable sort, then keeps the last of equal keys.
        let coins: BTreeMap<OutPoint, Coin> = coins.into_iter().collect();
        let mut checksum = UtxoChecksum::default();
        for (outpoint, coin) in &coins {
            checksum.add(outpoint, coin);
        }
        (coins, checksum)
    }
}

impl FromIterator<(OutPoint, Coin)> for UtxoSet {
    /// A set of coins, built at once with its set hash computed from scratch; a repeated
    /// outpoint keeps its last coin.
    fn from_iter<I: IntoIterator<Item = (OutPoint, Coin)>>(coins: I) -> Self {
        let (coins, checksum) = Self::sorted_with_checksum(coins.into_iter().collect());
        let mut set_hash = UtxoSetHash::default();
        for (outpoint, coin) in &coins {
            set_hash.add(outpoint, coin);
        }
        Self { coins, checksum, set_hash, commitment: None }
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
    for (outpoint, coin) in created_coins(block, height) {
        coins.put(outpoint, coin)?;
    }
    Ok(())
}

/// The coins `block` at `height` adds to the set.
pub fn created_coins(block: &Block, height: u32) -> impl Iterator<Item = (OutPoint, Coin)> + '_ {
    surviving_outputs(block)
        .map(move |(outpoint, output, is_coinbase)| (outpoint, Coin { output, height, is_coinbase }))
}

/// The outputs of `block` that no later transaction of the same block spends, with whether they
/// are the coinbase's.
fn surviving_outputs(block: &Block) -> impl Iterator<Item = (OutPoint, TxOut, bool)> + '_ {
    // Inserted one by one: collecting would compile a sorter for this type (see `sort`).
    let mut spent_in_block = BTreeSet::new();
    spent_in_block.extend(block.txs.iter().skip(1).flat_map(|tx| tx.inputs.iter().map(|input| input.prev_out)));
    block
        .txs
        .iter()
        .flat_map(|tx| {
            let txid = tx.txid();
            let is_coinbase = tx.is_coinbase();
            tx.outputs
                .iter()
                .enumerate()
                .map(move |(vout, output)| (OutPoint { txid, vout: vout as u32 }, *output, is_coinbase))
        })
        .filter(move |(outpoint, ..)| !spent_in_block.contains(outpoint))
}

/// What disconnecting `block` (the tip) does to the coins: its outputs leave, and the coins its
/// `undo` lists come back.
pub fn apply_disconnect<S: CoinStore>(block: &Block, undo: &BlockUndo, coins: &mut S) -> Result<(), S::Error> {
    for (outpoint, ..) in surviving_outputs(block) {
        coins.delete(&outpoint)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::Txid;
    use crate::signature::PublicKey;
    use proptest::prelude::*;

    fn coin(n: u16) -> (OutPoint, Coin) {
        let [a, b] = n.to_le_bytes();
        let outpoint = OutPoint { txid: Txid::from_byte_array([a; 32]), vout: u32::from(b) };
        let output = TxOut { amount: Amount::from_units(u64::from(n)).expect("small"), owner: PublicKey([b; 32]) };
        (outpoint, Coin { output, height: u32::from(n), is_coinbase: n.is_multiple_of(3) })
    }

    proptest! {
        /// The set hash kept coin by coin through additions and removals is the one rebuilt from
        /// the coins left, and so is its checksum.
        #[test]
        fn the_set_hash_kept_through_changes_equals_the_one_rebuilt_from_scratch(
            added in proptest::collection::btree_set(any::<u16>(), 1..40),
            removed_mask in any::<u64>(),
        ) {
            let mut set = UtxoSet::default();
            for &n in &added {
                let (outpoint, coin) = coin(n);
                set.insert(outpoint, coin);
            }
            let before_removal = set.commitment();
            for (i, &n) in added.iter().enumerate() {
                if removed_mask >> (i % 64) & 1 == 1 {
                    set.remove(&coin(n).0);
                }
            }
            let rebuilt: UtxoSet = set.iter().map(|(o, c)| (*o, *c)).collect();
            prop_assert_eq!(set.commitment(), rebuilt.commitment());
            prop_assert_eq!(set.checksum(), rebuilt.checksum());
            if set.len() < added.len() {
                prop_assert_ne!(set.commitment(), before_removal);
            }
        }
    }

    #[test]
    fn a_stored_set_hash_is_taken_as_stored_and_changes_keep_it_up_to_date() {
        let coins: Vec<(OutPoint, Coin)> = (1..=10).map(coin).collect();
        let full: UtxoSet = coins.iter().copied().collect();
        let mut stored = UtxoSet::from_stored(coins.clone(), full.set_hash().clone());
        assert_eq!(stored.commitment(), full.commitment());
        stored.remove(&coins[0].0);
        let rebuilt: UtxoSet = coins[1..].iter().copied().collect();
        assert_eq!(stored.commitment(), rebuilt.commitment());
        assert_ne!(UtxoSet::default().commitment(), full.commitment());
    }

    #[test]
    fn a_repeated_outpoint_keeps_its_last_coin() {
        let (outpoint, first) = coin(7);
        let last = Coin { height: 99, ..first };
        let coins = [coin(9), (outpoint, first), coin(1), (outpoint, last)];
        let set: UtxoSet = coins.iter().copied().collect();
        let expected: UtxoSet = [coin(1), (outpoint, last), coin(9)].into_iter().collect();
        assert_eq!(set.len(), 3);
        assert_eq!(set.get(&outpoint), Some(&last));
        assert_eq!(set.checksum(), expected.checksum());
        assert_eq!(set.commitment(), expected.commitment());
    }
}
