//! What the fuzz targets share: the canonical-encoding check every decoder target makes, and
//! (`harness`) the structure-aware driver of a whole `Node` with its invariants.

use std::fmt::Debug;

use tabchain_core::{Decode, Encode, decode, encode};

pub mod harness;

/// `value` was decoded from `bytes`: it must encode back to exactly `bytes` (one encoding per
/// value), and decoding that encoding must give the same value.
pub fn assert_canonical<T: Encode + Decode + PartialEq + Debug>(bytes: &[u8], value: &T) {
    let encoded = encode(value);
    assert!(encoded == bytes, "not canonical: {} bytes in, {} bytes out for {value:?}", bytes.len(), encoded.len());
    let again: T = decode(&encoded).expect("a value's own encoding decodes");
    assert_eq!(&again, value, "decoding the encoding gives the value back");
}
