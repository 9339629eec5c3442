//! Pinned Ed25519 verdicts: RFC 8032's vectors, malleations, and the ed25519-speccheck edge
//! cases. The browser build runs the same file (web/tests/browser.rs) and must agree.

use crate::{data, vectors};
use tabchain_core::{SecretKey, hex};

fn vectors() -> Vec<vectors::SignatureVector> {
    vectors::signature_vectors(&data::read("ed25519-vectors.txt"))
}

#[test]
fn verdicts_match_the_pinned_table() {
    vectors::check_signature_verdicts(&vectors());
}

#[test]
fn rfc8032_secret_keys_produce_the_published_signatures() {
    let secrets = [
        ("rfc8032-test1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"),
        ("rfc8032-test2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"),
        ("rfc8032-test3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7"),
        ("rfc8032-test-sha-abc", "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42"),
    ];
    let vectors = vectors();
    for (name, secret) in secrets {
        let v = vectors.iter().find(|v| v.name == name).expect("vector present");
        let key = SecretKey::from_bytes(&hex::decode_array(secret).expect("hex"));
        assert_eq!(key.public_key().0, v.public_key, "{name}");
        assert_eq!(key.sign(&v.message).0, v.signature, "{name}");
    }
}
