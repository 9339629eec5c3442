//! The set of unspent outputs (`UtxoSet`) and the undo data that lets a block be disconnected.

use crate::amount::Amount;
use crate::encode::{Decode, DecodeError, Encode, Reader, write_list};
use crate::limits::BLOCK_INPUTS_MAX;
use crate::transaction::{OutPoint, TxOut};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

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

/// Every output of the active chain not yet spent, in a deterministic order.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct UtxoSet {
    coins: BTreeMap<OutPoint, Coin>,
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

    /// The sum of every unspent amount. It never exceeds the subsidy issued, so it cannot
    /// overflow `MAX_MONEY`; a broken invariant would panic here rather than wrap.
    pub fn total_value(&self) -> Amount {
        Amount::checked_sum(self.coins.values().map(|coin| coin.output.amount))
            .expect("unspent value <= issued subsidy")
    }

    pub(crate) fn insert(&mut self, outpoint: OutPoint, coin: Coin) {
        let previous = self.coins.insert(outpoint, coin);
        assert!(previous.is_none(), "outpoints are unique: {outpoint:?}");
    }

    pub(crate) fn remove(&mut self, outpoint: &OutPoint) -> Option<Coin> {
        self.coins.remove(outpoint)
    }
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
