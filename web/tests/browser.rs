//! Checks, inside headless Chromium, that the wasm build of `core` reaches
//! the same verdicts as the native one on data from outside the project:
//! the ed25519 vectors and real Bitcoin headers. A difference between the two
//! builds would split the network between browsers and relays.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const ED25519_VECTORS: &str = include_str!("../../core/tests/data/ed25519-vectors.txt");
const BITCOIN_HEADERS: &str = include_str!("../../core/tests/data/bitcoin-retarget-headers.txt");
const BITCOIN_GENESIS_HASH: &str = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";

/// One line of `ed25519-vectors.txt`:
/// `name pubkey_hex signature_hex message_hex verdict`, where an empty
/// message is written `-` and the verdict is `valid` or `invalid`.
#[derive(Debug)]
struct SignatureVector<'a> {
    name: &'a str,
    pubkey: [u8; 32],
    signature: [u8; 64],
    message: Vec<u8>,
    valid: bool,
}

fn hex(digits: &str) -> Vec<u8> {
    tabchain_core::hex::decode(digits).expect("valid hex in the data file")
}

fn parse_vector(line: &str) -> SignatureVector<'_> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [name, pubkey, signature, message, verdict] = fields[..] else {
        panic!("expected 5 fields in {line:?}");
    };
    let valid = match verdict {
        "valid" => true,
        "invalid" => false,
        other => panic!("{name}: verdict {other:?} is neither valid nor invalid"),
    };
    SignatureVector {
        name,
        pubkey: hex(pubkey).try_into().expect("32-byte public key"),
        signature: hex(signature).try_into().expect("64-byte signature"),
        message: if message == "-" { Vec::new() } else { hex(message) },
        valid,
    }
}

#[wasm_bindgen_test]
fn signature_verdicts_match_the_vectors() {
    let vectors: Vec<SignatureVector<'_>> = ED25519_VECTORS
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(parse_vector)
        .collect();
    assert!(!vectors.is_empty(), "no vectors in ed25519-vectors.txt");
    for vector in &vectors {
        let verdict = tabchain_core::verify_signature(&vector.pubkey, &vector.message, &vector.signature);
        assert_eq!(verdict.is_ok(), vector.valid, "{}: wasm gave {verdict:?}", vector.name);
    }
}

#[wasm_bindgen_test]
fn bitcoin_genesis_header_hashes_as_on_mainnet() {
    let first = BITCOIN_HEADERS.lines().next().expect("a header line");
    let (height, header_hex) = first.split_once(' ').expect("`HEIGHT HEX`");
    assert_eq!(height, "0", "the first line is the genesis block");
    let header = tabchain_core::decode::<tabchain_core::Header>(&hex(header_hex)).expect("the genesis header decodes");
    assert_eq!(header.block_hash().to_string(), BITCOIN_GENESIS_HASH);
    assert_eq!(
        tabchain_web::sha256d_header_hex(header_hex)
            .map_err(|_| "sha256d_header_hex failed")
            .expect("the façade hashes the genesis header"),
        BITCOIN_GENESIS_HASH
    );
}
