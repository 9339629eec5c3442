//! `cargo xtask fuzz`: the coverage-guided fuzz targets of `fuzz/` (cargo-fuzz over libFuzzer).
//!
//! - `cargo xtask fuzz [TARGET] [--seconds N]` fuzzes each target (or one) for N seconds
//!   (default 60), growing a working corpus in `fuzz/target/corpus/TARGET` from the seeds in
//!   `fuzz/corpus/TARGET`, and reports per target the runs and whether it found a crash (then
//!   the task fails, naming the crashing input libFuzzer wrote under `fuzz/artifacts/`).
//! - `cargo xtask fuzz seeds` writes the seed corpora `fuzz/corpus/*`: the decoders' from real
//!   encodings (regtest's genesis block, a short chain with spends, a message of each kind,
//!   change sets, undo data, checkpoint records), the node target's from scripted scenarios (`fuzz/src/harness/
//!   seeds.rs`, through the fuzz crate's tests). Tests check that the committed seeds are
//!   exactly what it writes.
//! - `cargo xtask test`'s step "fuzz corpora" ([`corpora`]) runs the fuzz crate's tests (the
//!   harness reaches the states its scenarios are named for) and every target once over its
//!   seeds, as a regression test.
//!
//! cargo-fuzz instruments with `-Z` flags (`-Zsanitizer=address`, sancov), which a stable
//! compiler accepts under `RUSTC_BOOTSTRAP=1`; every cargo-fuzz command here sets it, so no
//! nightly toolchain is needed. Targets are built with debug assertions (`-a`), so an
//! arithmetic overflow is a finding too. cargo-fuzz is pinned ([`CARGO_FUZZ_VERSION`]) and
//! installed with `cargo install` when missing (`TABCHAIN_NO_INSTALL=1` forbids it).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};
use tabchain_core::{
    Amount, Block, BlockHash, BlockUndo, Chain, ChainOp, ChangeSet, Coin, InvItem, Message, OutPoint, PROTOCOL_VERSION,
    Params, SecretKey, Transaction, TxOut, Txid, child_block, encode, search_nonce, signed_transaction,
};

use crate::cmd::{self, say};
use crate::toolchain::native_cargo;

/// The cargo-fuzz release the tasks use, installed when missing.
pub(crate) const CARGO_FUZZ_VERSION: &str = "0.13.2";
/// The targets of `fuzz/Cargo.toml`, in the order they run.
pub(crate) const TARGETS: [&str; 8] = [
    "decode_message",
    "decode_block",
    "decode_header",
    "decode_transaction",
    "decode_change_set",
    "decode_block_undo",
    "resume_checkpoint",
    "node",
];
const SECONDS_DEFAULT: u64 = 60;

const USAGE: &str = "usage: cargo xtask fuzz [TARGET] [--seconds N] | cargo xtask fuzz seeds";

/// `cargo xtask fuzz …`.
pub(crate) fn fuzz(root: &Path, args: &[String]) -> anyhow::Result<()> {
    if let [only] = args
        && only == "seeds"
    {
        write_seeds(&root.join("fuzz/corpus"))?;
        say("writing the node target's seeds (fuzz/src/harness/seeds.rs)");
        return cmd::run(harness_tests(root).env("TABCHAIN_WRITE_SEEDS", "1"));
    }
    let (targets, seconds) = parse_args(args)?;
    ensure_cargo_fuzz()?;
    say("building the fuzz targets");
    cmd::run(&mut cargo_fuzz(root, &["build"]))?;
    let mut found = Vec::new();
    for target in &targets {
        let report = fuzz_one(root, target, seconds)?;
        println!("{target}: {} runs in {seconds} s, {}", report.runs, report.describe());
        if !report.passed() {
            found.push(format!("{target}: {}", report.describe()));
        }
    }
    say(format!("fuzzed {} targets for {seconds} s each; {} found a crash", targets.len(), found.len()));
    if !found.is_empty() {
        bail!("fuzzing found crashes:\n  {}", found.join("\n  "));
    }
    Ok(())
}

fn parse_args(args: &[String]) -> anyhow::Result<(Vec<&'static str>, u64)> {
    let mut targets: Vec<&'static str> = TARGETS.to_vec();
    let mut seconds = SECONDS_DEFAULT;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--seconds" {
            let value = rest.next().with_context(|| format!("`--seconds` needs a number\n\n{USAGE}"))?;
            seconds = value.parse().with_context(|| format!("`--seconds {value}` is not a number of seconds"))?;
        } else if let Some(target) = TARGETS.iter().find(|t| **t == arg.as_str()) {
            targets = vec![*target];
        } else {
            bail!("unknown fuzz target or option `{arg}` (targets: {})\n\n{USAGE}", TARGETS.join(", "));
        }
    }
    Ok((targets, seconds))
}

/// cargo-fuzz of the pinned version, installed with `cargo install` if missing.
pub(crate) fn ensure_cargo_fuzz() -> anyhow::Result<()> {
    let wanted = format!("cargo-fuzz {CARGO_FUZZ_VERSION}");
    let installed = || cmd::probe(native_cargo().args(["fuzz", "--version"]));
    if installed().as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    let install = format!("cargo install cargo-fuzz --version {CARGO_FUZZ_VERSION} --locked");
    if std::env::var_os("TABCHAIN_NO_INSTALL").is_some_and(|v| v == "1") {
        bail!("{wanted} is missing: `{install}` (not installing: TABCHAIN_NO_INSTALL=1)");
    }
    say(format!("installing {wanted} (takes a minute or two, once)"));
    cmd::run(native_cargo().args(["install", "cargo-fuzz", "--version", CARGO_FUZZ_VERSION, "--locked"]))
        .with_context(|| format!("fuzzing needs {wanted}, which could not be installed; run `{install}`"))?;
    match installed() {
        Some(found) if found == wanted => Ok(()),
        found => bail!("installed {wanted}, yet `cargo fuzz --version` says {found:?}"),
    }
}

/// `cargo fuzz <subcommand> -a …` on `fuzz/`, on a stable compiler unlocked for `-Z` flags.
fn cargo_fuzz(root: &Path, subcommand: &[&str]) -> Command {
    let mut command = native_cargo();
    command.current_dir(root).env("RUSTC_BOOTSTRAP", "1").arg("fuzz").args(subcommand).args([
        "--fuzz-dir",
        "fuzz",
        "--debug-assertions",
    ]);
    command
}

/// The fuzz crate's own tests (an ordinary build, without instrumentation): the harness's
/// scenarios and the node target's committed seeds.
fn harness_tests(root: &Path) -> Command {
    let mut command = native_cargo();
    command.current_dir(root).args(["test", "--manifest-path", "fuzz/Cargo.toml", "--lib"]);
    command
}

/// What one libFuzzer run printed that matters.
#[derive(Debug, PartialEq, Eq)]
struct Report {
    runs: u64,
    /// The crashing input libFuzzer wrote, if it found one.
    crash: Option<PathBuf>,
    /// Whether the run exited successfully.
    success: bool,
}

impl Report {
    fn passed(&self) -> bool {
        self.success && self.crash.is_none()
    }

    fn describe(&self) -> String {
        match (&self.crash, self.success) {
            (Some(path), _) => format!("CRASH, input in {}", path.display()),
            (None, true) => "no crash".into(),
            (None, false) => "FAILED without a crashing input (see the log)".into(),
        }
    }

    /// Reads libFuzzer's output: `stat::number_of_executed_units: N` (from
    /// `-print_final_stats=1`, else the last `Done N runs`) and `Test unit written to PATH`.
    fn parse(output: &str, success: bool) -> Self {
        let stat = output.lines().find_map(|l| l.strip_prefix("stat::number_of_executed_units:"));
        let done = output.lines().rev().find_map(|l| l.strip_prefix("Done ")?.split_whitespace().next());
        let runs = stat.or(done).and_then(|n| n.trim().parse().ok()).unwrap_or(0);
        let crash = output
            .lines()
            .find_map(|l| l.split_once("Test unit written to ").map(|(_, path)| PathBuf::from(path.trim())));
        Self { runs, crash, success }
    }
}

/// Fuzzes `target` for `seconds`, its output kept in `fuzz/target/logs/TARGET.log`.
fn fuzz_one(root: &Path, target: &str, seconds: u64) -> anyhow::Result<Report> {
    let corpus = root.join("fuzz/target/corpus").join(target);
    fs::create_dir_all(&corpus).with_context(|| format!("cannot create {}", corpus.display()))?;
    let seeds = root.join("fuzz/corpus").join(target);
    let corpora = [corpus.to_string_lossy().into_owned(), seeds.to_string_lossy().into_owned()];
    let time = format!("-max_total_time={seconds}");
    let mut command = cargo_fuzz(root, &["run", target]);
    command.args(&corpora).args(["--", &time, "-print_final_stats=1"]);
    say(format!("fuzzing {target} for {seconds} s"));
    run_logged(root, target, &mut command)
}

/// Runs a libFuzzer command with its output in `fuzz/target/logs/TARGET.log`, and reads it.
fn run_logged(root: &Path, target: &str, command: &mut Command) -> anyhow::Result<Report> {
    let logs = root.join("fuzz/target/logs");
    fs::create_dir_all(&logs).with_context(|| format!("cannot create {}", logs.display()))?;
    let log_path = logs.join(format!("{target}.log"));
    let log = fs::File::create(&log_path).with_context(|| format!("cannot create {}", log_path.display()))?;
    let status = command
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .status()
        .with_context(|| format!("cannot start cargo fuzz for {target}"))?;
    let output = fs::read_to_string(&log_path).unwrap_or_default();
    let report = Report::parse(&output, status.success());
    if !report.passed() {
        let tail: Vec<&str> = output.lines().rev().take(40).collect();
        eprintln!("--- last lines of {} ---", log_path.display());
        tail.iter().rev().for_each(|line| eprintln!("{line}"));
    }
    Ok(report)
}

/// `cargo xtask test`'s step: every target once over its seed corpus (`-runs=0`: the seeds and
/// nothing else), one `test fuzz::TARGET ... ok` line each, failing if any fails.
pub(crate) fn corpora(root: &Path) -> anyhow::Result<()> {
    ensure_cargo_fuzz()?;
    let mut failed = Vec::new();
    match cmd::run(&mut harness_tests(root)) {
        Ok(()) => println!("test fuzz::harness ... ok"),
        Err(err) => {
            println!("test fuzz::harness ... FAILED ({err:#})");
            failed.push("harness");
        }
    }
    cmd::run(&mut cargo_fuzz(root, &["build"]))?;
    for target in TARGETS {
        let seeds = root.join("fuzz/corpus").join(target);
        let mut command = cargo_fuzz(root, &["run", target]);
        command.arg(&seeds).args(["--", "-runs=0"]);
        let report = run_logged(root, target, &mut command)?;
        match report.passed() {
            true => println!("test fuzz::{target} ... ok"),
            false => {
                println!("test fuzz::{target} ... FAILED ({})", report.describe());
                failed.push(target);
            }
        }
    }
    println!("fuzz: {} passed, {} failed", TARGETS.len() + 1 - failed.len(), failed.len());
    if !failed.is_empty() {
        bail!("fuzz targets failed on their seed corpora: {}", failed.join(", "));
    }
    Ok(())
}

/// Writes the seed corpora into `dir/TARGET/`, replacing what was there.
fn write_seeds(dir: &Path) -> anyhow::Result<()> {
    for (target, files) in seeds() {
        let folder = dir.join(target);
        if folder.exists() {
            fs::remove_dir_all(&folder).with_context(|| format!("cannot clear {}", folder.display()))?;
        }
        fs::create_dir_all(&folder).with_context(|| format!("cannot create {}", folder.display()))?;
        for (name, bytes) in &files {
            fs::write(folder.join(name), bytes)
                .with_context(|| format!("cannot write {name} in {}", folder.display()))?;
        }
        say(format!("wrote {} seeds to {}", files.len(), folder.display()));
    }
    Ok(())
}

type Seeds = Vec<(&'static str, Vec<(String, Vec<u8>)>)>;

/// A short regtest chain to take real encodings from: ten empty blocks, then one spending
/// block 1's coinbase into two outputs, then one spending those two and block 2's coinbase.
struct SeedChain {
    chain: Chain,
    key: SecretKey,
    /// The blocks after genesis, in order.
    blocks: Vec<Block>,
    spends: Vec<Transaction>,
}

impl SeedChain {
    fn new() -> Self {
        let key = SecretKey::from_bytes(&[1; 32]);
        let mut seed = Self { chain: Chain::new(Params::regtest()), key, blocks: Vec::new(), spends: Vec::new() };
        for _ in 0..10 {
            seed.mine(Vec::new(), Amount::ZERO);
        }
        let genesis = seed.chain.params().genesis_hash();
        let coinbase = |seed: &Self, height: usize| OutPoint { txid: seed.blocks[height - 1].txs[0].txid(), vout: 0 };
        let subsidy = seed.chain.params().subsidy(1).to_units();
        let fee = 10_000;
        let half = |n: u64| TxOut { amount: units(n), owner: seed_owner() };
        let split = signed_transaction(
            &[coinbase(&seed, 1)],
            vec![half(subsidy / 2), half(subsidy / 2 - fee)],
            &seed.key,
            genesis,
        );
        seed.mine(vec![split.clone()], units(fee));
        let inputs = [OutPoint { txid: split.txid(), vout: 0 }, OutPoint { txid: split.txid(), vout: 1 }];
        let key2 = SecretKey::from_bytes(&[2; 32]);
        let join = signed_transaction(
            &inputs,
            vec![TxOut { amount: units(subsidy - 3 * fee), owner: seed.key.public_key() }],
            &key2,
            genesis,
        );
        let other = signed_transaction(&[coinbase(&seed, 2)], vec![half(subsidy - fee)], &seed.key, genesis);
        seed.mine(vec![join.clone(), other.clone()], units(3 * fee));
        seed.spends = vec![split, join, other];
        seed
    }

    fn mine(&mut self, txs: Vec<Transaction>, fees: Amount) {
        let tip = self.chain.tip();
        let time = tip.header().time + 10;
        let extra_nonce = u64::from(tip.height);
        let block = child_block(&self.chain, tip, self.key.public_key(), extra_nonce, time, txs, fees)
            .expect("distinct transactions");
        let header = search_nonce(&block.header, 1 << 20).expect("regtest blocks are nearly free");
        let block = Block { header, ..block };
        self.chain.accept_block(block.clone(), u64::MAX).expect("the seed chain is valid");
        self.blocks.push(block);
    }

    fn undo(&self, block: &Block) -> BlockUndo {
        self.chain.undo(&block.block_hash()).expect("seed blocks are active").clone()
    }
}

/// The second key of the seed chain, which the first spend pays.
fn seed_owner() -> tabchain_core::PublicKey {
    SecretKey::from_bytes(&[2; 32]).public_key()
}

fn units(n: u64) -> Amount {
    Amount::from_units(n).expect("seed amounts are small")
}

/// Every decoder target's seeds, by file name (the node target's are scripted in the fuzz
/// crate).
fn seeds() -> Seeds {
    let seed = SeedChain::new();
    let genesis = seed.chain.params().genesis_block().expect("regtest has a genesis block");
    let last = seed.blocks.last().expect("the seed chain has blocks");
    let mut blocks = vec![genesis.clone(), seed.blocks[0].clone()];
    blocks.extend(seed.blocks[10..].iter().cloned());
    let named = |prefix: &str, items: Vec<Vec<u8>>| -> Vec<(String, Vec<u8>)> {
        items.into_iter().enumerate().map(|(i, bytes)| (format!("{prefix}-{i}"), bytes)).collect()
    };
    let mut txs: Vec<Transaction> = vec![genesis.txs[0].clone(), seed.blocks[0].txs[0].clone()];
    txs.extend(seed.spends.iter().cloned());
    let undos: Vec<BlockUndo> = vec![BlockUndo::default(), seed.undo(&seed.blocks[10]), seed.undo(last)];
    vec![
        (
            "decode_message",
            messages(&seed, &genesis).into_iter().map(|(kind, m)| (kind.to_owned(), m.to_bytes())).collect(),
        ),
        ("decode_block", named("block", blocks.iter().map(encode).collect())),
        ("decode_header", named("header", blocks.iter().map(|b| b.header.to_bytes().to_vec()).collect())),
        ("decode_transaction", named("tx", txs.iter().map(encode).collect())),
        ("decode_change_set", named("set", change_sets(&seed).iter().map(encode).collect())),
        ("decode_block_undo", named("undo", undos.iter().map(encode).collect())),
        ("resume_checkpoint", named("record", seed.chain.checkpoint_records())),
    ]
}

/// One message of each kind (headers and blocks twice), named by kind.
fn messages(seed: &SeedChain, genesis: &Block) -> Vec<(String, Message)> {
    let hash = genesis.block_hash();
    let last = seed.blocks.last().expect("the seed chain has blocks");
    let items = vec![InvItem::Block(last.block_hash()), InvItem::Tx(seed.spends[0].txid())];
    let list = vec![
        Message::Hello {
            protocol_version: PROTOCOL_VERSION,
            genesis: hash,
            best_height: 12,
            user_agent: "tabchain/0.1".into(),
        },
        Message::Ping { nonce: 7 },
        Message::Pong { nonce: 7 },
        Message::Inv(items.clone()),
        Message::GetData(items.clone()),
        Message::NotFound(items),
        Message::GetHeaders { locator: seed.chain.locator() },
        Message::Headers(seed.blocks.iter().map(|b| b.header).collect()),
        Message::Headers(vec![]),
        Message::Block(genesis.clone()),
        Message::Block(last.clone()),
        Message::Tx(seed.spends[1].clone()),
        Message::GetAddrs,
        Message::Addrs(vec!["ws://127.0.0.1:8080/ws".into(), "wss://relay.example.invalid/ws".into()]),
        Message::GetLinks,
        Message::Links { you: 2, peers: vec![3, 4] },
        Message::Signal { peer: 3, payload: br#"{"type":"offer","sdp":"v=0"}"#.to_vec() },
        Message::GetSnapshot { base: hash, after: None },
        Message::GetSnapshot { base: hash, after: Some(OutPoint { txid: seed.spends[0].txid(), vout: 1 }) },
        Message::Snapshot { base: hash, coins: snapshot_coins(seed), last: true },
        Message::Snapshot { base: hash, coins: vec![], last: true },
        Message::SnapshotUnavailable { base: hash },
    ];
    list.into_iter().enumerate().map(|(i, m)| (format!("{}-{i}", m.kind()), m)).collect()
}

/// The first coins of the seed chain's UTXO set, as a `snapshot` chunk carries them.
fn snapshot_coins(seed: &SeedChain) -> Vec<(OutPoint, Coin)> {
    seed.chain.utxos().iter().take(3).map(|(outpoint, coin)| (*outpoint, *coin)).collect()
}

/// Change sets as a node emits them: blocks with their connections, a reorg's steps, none.
fn change_sets(seed: &SeedChain) -> Vec<ChangeSet> {
    let tip = seed.chain.tip_hash();
    let height = seed.chain.height();
    let connect = |block: &Block| ChainOp::Connect { hash: block.block_hash(), undo: seed.undo(block) };
    let last_two = &seed.blocks[10..];
    let coin = Coin { output: TxOut { amount: units(1000), owner: seed_owner() }, height: 3, is_coinbase: false };
    let spent = BlockUndo { spent: vec![(OutPoint { txid: Txid::from_byte_array([3; 32]), vout: 1 }, coin)] };
    vec![
        ChangeSet { blocks: vec![], ops: vec![], tip, height },
        ChangeSet { blocks: last_two.to_vec(), ops: last_two.iter().map(connect).collect(), tip, height },
        ChangeSet {
            blocks: vec![seed.blocks[0].clone()],
            ops: vec![
                ChainOp::Disconnect { hash: tip },
                ChainOp::Connect { hash: BlockHash::from_byte_array([4; 32]), undo: spent },
            ],
            tip: BlockHash::from_byte_array([4; 32]),
            height,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seed files per target, at most: seeds are examples, not a saved fuzzing campaign.
    const SEEDS_PER_TARGET_MAX: usize = 40;

    fn root() -> PathBuf {
        crate::workspace_root()
    }

    #[test]
    fn targets_are_the_fuzz_crates_bins() {
        let manifest = fs::read_to_string(root().join("fuzz/Cargo.toml")).expect("fuzz/Cargo.toml");
        let bins: Vec<&str> = manifest
            .lines()
            .filter_map(|l| l.strip_prefix("name = \"")?.strip_suffix('"'))
            .filter(|name| *name != "tabchain-fuzz")
            .collect();
        assert_eq!(bins, TARGETS);
    }

    #[test]
    fn committed_seeds_are_what_the_seeds_task_writes() {
        for (target, files) in seeds() {
            assert!(!files.is_empty() && files.len() <= SEEDS_PER_TARGET_MAX, "{target}: {} seeds", files.len());
            let folder = root().join("fuzz/corpus").join(target);
            let mut committed: Vec<String> = fs::read_dir(&folder)
                .unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask fuzz seeds`", folder.display()))
                .map(|entry| entry.expect("readable folder").file_name().to_string_lossy().into_owned())
                .collect();
            committed.sort();
            let mut names: Vec<String> = files.iter().map(|(name, _)| name.clone()).collect();
            names.sort();
            assert_eq!(committed, names, "{target}: run `cargo xtask fuzz seeds`");
            for (name, bytes) in &files {
                assert_eq!(
                    &fs::read(folder.join(name)).expect("seed file"),
                    bytes,
                    "{target}/{name}: run `cargo xtask fuzz seeds`"
                );
            }
        }
    }

    #[test]
    fn checkpoint_seeds_resume_in_order() {
        let (_, records) = seeds().into_iter().find(|(target, _)| *target == "resume_checkpoint").expect("seeds");
        let mut resume = tabchain_core::NodeResume::new(Params::regtest());
        for (name, bytes) in &records {
            resume.push_record(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let node = resume.finish("seeds", None).expect("the seed checkpoint resumes");
        assert_eq!(node.chain().tip_hash(), SeedChain::new().chain.tip_hash());
    }

    #[test]
    fn decoder_seeds_decode() {
        for (target, files) in seeds() {
            for (name, bytes) in files {
                let ok = match target {
                    "decode_message" => Message::from_bytes(&bytes).is_ok(),
                    "decode_block" => Block::from_bytes(&bytes).is_ok(),
                    "decode_header" => tabchain_core::decode::<tabchain_core::Header>(&bytes).is_ok(),
                    "decode_transaction" => tabchain_core::decode::<Transaction>(&bytes).is_ok(),
                    "decode_change_set" => tabchain_core::decode::<ChangeSet>(&bytes).is_ok(),
                    "decode_block_undo" => tabchain_core::decode::<BlockUndo>(&bytes).is_ok(),
                    // Records resume only in order (`checkpoint_seeds_resume_in_order`).
                    "resume_checkpoint" => true,
                    _ => true,
                };
                assert!(ok, "{target}/{name} decodes");
            }
        }
    }

    fn check_parse(output: &str, success: bool, expected: Report) {
        assert_eq!(Report::parse(output, success), expected);
    }

    #[test]
    fn libfuzzer_output_is_read() {
        check_parse(
            "#1024 pulse\nDone 661238 runs in 11 second(s)\nstat::number_of_executed_units: 661238\n",
            true,
            Report { runs: 661_238, crash: None, success: true },
        );
        check_parse(
            "==1== ERROR: libFuzzer: deadly signal\nartifact_prefix='/f/artifacts/node/'; \
             Test unit written to /f/artifacts/node/crash-0a1b\nstat::number_of_executed_units: 77\n",
            false,
            Report { runs: 77, crash: Some(PathBuf::from("/f/artifacts/node/crash-0a1b")), success: false },
        );
        check_parse("Done 12 runs in 0 second(s)\n", true, Report { runs: 12, crash: None, success: true });
        check_parse("error: could not compile\n", false, Report { runs: 0, crash: None, success: false });
    }

    #[test]
    fn arguments_pick_targets_and_time() {
        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_args(&args(&[])).expect("no arguments"), (TARGETS.to_vec(), SECONDS_DEFAULT));
        assert_eq!(parse_args(&args(&["node", "--seconds", "5"])).expect("valid"), (vec!["node"], 5));
        assert!(parse_args(&args(&["nodes"])).is_err());
        assert!(parse_args(&args(&["--seconds"])).is_err());
    }
}
