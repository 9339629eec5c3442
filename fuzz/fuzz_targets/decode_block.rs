//! `Block::from_bytes`: never panics; what it accepts encodes back to the same bytes, and its
//! `size_bytes` (computed without encoding) is the input's length.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tabchain_core::Block;

fuzz_target!(|data: &[u8]| {
    if let Ok(block) = Block::from_bytes(data) {
        tabchain_fuzz::assert_canonical(data, &block);
        assert_eq!(block.size_bytes(), data.len(), "Block::size_bytes");
    }
});
