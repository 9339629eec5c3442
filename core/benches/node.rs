//! Benchmarks of the node's hot paths, run by `cargo xtask bench`: connecting 10,000 blocks,
//! validating a block at `BLOCK_BYTES_MAX` full of signed transactions, a 1,000-block reorg, and
//! the signatures of the worst-case transaction (the most inputs `TX_BYTES_MAX` allows).
//! Prints a table and writes `target/bench/core.json`. Timings live here, never in tests.

use std::hint::black_box;
use std::time::{Duration, Instant};
use tabchain_core::{
    Amount, BLOCK_BYTES_MAX, Block, BlockHash, Chain, OutPoint, Params, SecretKey, TX_BYTES_MAX, Transaction, TxDigest,
    TxOut, Txid, check_block, child_block, connect_block, created_coins, encode, search_nonce, sha256d, sighash,
    signed_transaction, verify_input, verify_signature,
};

const NOW: u64 = u64::MAX / 2;

fn key() -> SecretKey {
    SecretKey::from_bytes(&[7; 32])
}

fn block_on(chain: &Chain, parent: BlockHash, txs: Vec<Transaction>, fees: Amount, extra_nonce: u64) -> Block {
    let entry = chain.entry(&parent).expect("parent stored");
    let time = entry.header().time + 10;
    let block = child_block(chain, entry, key().public_key(), extra_nonce, time, txs, fees).expect("not mutated");
    Block { header: search_nonce(&block.header, 1 << 24).expect("regtest is easy"), ..block }
}

/// Extends `chain` by `n` empty blocks on `parent`, returning them.
fn grow(chain: &mut Chain, mut parent: BlockHash, n: usize, salt: u64) -> Vec<Block> {
    (0..n)
        .map(|i| {
            let block = block_on(chain, parent, vec![], Amount::ZERO, salt + i as u64);
            parent = block.block_hash();
            chain.accept_block(block.clone(), NOW).expect("valid");
            block
        })
        .collect()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn signed(inputs: &[OutPoint], outputs: Vec<TxOut>, genesis: BlockHash) -> Transaction {
    signed_transaction(inputs, outputs, &key(), genesis)
}

struct Report {
    rows: Vec<(String, String)>,
    json: Vec<(String, f64)>,
}

impl Report {
    fn add(&mut self, name: &str, shown: String, json_key: &str, value: f64) {
        println!("  {name:<52} {shown}");
        self.rows.push((name.into(), shown));
        self.json.push((json_key.into(), value));
    }
}

fn connect_10k(report: &mut Report) {
    let mut source = Chain::new(Params::regtest());
    let genesis = source.tip_hash();
    let blocks = grow(&mut source, genesis, 10_000, 0);
    let started = Instant::now();
    let mut fresh = Chain::new(Params::regtest());
    for block in blocks {
        fresh.accept_block(block, NOW).expect("valid");
    }
    let took = started.elapsed();
    report.add(
        "connect 10,000 blocks (coinbase only)",
        format!("{:.0} ms, {:.0} blocks/s", took.as_secs_f64() * 1e3, 10_000.0 / took.as_secs_f64()),
        "connect_10k_blocks_per_s",
        10_000.0 / took.as_secs_f64(),
    );
}

fn full_block(report: &mut Report) {
    let mut chain = Chain::new(Params::regtest());
    let genesis_hash = chain.params().genesis_hash();
    let tip = chain.tip_hash();
    let maturity = chain.params().coinbase_maturity as usize;
    grow(&mut chain, tip, maturity + 1, 0);
    let coin = OutPoint { txid: chain.entry(&chain.hash_at(1).expect("h")).expect("s").block.txs[0].txid(), vout: 0 };
    // Fan one coinbase out into many small coins owned by the key.
    let n_spends = (BLOCK_BYTES_MAX - 400) / tabchain_core::TX_BYTES_MIN;
    let each = Amount::from_units(20_000).expect("small");
    let fan = signed(&[coin], vec![TxOut { amount: each, owner: key().public_key() }; n_spends], genesis_hash);
    let fee = Amount::from_units(50 * tabchain_core::COIN - each.to_units() * n_spends as u64).expect("positive");
    let tip = chain.tip_hash();
    let fan_block = block_on(&chain, tip, vec![fan.clone()], fee, 1);
    chain.accept_block(fan_block, NOW).expect("valid");
    let fan_txid = fan.txid();
    let spends: Vec<Transaction> = (0..n_spends as u32)
        .map(|vout| {
            signed(
                &[OutPoint { txid: fan_txid, vout }],
                vec![TxOut { amount: Amount::from_units(19_000).expect("small"), owner: key().public_key() }],
                genesis_hash,
            )
        })
        .collect();
    let fees = Amount::from_units(1_000 * n_spends as u64).expect("small");
    let tip = chain.tip_hash();
    let block = block_on(&chain, tip, spends, fees, 2);
    let size = block.size_bytes();
    let height = chain.height() + 1;

    let samples: Vec<Duration> = (0..5)
        .map(|_| {
            let mut utxos = chain.utxos().clone();
            let started = Instant::now();
            check_block(&block, chain.params()).expect("valid");
            connect_block(&block, height, &mut utxos, chain.params()).expect("valid");
            started.elapsed()
        })
        .collect();
    let validate = median(samples);
    let owner = key().public_key().0;
    let samples: Vec<Duration> = (0..5)
        .map(|_| {
            let started = Instant::now();
            for tx in &block.txs[1..] {
                let message = sighash(tx, 0, genesis_hash);
                verify_signature(&owner, &message, &tx.inputs[0].signature.0).expect("valid");
            }
            started.elapsed()
        })
        .collect();
    let sigs = median(samples);
    report.add(
        &format!("validate a full block ({} bytes, {} signed txs)", size, n_spends),
        format!("{:.1} ms (goal < 200 ms)", validate.as_secs_f64() * 1e3),
        "full_block_validate_ms",
        validate.as_secs_f64() * 1e3,
    );
    report.add(
        "  of which: signature checks (sighash + verify)",
        format!(
            "{:.1} ms ({:.0}% of validation)",
            sigs.as_secs_f64() * 1e3,
            100.0 * sigs.as_secs_f64() / validate.as_secs_f64()
        ),
        "full_block_signatures_ms",
        sigs.as_secs_f64() * 1e3,
    );
    // What keeping the UTXO commitment adds: the block's coin changes through the set hash, and
    // the digest the next block commits to (one inverse).
    let mut utxos = chain.utxos().clone();
    let undo = connect_block(&block, height, &mut utxos, chain.params()).expect("valid");
    let samples: Vec<Duration> = (0..5)
        .map(|_| {
            let mut set_hash = chain.utxos().set_hash().clone();
            let started = Instant::now();
            for (outpoint, coin) in &undo.spent {
                set_hash.remove(outpoint, coin);
            }
            for (outpoint, coin) in created_coins(&block, height) {
                set_hash.add(&outpoint, &coin);
            }
            black_box(set_hash.commitment());
            started.elapsed()
        })
        .collect();
    let commitment = median(samples);
    report.add(
        "  of which: UTXO commitment (set hash of each coin change, digest)",
        format!(
            "{:.1} ms ({:.1}% of validation; goal ≤ 10%)",
            commitment.as_secs_f64() * 1e3,
            100.0 * commitment.as_secs_f64() / validate.as_secs_f64()
        ),
        "full_block_commitment_ms",
        commitment.as_secs_f64() * 1e3,
    );
}

fn reorg_1000(report: &mut Report) {
    let mut chain = Chain::new(Params::regtest());
    let genesis = chain.tip_hash();
    grow(&mut chain, genesis, 1_000, 0);
    let mut scratch = Chain::new(Params::regtest());
    let side = grow(&mut scratch, genesis, 1_001, 1_000_000);
    for block in &side[..1_000] {
        chain.accept_block(block.clone(), NOW).expect("valid side block");
    }
    let started = Instant::now();
    let update = chain.accept_block(side[1_000].clone(), NOW).expect("valid");
    let took = started.elapsed();
    assert_eq!(update.reorg_depth(), 1_000);
    report.add(
        "reorg of 1,000 blocks (disconnect 1,000, connect 1,001)",
        format!("{:.1} ms", took.as_secs_f64() * 1e3),
        "reorg_1000_ms",
        took.as_secs_f64() * 1e3,
    );
}

/// The transaction with the most inputs that fits `TX_BYTES_MAX`: its signatures cost one pass
/// over the transaction plus a fixed message per input (sighash v2), where version 1's message
/// hashed the whole transaction again for every input.
fn worst_case_tx(report: &mut Report) {
    let genesis = Params::regtest().genesis_hash();
    let output = TxOut { amount: Amount::from_units(1).expect("small"), owner: key().public_key() };
    let mut n_inputs = 0;
    let mut tx = signed(&[], vec![output], genesis);
    for n in (1..=TX_BYTES_MAX / 100).rev() {
        let inputs: Vec<OutPoint> =
            (0..n as u32).map(|i| OutPoint { txid: Txid::from_byte_array([1; 32]), vout: i }).collect();
        tx = signed(&inputs, vec![output], genesis);
        if tx.size_bytes() <= TX_BYTES_MAX {
            n_inputs = n;
            break;
        }
    }
    let owner = key().public_key().0;
    let samples: Vec<Duration> = (0..5)
        .map(|_| {
            let started = Instant::now();
            let digest = TxDigest::of(&tx);
            for i in 0..tx.inputs.len() {
                verify_input(&tx, &digest, i, &owner, genesis).expect("valid");
            }
            started.elapsed()
        })
        .collect();
    let all = median(samples);
    let unsigned_bytes = encode(&tx).len() - 64 * n_inputs;
    let samples: Vec<Duration> = (0..3)
        .map(|_| {
            let bytes = vec![7u8; unsigned_bytes];
            let started = Instant::now();
            for _ in 0..n_inputs {
                std::hint::black_box(sha256d(&bytes));
            }
            started.elapsed()
        })
        .collect();
    let v1 = median(samples);
    report.add(
        &format!("worst-case tx ({n_inputs} inputs, {} bytes): every signature", tx.size_bytes()),
        format!("{:.1} ms", all.as_secs_f64() * 1e3),
        "worst_case_tx_signatures_ms",
        all.as_secs_f64() * 1e3,
    );
    report.add(
        "  hashing version 1's messages would have added",
        format!("{:.1} ms ({:.1} MB hashed)", v1.as_secs_f64() * 1e3, (unsigned_bytes * n_inputs) as f64 / 1e6),
        "worst_case_tx_v1_hashing_ms",
        v1.as_secs_f64() * 1e3,
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported.
    println!("tabchain-core benchmarks (release build, one thread)");
    let mut report = Report { rows: Vec::new(), json: Vec::new() };
    connect_10k(&mut report);
    full_block(&mut report);
    reorg_1000(&mut report);
    worst_case_tx(&mut report);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&dir).expect("create target/bench");
    let body: Vec<String> = report.json.iter().map(|(k, v)| format!("  \"{k}\": {v:.3}")).collect();
    std::fs::write(dir.join("core.json"), format!("{{\n{}\n}}\n", body.join(",\n"))).expect("write core.json");
    println!("wrote target/bench/core.json");
}
