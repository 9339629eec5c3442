//! Consensus size limits, in one place, with the relations between them checked at compile time.

use crate::header::HEADER_BYTES;
use crate::transaction::{TX_BYTES_MIN, TXIN_BYTES, TXOUT_BYTES};

/// The largest encoded block. Sized so that a full block of signed transactions validates in
/// well under a block interval on a phone, with signature checks the dominant cost.
pub const BLOCK_BYTES_MAX: usize = 262_144;
/// The largest encoded transaction.
pub const TX_BYTES_MAX: usize = 100_000;
/// The most inputs one transaction can have.
pub const TX_INPUTS_MAX: usize = TX_BYTES_MAX / TXIN_BYTES;
/// The most outputs one transaction can have.
pub const TX_OUTPUTS_MAX: usize = TX_BYTES_MAX / TXOUT_BYTES;
/// The most inputs one block can spend.
pub const BLOCK_INPUTS_MAX: usize = BLOCK_BYTES_MAX / TXIN_BYTES;
/// The most transactions one block can hold.
pub const BLOCK_TXS_MAX: usize = (BLOCK_BYTES_MAX - HEADER_BYTES) / TX_BYTES_MIN;

const _: () = assert!(
    TX_BYTES_MAX + HEADER_BYTES + 2 * TX_BYTES_MIN < BLOCK_BYTES_MAX,
    "a largest transaction fits in a block beside a coinbase"
);
const _: () = assert!(TX_BYTES_MIN > 64, "no transaction can be mistaken for a 64-byte inner merkle node");
