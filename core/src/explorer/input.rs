//! Blocks and transactions handed in as hex by people and programs (the relay's `POST
//! /api/block` and `/api/tx`, the tab's `submit_block`): size checked before decoding.

use crate::encode::{DecodeError, decode};
use crate::hex::{self, HexError};
use crate::limits::{BLOCK_BYTES_MAX, TX_BYTES_MAX};
use crate::{Block, Transaction};
use core::fmt;

/// Why hex handed in is not a block or transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HexInputError {
    /// More hex than the largest valid object could take.
    TooLarge {
        what: &'static str,
        bytes_max: usize,
    },
    NotHex(HexError),
    Undecodable {
        what: &'static str,
        error: DecodeError,
    },
}

impl fmt::Display for HexInputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { what, bytes_max } => write!(f, "not a {what}: larger than {bytes_max} bytes"),
            Self::NotHex(error) => write!(f, "not hex: {error}"),
            Self::Undecodable { what, error } => write!(f, "not a {what}: {error}"),
        }
    }
}

fn bytes_from_hex(text: &str, what: &'static str, bytes_max: usize) -> Result<alloc::vec::Vec<u8>, HexInputError> {
    let text = text.trim();
    if text.len() > 2 * bytes_max {
        return Err(HexInputError::TooLarge { what, bytes_max });
    }
    hex::decode(text).map_err(HexInputError::NotHex)
}

/// A block from the hex of its encoding (surrounding white space ignored).
pub fn block_from_hex(text: &str) -> Result<Block, HexInputError> {
    let bytes = bytes_from_hex(text, "block", BLOCK_BYTES_MAX)?;
    Block::from_bytes(&bytes).map_err(|error| HexInputError::Undecodable { what: "block", error })
}

/// A transaction from the hex of its encoding (surrounding white space ignored).
pub fn tx_from_hex(text: &str) -> Result<Transaction, HexInputError> {
    let bytes = bytes_from_hex(text, "transaction", TX_BYTES_MAX)?;
    decode(&bytes).map_err(|error| HexInputError::Undecodable { what: "transaction", error })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::encode;
    use crate::params::Params;
    use alloc::string::String;

    #[test]
    fn hex_input_is_bounded_then_decoded() {
        let genesis = Params::regtest().genesis_block().expect("regtest has a genesis block");
        let text = alloc::format!("  {}\n", hex::encode(&encode(&genesis)));
        assert_eq!(block_from_hex(&text), Ok(genesis.clone()));
        let too_long: String = "00".repeat(BLOCK_BYTES_MAX + 1);
        assert_eq!(
            block_from_hex(&too_long),
            Err(HexInputError::TooLarge { what: "block", bytes_max: BLOCK_BYTES_MAX })
        );
        assert!(matches!(block_from_hex("zz"), Err(HexInputError::NotHex(_))));
        assert_eq!(
            block_from_hex("00"),
            Err(HexInputError::Undecodable {
                what: "block",
                error: DecodeError::UnexpectedEnd { needed: 4, remaining: 1 }
            })
        );
        let coinbase = hex::encode(&encode(&genesis.txs[0]));
        assert_eq!(tx_from_hex(&coinbase), Ok(genesis.txs[0].clone()));
        assert!(matches!(
            tx_from_hex(&"00".repeat(TX_BYTES_MAX + 1)),
            Err(HexInputError::TooLarge { what: "transaction", .. })
        ));
    }
}
