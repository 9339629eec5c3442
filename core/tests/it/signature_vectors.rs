//! Pinned Ed25519 verdicts: RFC 8032's vectors, malleations, and the ed25519-speccheck edge
//! cases. The browser build runs the same file (web/tests/browser.rs) and must agree.

use crate::data;
use tabchain_core::{SecretKey, hex, verify_signature};

struct Vector {
    name: String,
    public_key: [u8; 32],
    signature: [u8; 64],
    message: Vec<u8>,
    valid: bool,
}

fn vectors() -> Vec<Vector> {
    data::records(&data::read("ed25519-vectors.txt"))
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(f.len(), 5, "{line}");
            Vector {
                name: f[0].to_owned(),
                public_key: hex::decode_array(f[1]).expect("key hex"),
                signature: hex::decode_array(f[2]).expect("signature hex"),
                message: if f[3] == "-" { Vec::new() } else { hex::decode(f[3]).expect("message hex") },
                valid: match f[4] {
                    "valid" => true,
                    "invalid" => false,
                    other => panic!("verdict {other}"),
                },
            }
        })
        .collect()
}

#[test]
fn verdicts_match_the_pinned_table() {
    let vectors = vectors();
    assert!(vectors.len() >= 20);
    for v in &vectors {
        let verdict = verify_signature(&v.public_key, &v.message, &v.signature);
        assert_eq!(verdict.is_ok(), v.valid, "{}: {verdict:?}", v.name);
    }
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
