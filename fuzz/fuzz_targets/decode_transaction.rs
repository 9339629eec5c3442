//! `Transaction`: never panics; what decodes encodes back to the same bytes, and its
//! `size_bytes` (computed without encoding) is the input's length.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tabchain_core::{Transaction, decode};

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = decode::<Transaction>(data) {
        tabchain_fuzz::assert_canonical(data, &tx);
        assert_eq!(tx.size_bytes(), data.len(), "Transaction::size_bytes");
    }
});
