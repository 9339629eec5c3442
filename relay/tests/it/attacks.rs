//! Attacks measured on a running relay, beyond the unit tests that mount them on `core`.

use crate::support::{RelayConfig, TestRelay, get, mine, post};
use std::path::Path;
use tabchain_core::{Params, SecretKey, encode, hex};
use tabchain_relay::hostile::forged::padded_sibling;
use tabchain_relay::limits::Limits;

/// Blocks of the attack, as the issue measured it: 300 siblings of genesis, 200 kB each.
const SIBLINGS: usize = 300;
/// What the attack may add to the relay's disk.
const DISK_GROWTH_MAX: u64 = 5 * 1024 * 1024;

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir).expect("data dir").map(|e| e.expect("entry").metadata().expect("metadata").len()).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_padded_low_work_siblings_of_genesis_are_refused_and_store_nothing() {
    // The attacker's rate is not what is measured here: lift the API's per-address limit.
    let limits = Limits { api_requests_per_s_max: 100_000, api_request_burst_max: 100_000, ..Limits::default() };
    let relay = TestRelay::start(RelayConfig { limits: Some(limits), ..RelayConfig::default() }).await;
    for i in 0..1000 {
        mine(&relay.driver, SecretKey::from_bytes(&[3; 32]).public_key(), i);
    }
    let tip = relay.driver.read(|n| n.chain().tip_hash());
    let disk_before = dir_bytes(&relay.data);
    let params = Params::regtest();
    for n in 0..SIBLINGS as u64 {
        let block = padded_sibling(&params, n);
        assert!(block.size_bytes() > 199_000, "{} bytes", block.size_bytes());
        let response =
            post(relay.addr, "/api/block", &format!("{{\"hex\": \"{}\"}}", hex::encode(&encode(&block)))).await;
        assert_eq!(response.status, 400);
        assert_eq!(
            response.json()["error"],
            "rejected: a side block at height 1 with less work than the tip at 1000: not kept"
        );
        if n == 0 {
            let lookup = get(relay.addr, &format!("/api/blocks/{}", block.block_hash()), "").await;
            assert_eq!(lookup.status, 404, "the refused block is not stored");
        }
    }
    assert_eq!(relay.driver.read(|n| n.chain().tip_hash()), tip, "the tip did not move");
    let growth = dir_bytes(&relay.data).saturating_sub(disk_before);
    eprintln!("the attack of {SIBLINGS} padded siblings added {growth} bytes of disk");
    assert!(growth <= DISK_GROWTH_MAX, "the attack added {growth} bytes of disk");
}
