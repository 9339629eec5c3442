//! `Message::from_bytes`, the decoder every peer frame goes through: never panics, and what it
//! accepts encodes back to exactly the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tabchain_core::Message;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = Message::from_bytes(data) {
        tabchain_fuzz::assert_canonical(data, &message);
        assert_eq!(message.to_bytes(), data, "Message::to_bytes of a {}", message.kind());
    }
});
