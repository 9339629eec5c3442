//! Benchmark of the mining kernel, single thread: hashes per second of a plain SHA-256d over the
//! 80 header bytes with `sha2`, of the kernel ([`search`]), and of its portable engine
//! ([`search_portable`], what wasm without SIMD128 runs). Prints a table and writes
//! `target/bench/kernel.json`. Timings live here, never in tests.

use std::hint::black_box;
use std::time::{Duration, Instant};
use tabchain_core::{
    BlockHash, CompactTarget, Header, MerkleRoot, MiningJob, SearchResult, Target, U256, search, search_portable,
    sha256d,
};

/// How long each measurement runs; the best of `SAMPLES` is kept.
const SAMPLE_TIME: Duration = Duration::from_millis(1500);
const SAMPLES: usize = 3;
/// Nonces per call, as a worker's batch would be.
const BATCH: u32 = 1 << 16;

fn header() -> Header {
    Header {
        version: 1,
        prev_blockhash: BlockHash::from_byte_array([0x11; 32]),
        merkle_root: MerkleRoot::from_byte_array([0x22; 32]),
        time: 1_700_000_000,
        bits: CompactTarget::from_consensus(0x1d00ffff),
        nonce: 0,
    }
}

/// Hashes per second of `hash_batch`, which hashes `BATCH` nonces from the one it is given.
fn rate(mut hash_batch: impl FnMut(u32) -> u64) -> f64 {
    (0..SAMPLES)
        .map(|sample| {
            let mut start = sample as u32 * 0x1000_0000;
            let mut hashes = 0;
            let started = Instant::now();
            while started.elapsed() < SAMPLE_TIME {
                hashes += hash_batch(start);
                start = start.wrapping_add(BATCH);
            }
            hashes as f64 / started.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max)
}

fn sha2_plain(start: u32) -> u64 {
    let mut bytes = header().to_bytes();
    let mut zeros = 0u64;
    for nonce in start..start.saturating_add(BATCH) {
        bytes[76..].copy_from_slice(&nonce.to_le_bytes());
        let hash = sha256d(black_box(&bytes));
        zeros += u64::from(hash[31] == 0);
    }
    black_box(zeros);
    u64::from(BATCH)
}

fn kernel(job: &MiningJob, start: u32, run: fn(&MiningJob, u32, u32) -> SearchResult) -> u64 {
    let found = run(black_box(job), start, BATCH);
    assert_eq!(found.nonce, None, "a target of 1 is met by no hash in practice");
    found.hashes
}

fn main() {
    println!("mining kernel, one thread:");
    // A target met by no hash, so every batch runs to its end.
    let job = MiningJob::with_target(&header(), Target::from_u256(U256::ONE));
    let rows = [
        ("native sha2, plain SHA-256d of 80 bytes", "native_sha2_hps", rate(sha2_plain)),
        ("native kernel (search)", "native_kernel_hps", rate(|start| kernel(&job, start, search))),
        (
            "native kernel, portable engine (search_portable)",
            "native_kernel_portable_hps",
            rate(|start| kernel(&job, start, search_portable)),
        ),
    ];
    let plain = rows[0].2;
    for (name, _, hps) in &rows {
        println!("  {name:<52} {:>8.2} M hashes/s  {:>5.2}x sha2 plain", hps / 1e6, hps / plain);
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&dir).expect("create target/bench");
    let body: Vec<String> = rows.iter().map(|(_, key, hps)| format!("  \"{key}\": {hps:.0}")).collect();
    std::fs::write(dir.join("kernel.json"), format!("{{\n{}\n}}\n", body.join(",\n"))).expect("write kernel.json");
    println!("wrote target/bench/kernel.json");
}
