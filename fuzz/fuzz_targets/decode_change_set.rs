//! `ChangeSet`, what shells store and read back at startup: never panics; what decodes encodes
//! back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tabchain_core::{ChangeSet, decode};

fuzz_target!(|data: &[u8]| {
    if let Ok(set) = decode::<ChangeSet>(data) {
        tabchain_fuzz::assert_canonical(data, &set);
    }
});
