//! Keeps `docs/protocol.md` true: the examples it gives are recomputed here.

use tabchain_core::{Params, PublicKey, encode, encode_address, hex};

fn protocol_doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

#[test]
fn genesis_block_hex_matches_the_code() {
    let doc = protocol_doc();
    let section = doc.split("Full tabchain genesis block").nth(1).expect("the genesis section");
    let fenced = section.split("```").nth(1).expect("a fenced hex block");
    let hex_text: String = fenced.split_whitespace().collect();
    let block = Params::tabchain().genesis_block().expect("tabchain has a genesis block");
    assert_eq!(hex_text, hex::encode(&encode(&block)));
    assert!(doc.contains(&Params::tabchain().genesis_hash().to_string()));
    assert!(doc.contains(&Params::regtest().genesis_hash().to_string()));
}

#[test]
fn address_example_matches_the_code() {
    let doc = protocol_doc();
    let key = tabchain_core::SecretKey::from_bytes(&[1; 32]).public_key();
    let example = format!("key `{}`", hex::encode(&key.0));
    assert!(doc.contains(&example), "{example}");
    assert!(doc.contains(&encode_address("tab", &PublicKey(key.0))));
}
