//! `BlockUndo`, the coins a connected block spent (stored by the relay): never panics; what
//! decodes encodes back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tabchain_core::{BlockUndo, decode};

fuzz_target!(|data: &[u8]| {
    if let Ok(undo) = decode::<BlockUndo>(data) {
        tabchain_fuzz::assert_canonical(data, &undo);
    }
});
