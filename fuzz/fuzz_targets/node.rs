//! The whole node on regtest, driven by sequences of actions from several peers and its user
//! (`tabchain_fuzz::harness`), its invariants checked after every step: money conserved, the
//! tip's work never decreasing and the most of any valid stored branch, every cap held, the
//! node's peers exactly the open connections, its messages and change sets canonical, and what
//! it asked to store rebuilding it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tabchain_fuzz::harness::{Harness, Input};

fuzz_target!(|input: Input| {
    Harness::run(&input);
});
