//! The conformance data of `core/tests/data` parsed and checked from its text, with no file
//! access: the native tests read the files, the browser tests (`web/tests/browser.rs`, which
//! includes this module) embed them, and both run these very checks on every line, so a wasm
//! verdict that differs from the native one on any vector fails.

use std::collections::BTreeMap;
use tabchain_core::{
    AsertAnchor, AsertParams, CompactTarget, DifficultyRule, Header, Params, asert_next_target, bitcoin_retarget,
    check_proof_of_work, decode, encode, hex, is_retarget_height, verify_signature,
};

/// The ASERT runs in `asert/`, with how many vector lines each holds.
pub const ASERT_RUNS: [(&str, usize); 6] =
    [("run01", 10), ("run02", 10), ("run03", 10), ("run04", 225), ("run05", 225), ("run09", 10)];
/// Retarget boundaries in `bitcoin-retarget-headers.txt` (each with the headers around it).
const BITCOIN_RETARGETS: u64 = 198;

/// Lines that are neither blank nor comments (`#`).
pub fn records(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#'))
}

pub fn parse_hex_u32(s: &str) -> u32 {
    u32::from_str_radix(s.trim_start_matches("0x"), 16).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// `bitcoin-retarget-headers.txt` (`HEIGHT HEX` lines) by height; each header re-encodes to
/// its bytes.
pub fn bitcoin_headers(text: &str) -> BTreeMap<u64, Header> {
    records(text)
        .map(|line| {
            let (height, hex_header) = line.split_once(' ').expect("HEIGHT HEX");
            let bytes = hex::decode(hex_header).expect("hex");
            let header: Header = decode(&bytes).expect("an 80-byte header");
            assert_eq!(encode(&header), bytes, "re-encoding header {height}");
            (height.parse().expect("height"), header)
        })
        .collect()
}

/// Every header meets its own target, its bits round-trip, and the first is Bitcoin's genesis.
pub fn check_bitcoin_proofs_of_work(headers: &BTreeMap<u64, Header>) {
    let params = Params::bitcoin();
    assert_eq!(headers.len() as u64, 1 + 2 * BITCOIN_RETARGETS);
    for (height, header) in headers {
        check_proof_of_work(header, params.pow_limit).unwrap_or_else(|e| panic!("header {height}: {e}"));
        assert_eq!(header.bits.to_target().expect("valid").to_compact(), header.bits, "height {height}");
    }
    assert_eq!(headers[&0].block_hash(), params.genesis_hash());
}

/// Recomputes every retarget from the headers around it; returns how many changed the bits.
pub fn check_bitcoin_retargets(headers: &BTreeMap<u64, Header>) -> usize {
    let DifficultyRule::Retarget(rule) = Params::bitcoin().difficulty else { panic!("Bitcoin retargets") };
    let interval = u64::from(rule.interval_blocks);
    let mut changed = 0;
    for k in 1..=BITCOIN_RETARGETS {
        let (first, last, next) =
            (&headers[&(interval * (k - 1))], &headers[&(interval * k - 1)], &headers[&(interval * k)]);
        assert!(is_retarget_height(&rule, interval * k));
        assert_eq!(next.prev_blockhash, last.block_hash(), "header {} follows {}", interval * k, interval * k - 1);
        let bits = bitcoin_retarget(&rule, last.bits, first.time, last.time).expect("valid bits");
        assert_eq!(bits, next.bits, "retarget at height {}", interval * k);
        changed += usize::from(next.bits != last.bits);
    }
    changed
}

/// The parameters the published `aserti3-2d` vectors were made with.
fn asert_params() -> AsertParams {
    AsertParams {
        target_spacing_s: 600,
        half_life_s: 172_800,
        pow_limit: CompactTarget::from_consensus(0x1d00ffff).to_target().expect("valid"),
    }
}

fn header_value<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find_map(|line| line.trim_start_matches('#').trim().strip_prefix(key))
        .map(|rest| rest.trim_start_matches(':').trim())
        .unwrap_or_else(|| panic!("no {key} in the run's header"))
}

/// Reproduces every line of one ASERT run (its anchor in the comment header, then
/// `iteration height time bits` lines); returns how many lines it checked.
pub fn check_asert_run(name: &str, text: &str) -> usize {
    let anchor = AsertAnchor {
        height: header_value(text, "anchor height").parse().expect("height"),
        parent_time: header_value(text, "anchor ancestor time").parse().expect("time"),
        target: CompactTarget::from_consensus(parse_hex_u32(header_value(text, "anchor nBits")))
            .to_target()
            .expect("valid anchor"),
    };
    let params = asert_params();
    let mut checked = 0;
    for line in records(text) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields.len(), 4, "{name}: {line}");
        let (height, time) = (fields[1].parse().expect("height"), fields[2].parse().expect("time"));
        let expected = parse_hex_u32(fields[3]);
        let got = asert_next_target(&params, &anchor, height, time).to_compact().to_consensus();
        assert_eq!(got, expected, "{name}: height {height} time {time}: got {got:#010x}, expected {expected:#010x}");
        checked += 1;
    }
    checked
}

/// One line of `ed25519-vectors.txt`: `name pubkey signature message verdict`, an empty
/// message written `-`, the verdict `valid` or `invalid`.
pub struct SignatureVector {
    pub name: String,
    pub public_key: [u8; 32],
    pub signature: [u8; 64],
    pub message: Vec<u8>,
    pub valid: bool,
}

pub fn signature_vectors(text: &str) -> Vec<SignatureVector> {
    records(text)
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(f.len(), 5, "{line}");
            SignatureVector {
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

/// Every vector gets its pinned verdict.
pub fn check_signature_verdicts(vectors: &[SignatureVector]) {
    assert!(vectors.len() >= 20, "{} vectors", vectors.len());
    for v in vectors {
        let verdict = verify_signature(&v.public_key, &v.message, &v.signature);
        assert_eq!(verdict.is_ok(), v.valid, "{}: {verdict:?}", v.name);
    }
}
