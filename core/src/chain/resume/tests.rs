use super::*;
use crate::amount::Amount;
use crate::chain::ACTIVE_BLOCKS_KEPT;
use crate::encode::encode;
use crate::node::{Node, Output};
use crate::testkit::*;
use alloc::vec;

/// A regtest chain past the in-memory window, with payments, so that the checkpoint holds bare
/// headers, kept blocks and coins that were spent.
fn long_chain() -> Builder {
    let mut b = Builder::new();
    let (coin, value) = b.mature_coin();
    let genesis = b.genesis();
    let change = TxOut { amount: value.checked_sub(units(1_000)).expect("valid"), owner: miner().public_key() };
    let payment = spend(&[coin], vec![pay(units(500)), change], genesis);
    let block = b.block_on(b.chain.tip_hash(), vec![payment], units(1_000).checked_sub(units(500)).expect("valid"));
    b.chain.accept_block(block, NOW).expect("valid");
    b.extend(ACTIVE_BLOCKS_KEPT as usize + 20);
    b
}

use crate::transaction::TxOut;

fn resume(records: &[Vec<u8>]) -> Result<Chain, ResumeError> {
    let mut resume = ChainResume::new(Params::regtest());
    for record in records {
        resume.push_record(record)?;
    }
    resume.finish()
}

fn assert_same(resumed: &Chain, chain: &Chain) {
    assert_eq!((resumed.tip_hash(), resumed.height()), (chain.tip_hash(), chain.height()));
    assert_eq!(resumed.utxos(), chain.utxos());
    assert_eq!(resumed.utxos().commitment(), chain.utxos().commitment());
    assert_eq!(resumed.best_header(), chain.best_header());
    assert_eq!(resumed.locator(), chain.locator());
}

#[test]
fn a_chain_resumed_from_its_checkpoint_is_the_chain_and_follows_the_same_reorg() {
    let mut b = long_chain();
    let records = b.chain.checkpoint_records();
    assert!(records.len() >= 4, "headers, blocks, coins and the end");
    assert!(records.iter().all(|r| r.len() <= CHECKPOINT_RECORD_BYTES_MAX + crate::BLOCK_BYTES_MAX));
    let mut resumed = resume(&records).expect("a fresh checkpoint resumes");
    assert_same(&resumed, &b.chain);
    assert_eq!(resumed.kept_from_height(), b.chain.kept_from_height());
    assert_eq!(resumed.n_blocks_in_memory(), b.chain.n_blocks_in_memory());

    // A reorg of 5 blocks, within the kept window, moves both chains alike.
    let fork = b.chain.hash_at(b.chain.height() - 5).expect("on the chain");
    for block in b.branch_on(fork, 7) {
        let ours = b.chain.accept_block(block.clone(), NOW).expect("valid");
        let theirs = resumed.accept_block(block, NOW).expect("valid");
        assert_eq!(ours, theirs);
    }
    assert_same(&resumed, &b.chain);
}

#[test]
fn change_sets_written_after_a_checkpoint_replay_onto_it_through_a_reorg() {
    let b = long_chain();
    let mut node = Node::resume("test", resume(&b.chain.checkpoint_records()).expect("resumes"));
    let checkpoint = node.chain().checkpoint_records();
    let mut scratch = Builder { chain: node.chain().clone(), extra_nonce: 7 };
    let tip = node.chain().tip_hash();
    let fork = node.chain().hash_at(node.chain().height() - 3).expect("on the chain");
    let mut blocks = scratch.branch_on(tip, 2);
    blocks.extend(scratch.branch_on(fork, 6));
    let mut sets = Vec::new();
    for block in blocks {
        node.submit_block(block, NOW).expect("valid");
        while let Some(output) = node.poll_output() {
            if let Output::Persist(set) = output {
                sets.push(encode(&set));
            }
        }
    }
    assert!(sets.iter().any(|s| {
        decode::<ChangeSet>(s).is_ok_and(|s| s.ops.iter().any(|op| matches!(op, ChainOp::Disconnect { .. })))
    }));

    let mut resume = ChainResume::new(Params::regtest());
    checkpoint.iter().try_for_each(|r| resume.push_record(r)).expect("checkpoint");
    sets.iter().try_for_each(|s| resume.apply_change_set(s)).expect("journal");
    assert_same(&resume.finish().expect("a whole checkpoint"), node.chain());
}

/// Checkpoint records of `long_chain` with one record changed by `damage`, and what resuming says.
fn resume_damaged(damage: impl FnOnce(&mut Vec<Vec<u8>>)) -> ResumeError {
    let b = long_chain();
    let mut records = b.chain.checkpoint_records();
    damage(&mut records);
    resume(&records).expect_err("a damaged checkpoint is refused")
}

fn position(records: &[Vec<u8>], kind: u8) -> usize {
    records.iter().position(|r| r[1] == kind).expect("a record of that kind")
}

#[test]
fn a_damaged_checkpoint_is_refused_naming_what_is_wrong() {
    // An owner changed (a coins record starts with its owner list: version, kind, the list's
    // length in one byte, then the first owner), and so every coin of that owner.
    let error = resume_damaged(|records| {
        let coins = position(records, KIND_COINS);
        records[coins][2 + 1 + 5] ^= 1;
    });
    assert!(matches!(error, ResumeError::ChecksumMismatch { .. }), "{error}");

    // The set hash stored with the tip changed: taken back through the tip block, it is not what
    // that block commits to (end record: version, kind, tip, checksum, then the set hash).
    let error = resume_damaged(|records| {
        let end = records.last_mut().expect("end");
        end[2 + 32 + 32 + 10] ^= 1;
    });
    assert!(matches!(error, ResumeError::SetHashMismatch { .. }), "{error}");

    // A record of headers lost: the next header does not follow.
    let error = resume_damaged(|records| {
        records.remove(position(records, KIND_HEADERS));
    });
    assert!(matches!(error, ResumeError::BrokenLink { height: 1 }), "{error}");

    // A kept block's transaction changed: its body no longer matches its header.
    let error = resume_damaged(|records| {
        let blocks = position(records, KIND_BLOCKS);
        let record = &mut records[blocks];
        record[2 + 3 + HEADER_BYTES + 10] ^= 1;
    });
    assert!(matches!(error, ResumeError::BadBlock { .. } | ResumeError::Corrupt { .. }), "{error}");

    // The end record names another tip.
    let error = resume_damaged(|records| {
        let end = records.last_mut().expect("end");
        end[2] ^= 1;
    });
    assert!(matches!(error, ResumeError::TipMismatch { .. }), "{error}");

    // Blocks before headers.
    let error = resume_damaged(|records| {
        let headers = records.remove(position(records, KIND_HEADERS));
        let blocks = position(records, KIND_BLOCKS);
        records.insert(blocks + 1, headers);
    });
    assert!(matches!(error, ResumeError::BrokenLink { .. } | ResumeError::HeaderAfterBlock { .. }), "{error}");

    // An unknown format version.
    let error = resume_damaged(|records| records[0][0] = CHECKPOINT_VERSION + 1);
    let version = DecodeError::Invalid { what: "checkpoint version" };
    assert_eq!(error, ResumeError::Corrupt { what: "checkpoint record", error: version });

    // Cut short: the end record lost.
    let error = resume_damaged(|records| {
        records.pop();
    });
    assert_eq!(error, ResumeError::CheckpointIncomplete);

    // Only the headers: cut short too, and a chain without its tip's block.
    let error = resume_damaged(|records| records.retain(|r| r[1] == KIND_HEADERS));
    assert_eq!(error, ResumeError::CheckpointIncomplete);

    // No blocks at all: the tip's block is missing.
    let error = resume_damaged(|records| records.retain(|r| r[1] != KIND_BLOCKS));
    assert!(matches!(error, ResumeError::TipMismatch { .. }), "{error:?}");
}

#[test]
fn a_replayed_step_that_does_not_fit_is_refused() {
    let b = long_chain();
    let mut resume = ChainResume::new(Params::regtest());
    b.chain.checkpoint_records().iter().try_for_each(|r| resume.push_record(r)).expect("checkpoint");
    let stranger = BlockHash::from_byte_array([9; 32]);
    let connect = ChangeSet {
        blocks: vec![],
        ops: vec![ChainOp::Connect { hash: stranger, undo: BlockUndo::default() }],
        tip: stranger,
        height: 0,
    };
    assert_eq!(resume.apply_change_set(&encode(&connect)), Err(ResumeError::StepOutOfPlace { hash: stranger }));
    let below_tip = b.chain.hash_at(b.chain.height() - 1).expect("on the chain");
    let disconnect =
        ChangeSet { blocks: vec![], ops: vec![ChainOp::Disconnect { hash: below_tip }], tip: below_tip, height: 0 };
    assert_eq!(resume.apply_change_set(&encode(&disconnect)), Err(ResumeError::StepOutOfPlace { hash: below_tip }));
    let _ = Amount::ZERO;
}

#[test]
fn varints_round_trip_and_refuse_overlong_or_overflowing_encodings() {
    for value in [0, 1, 127, 128, 16_383, 16_384, 5_000_000_000, u64::MAX] {
        let mut out = Vec::new();
        write_varint(&mut out, value);
        assert_eq!(read_varint(&mut Reader::new(&out)), Ok(value), "{value}");
    }
    let overlong = [0x80, 0x00];
    assert_eq!(read_varint(&mut Reader::new(&overlong)), Err(DecodeError::Invalid { what: "varint (not minimal)" }));
    let overflowing = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
    assert_eq!(read_varint(&mut Reader::new(&overflowing)), Err(DecodeError::Invalid { what: "varint" }));
}

#[test]
fn a_checkpoint_stores_headers_in_48_bytes_and_coins_without_fixed_widths_or_repeated_owners() {
    let b = long_chain();
    let records = b.chain.checkpoint_records();
    let bytes = |kind: u8| records.iter().filter(|r| r[1] == kind).map(Vec::len).sum::<usize>();
    let n_headers = b.chain.kept_from_height() as usize - 1;
    assert!(bytes(KIND_HEADERS) < n_headers * LINKED_HEADER_BYTES + 16, "48 bytes a header");
    let n_coins = b.chain.utxos().len();
    // Here every coin is a coinbase alone in its transaction, all to one miner: txid, count, vout,
    // a 5-byte amount, an owner index, a 2-byte height and the flag make 43 bytes (74 in
    // version 2, 81 in version 1); coins sharing a transaction share its txid, and the owner is
    // listed once a record.
    let n_records = records.iter().filter(|r| r[1] == KIND_COINS).count();
    assert!(bytes(KIND_COINS) <= n_coins * 43 + n_records * 48, "{} bytes for {n_coins} coins", bytes(KIND_COINS));
}

#[test]
fn records_split_small_in_every_stage_resume_the_same_chain_and_a_moved_chain_is_refused() {
    let mut b = long_chain();
    let mut cursor = b.chain.checkpoint_cursor();
    let mut records = Vec::new();
    while let Some(record) = b.chain.next_checkpoint_record_within(&mut cursor, 300).expect("still") {
        records.push(record);
    }
    let kinds = |kind: u8| records.iter().filter(|r| r[1] == kind).count();
    assert!(kinds(KIND_HEADERS) > 1 && kinds(KIND_BLOCKS) > 1 && kinds(KIND_COINS) > 1, "{}", records.len());
    assert_same(&resume(&records).expect("resumes"), &b.chain);

    let mut cursor = b.chain.checkpoint_cursor();
    b.chain.next_checkpoint_record(&mut cursor).expect("a first record");
    assert!(!b.chain.checkpoint_moved(&cursor));
    b.extend(1);
    assert!(b.chain.checkpoint_moved(&cursor));
    assert_eq!(b.chain.next_checkpoint_record(&mut cursor), Err(CheckpointMoved));
}
