//! Checks, inside headless Chromium, that the wasm build of `core` reaches the same verdicts as
//! the native one on data from outside the project: every ed25519 vector, every real Bitcoin
//! header and retarget, and every ASERT vector line. The checks are the native tests' own
//! (`core/tests/it/vectors.rs`) on the same files, embedded here. A difference between the two
//! builds would split the network between browsers and relays.
#![cfg(target_arch = "wasm32")]

#[path = "../../core/tests/it/vectors.rs"]
mod vectors;

use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const ED25519_VECTORS: &str = include_str!("../../core/tests/data/ed25519-vectors.txt");
const BITCOIN_HEADERS: &str = include_str!("../../core/tests/data/bitcoin-retarget-headers.txt");
/// Every file of `core/tests/data/asert`, in the order of `vectors::ASERT_RUNS`.
const ASERT_FILES: [(&str, &str); 6] = [
    ("run01", include_str!("../../core/tests/data/asert/run01")),
    ("run02", include_str!("../../core/tests/data/asert/run02")),
    ("run03", include_str!("../../core/tests/data/asert/run03")),
    ("run04", include_str!("../../core/tests/data/asert/run04")),
    ("run05", include_str!("../../core/tests/data/asert/run05")),
    ("run09", include_str!("../../core/tests/data/asert/run09")),
];
const BITCOIN_GENESIS_HASH: &str = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";

#[wasm_bindgen_test]
fn signature_verdicts_match_the_vectors() {
    vectors::check_signature_verdicts(&vectors::signature_vectors(ED25519_VECTORS));
}

#[wasm_bindgen_test]
fn every_bitcoin_header_meets_its_target() {
    vectors::check_bitcoin_proofs_of_work(&vectors::bitcoin_headers(BITCOIN_HEADERS));
}

#[wasm_bindgen_test]
fn every_bitcoin_retarget_is_recomputed_exactly() {
    let changed = vectors::check_bitcoin_retargets(&vectors::bitcoin_headers(BITCOIN_HEADERS));
    assert!(changed > 150, "the data exercises real difficulty changes ({changed})");
}

#[wasm_bindgen_test]
fn every_asert_vector_line_is_reproduced() {
    assert_eq!(ASERT_FILES.map(|(name, _)| name), vectors::ASERT_RUNS.map(|(name, _)| name), "every run, in order");
    for ((name, text), (_, n_lines)) in ASERT_FILES.into_iter().zip(vectors::ASERT_RUNS) {
        assert_eq!(vectors::check_asert_run(name, text), n_lines, "{name}");
    }
}

#[wasm_bindgen_test]
fn bitcoin_genesis_header_hashes_as_on_mainnet_through_the_facade() {
    let first = vectors::records(BITCOIN_HEADERS).next().expect("a header line");
    let (height, header_hex) = first.split_once(' ').expect("`HEIGHT HEX`");
    assert_eq!(height, "0", "the first line is the genesis block");
    assert_eq!(vectors::bitcoin_headers(BITCOIN_HEADERS)[&0].block_hash().to_string(), BITCOIN_GENESIS_HASH);
    assert_eq!(
        tabchain_web::sha256d_header_hex(header_hex)
            .map_err(|_| "sha256d_header_hex failed")
            .expect("the façade hashes the genesis header"),
        BITCOIN_GENESIS_HASH
    );
}
