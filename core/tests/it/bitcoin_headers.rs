//! Real Bitcoin headers at every retarget boundary up to height 399,168: proof of work and
//! every retarget recomputed exactly.

use crate::data;
use std::collections::BTreeMap;
use tabchain_core::{
    DifficultyRule, Header, Params, PowError, bitcoin_retarget, check_proof_of_work, decode, encode, hex,
    is_retarget_height,
};

fn headers() -> BTreeMap<u64, Header> {
    data::records(&data::read("bitcoin-retarget-headers.txt"))
        .map(|line| {
            let (height, hex_header) = line.split_once(' ').expect("HEIGHT HEX");
            let bytes = hex::decode(hex_header).expect("hex");
            let header: Header = decode(&bytes).expect("an 80-byte header");
            assert_eq!(encode(&header), bytes, "re-encoding header {height}");
            (height.parse().expect("height"), header)
        })
        .collect()
}

#[test]
fn every_header_meets_its_target() {
    let params = Params::bitcoin();
    let headers = headers();
    assert_eq!(headers.len(), 1 + 2 * 198);
    for (height, header) in &headers {
        check_proof_of_work(header, params.pow_limit).unwrap_or_else(|e| panic!("header {height}: {e}"));
        // Every bits value seen round-trips through the compact encoding.
        assert_eq!(header.bits.to_target().expect("valid").to_compact(), header.bits, "height {height}");
    }
    assert_eq!(headers[&0].block_hash(), params.genesis_hash());
}

#[test]
fn every_retarget_is_recomputed_exactly() {
    let params = Params::bitcoin();
    let DifficultyRule::Retarget(rule) = params.difficulty else { panic!("Bitcoin retargets") };
    let headers = headers();
    let interval = u64::from(rule.interval_blocks);
    let mut retargets = 0;
    let mut changed = 0;
    for k in 1..=198 {
        let (first, last, next) =
            (&headers[&(interval * (k - 1))], &headers[&(interval * k - 1)], &headers[&(interval * k)]);
        assert!(is_retarget_height(&rule, interval * k));
        assert_eq!(next.prev_blockhash, last.block_hash(), "header {} follows {}", interval * k, interval * k - 1);
        let bits = bitcoin_retarget(&rule, last.bits, first.time, last.time).expect("valid bits");
        assert_eq!(bits, next.bits, "retarget at height {}", interval * k);
        retargets += 1;
        changed += usize::from(next.bits != last.bits);
    }
    assert_eq!(retargets, 198);
    assert!(changed > 150, "the data exercises real difficulty changes ({changed})");
}

#[test]
fn a_wrong_retarget_is_detected() {
    // The rule breaks if the span is measured over 2016 intervals instead of 2015.
    let params = Params::bitcoin();
    let DifficultyRule::Retarget(rule) = params.difficulty else { panic!("Bitcoin retargets") };
    let headers = headers();
    let (first, last, next) = (&headers[&(2016 * 99)], &headers[&(2016 * 100 - 1)], &headers[&(2016 * 100)]);
    let off_by_one = bitcoin_retarget(&rule, last.bits, first.time - 600, last.time).expect("valid bits");
    assert_ne!(off_by_one, next.bits);
    let mut mined_easier = *next;
    mined_easier.nonce ^= 1;
    assert_eq!(check_proof_of_work(&mined_easier, params.pow_limit), Err(PowError::HashAboveTarget));
}
