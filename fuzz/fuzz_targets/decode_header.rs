//! `Header`: the generic decoder and the fixed-size `from_bytes` agree, and both give back the
//! input's bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tabchain_core::{HEADER_BYTES, Header, decode};

fuzz_target!(|data: &[u8]| {
    let decoded = decode::<Header>(data);
    assert_eq!(decoded.is_ok(), data.len() == HEADER_BYTES, "a header is exactly {HEADER_BYTES} bytes");
    if let Ok(header) = decoded {
        tabchain_fuzz::assert_canonical(data, &header);
        let fixed: &[u8; HEADER_BYTES] = data.try_into().expect("checked length");
        assert_eq!(Header::from_bytes(fixed), header, "Header::from_bytes agrees with decode");
        assert_eq!(header.to_bytes(), *fixed, "Header::to_bytes");
    }
});
