//! Benchmark of `MuHash3072`, single thread: nanoseconds per insert, per remove, per
//! multiplication (half a `combine`, which multiplies numerators and denominators), and per
//! finalize with and without an inverse to pay. Prints a table and writes
//! `target/bench/muhash.json`. Timings live here, never in tests.

use std::hint::black_box;
use std::time::{Duration, Instant};
use tabchain_core::MuHash3072;

/// How long each measurement runs; the best of `SAMPLES` is kept.
const SAMPLE_TIME: Duration = Duration::from_millis(1000);
const SAMPLES: usize = 3;
/// Bytes of a UTXO entry as a commitment would hash it (outpoint and coin), about.
const ENTRY_BYTES: usize = 81;

/// Nanoseconds per call of `run`, best of `SAMPLES`.
fn ns_per_op(mut run: impl FnMut(u64)) -> f64 {
    (0..SAMPLES)
        .map(|_| {
            let mut ops = 0u64;
            let started = Instant::now();
            while started.elapsed() < SAMPLE_TIME {
                for _ in 0..64 {
                    run(ops);
                    ops += 1;
                }
            }
            started.elapsed().as_secs_f64() * 1e9 / ops as f64
        })
        .fold(f64::INFINITY, f64::min)
}

/// An entry of `ENTRY_BYTES` that differs with `i`.
fn entry(i: u64) -> [u8; ENTRY_BYTES] {
    let mut bytes = [0x5a; ENTRY_BYTES];
    bytes[..8].copy_from_slice(&i.to_le_bytes());
    bytes
}

/// A set with both a numerator and a denominator other than 1.
fn mixed_set() -> MuHash3072 {
    let mut set = MuHash3072::new();
    (0..10).for_each(|i| set.insert(&entry(i)));
    (10..20).for_each(|i| set.remove(&entry(i)));
    set
}

fn main() {
    println!("muhash, one thread:");
    let mut set = mixed_set();
    let other = mixed_set();
    let inserted_only = {
        let mut s = MuHash3072::new();
        (0..10).for_each(|i| s.insert(&entry(i)));
        s
    };
    let rows = [
        (
            "insert, 81-byte entry (hash, expand, multiply)",
            "insert_ns",
            ns_per_op(|i| set.insert(black_box(&entry(i)))),
        ),
        ("remove, 81-byte entry", "remove_ns", ns_per_op(|i| set.remove(black_box(&entry(i))))),
        ("multiplication mod p (half a combine)", "mul_ns", ns_per_op(|_| set.combine(black_box(&other))) / 2.0),
        (
            "finalize with removals (inverse, multiply, SHA-256)",
            "finalize_ns",
            ns_per_op(|_| {
                black_box(black_box(&other).finalize());
            }),
        ),
        (
            "finalize, nothing removed (SHA-256 only)",
            "finalize_no_inverse_ns",
            ns_per_op(|_| {
                black_box(black_box(&inserted_only).finalize());
            }),
        ),
    ];
    for (name, _, ns) in &rows {
        println!("  {name:<55} {ns:>10.0} ns");
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&dir).expect("create target/bench");
    let body: Vec<String> = rows.iter().map(|(_, key, ns)| format!("  \"{key}\": {ns:.0}")).collect();
    std::fs::write(dir.join("muhash.json"), format!("{{\n{}\n}}\n", body.join(",\n"))).expect("write muhash.json");
    println!("wrote target/bench/muhash.json");
}
