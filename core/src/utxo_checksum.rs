//! `UtxoChecksum`: a checksum of a UTXO set, kept up to date coin by coin, that a shell stores
//! with its tip to notice a corrupt store when it loads the set again.
//!
//! It is the sum, modulo 2^256, of SHA-256 of each coin's element (`commitment::coin_element`:
//! the outpoint, then the coin), so it does not depend on the order coins are added or removed
//! and costs one hash per change. It detects accidental damage (a lost row, a flipped bit), not an adversary: someone choosing
//! coins can make two sets with the same sum (Wagner's generalized birthday attack). It is never
//! sent to peers nor committed to in blocks: blocks commit to `commitment::UtxoSetHash`, a multiset
//! hash built for that, which costs far more per coin. A shell checks this one at every restart.

use crate::commitment::coin_element;
use crate::encode::{Decode, DecodeError, Encode, Reader};
use crate::hash::sha256;
use crate::transaction::OutPoint;
use crate::uint::U256;
use crate::utxo::Coin;
use alloc::vec::Vec;
use core::fmt;

/// The checksum of a UTXO set; the empty set's is zero.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct UtxoChecksum(U256);

impl UtxoChecksum {
    /// The term one coin adds to the sum.
    fn term(outpoint: &OutPoint, coin: &Coin) -> U256 {
        U256::from_le_bytes(sha256(&coin_element(outpoint, coin)))
    }

    /// The checksum after `coin` joined the set.
    pub fn add(&mut self, outpoint: &OutPoint, coin: &Coin) {
        self.0 = self.0.overflowing_add(Self::term(outpoint, coin)).0;
    }

    /// The checksum after `coin` left the set.
    pub fn remove(&mut self, outpoint: &OutPoint, coin: &Coin) {
        self.0 = self.0.overflowing_sub(Self::term(outpoint, coin)).0;
    }

    pub fn to_bytes(self) -> [u8; 32] {
        self.0.to_le_bytes()
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(U256::from_le_bytes(bytes))
    }
}

impl fmt::Debug for UtxoChecksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UtxoChecksum({:064x})", self.0)
    }
}

impl fmt::Display for UtxoChecksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:064x}", self.0)
    }
}

impl Encode for UtxoChecksum {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bytes());
    }
}

impl Decode for UtxoChecksum {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self::from_bytes(r.array()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amount::Amount;
    use crate::hash::Txid;
    use crate::signature::PublicKey;
    use crate::transaction::TxOut;

    fn coin(n: u8) -> (OutPoint, Coin) {
        let outpoint = OutPoint { txid: Txid::from_byte_array([n; 32]), vout: u32::from(n) };
        let output =
            TxOut { amount: Amount::from_units(u64::from(n) * 1000).expect("in range"), owner: PublicKey([n; 32]) };
        (outpoint, Coin { output, height: u32::from(n), is_coinbase: n.is_multiple_of(2) })
    }

    #[test]
    fn the_order_of_changes_does_not_matter_and_removing_undoes_adding() {
        let coins: Vec<(OutPoint, Coin)> = (1..=20).map(coin).collect();
        let mut forward = UtxoChecksum::default();
        coins.iter().for_each(|(o, c)| forward.add(o, c));
        let mut backward = UtxoChecksum::default();
        coins.iter().rev().for_each(|(o, c)| backward.add(o, c));
        assert_eq!(forward, backward);
        assert_ne!(forward, UtxoChecksum::default());
        coins.iter().for_each(|(o, c)| forward.remove(o, c));
        assert_eq!(forward, UtxoChecksum::default());
    }

    #[test]
    fn a_changed_amount_height_or_flag_changes_the_checksum() {
        let (outpoint, base) = coin(7);
        let mut expected = UtxoChecksum::default();
        expected.add(&outpoint, &base);
        let changed = [
            Coin { output: TxOut { amount: Amount::from_units(1).expect("in range"), ..base.output }, ..base },
            Coin { height: base.height + 1, ..base },
            Coin { is_coinbase: !base.is_coinbase, ..base },
        ];
        for coin in changed {
            let mut sum = UtxoChecksum::default();
            sum.add(&outpoint, &coin);
            assert_ne!(sum, expected, "{coin:?}");
        }
    }
}
