//! Real Bitcoin headers at every retarget boundary up to height 399,168: proof of work and
//! every retarget recomputed exactly.

use crate::{data, vectors};
use std::collections::BTreeMap;
use tabchain_core::{DifficultyRule, Header, Params, PowError, bitcoin_retarget, check_proof_of_work};

fn headers() -> BTreeMap<u64, Header> {
    vectors::bitcoin_headers(&data::read("bitcoin-retarget-headers.txt"))
}

#[test]
fn every_header_meets_its_target() {
    vectors::check_bitcoin_proofs_of_work(&headers());
}

#[test]
fn every_retarget_is_recomputed_exactly() {
    let changed = vectors::check_bitcoin_retargets(&headers());
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
