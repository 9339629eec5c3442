//! Tests of `Chain`: every block rule broken once, reorgs, invalid branches, undo exactness.

use super::*;
use crate::amount::Amount;
use crate::hash::{MerkleRoot, Txid};
use crate::limits::BLOCK_BYTES_MAX;
use crate::signature::{PublicKey, Signature};
use crate::target::{CompactTarget, Target};
use crate::template::{assemble_block, child_block, coinbase};
use crate::testkit::*;
use crate::transaction::{OutPoint, Transaction, TxIn, TxOut};
use crate::validation::TxError;
use alloc::vec;
use alloc::vec::Vec;

#[test]
fn blocks_extend_the_chain_and_pay_their_coinbase() {
    let mut b = Builder::new();
    let hashes = b.extend(3);
    assert_eq!(b.chain.height(), 3);
    assert_eq!(b.chain.tip_hash(), hashes[2]);
    assert_eq!(b.chain.utxos().len(), 3);
    assert_eq!(b.chain.utxos().total_value(), units(3 * 50 * crate::amount::COIN));
    // The same block again changes nothing.
    let again = b.chain.entry(&hashes[2]).expect("stored").block.clone();
    assert_eq!(b.chain.accept_block(again, NOW), Ok(ChainUpdate::default()));
}

/// Each header rule, broken.
#[test]
fn header_rules() {
    let mut b = Builder::new();
    b.extend(12);
    let tip = b.chain.tip_hash();
    let good = b.block_on(tip, vec![], Amount::ZERO);
    let check = |chain: &mut Chain, block: Block, expected: BlockError| {
        assert_eq!(chain.accept_block(block, NOW), Err(expected.clone()), "{expected}");
    };

    let mut orphan = good.clone();
    orphan.header.prev_blockhash = BlockHash::from_byte_array([7; 32]);
    let orphan = mine(orphan);
    check(&mut b.chain, orphan, BlockError::UnknownParent { parent: BlockHash::from_byte_array([7; 32]) });

    let mut bad_pow = good.clone();
    let target = bad_pow.header.bits.to_target().expect("valid");
    bad_pow.header.nonce = (0..)
        .find(|&n| !target.is_met_by(Header { nonce: n, ..bad_pow.header }.block_hash()))
        .expect("a failing nonce");
    check(&mut b.chain, bad_pow, BlockError::Pow(crate::pow::PowError::HashAboveTarget));

    let mut easier = good.clone();
    easier.header.bits = CompactTarget::from_consensus(0x2100ffff);
    check(&mut b.chain, mine(easier), BlockError::Pow(crate::pow::PowError::TargetAboveLimit));

    let mut wrong_bits = good.clone();
    wrong_bits.header.bits = CompactTarget::from_consensus(0x207ffff0);
    let expected = good.header.bits;
    check(
        &mut b.chain,
        mine(wrong_bits),
        BlockError::WrongBits { expected, found: CompactTarget::from_consensus(0x207ffff0) },
    );

    let mtp = b.chain.median_time_past(b.chain.tip());
    let mut old = good.clone();
    old.header.time = mtp;
    // The ASERT target depends on the parent only, so bits stay right.
    check(&mut b.chain, mine(old), BlockError::TimeTooOld { time: mtp, median_time_past: mtp });

    // Too new now, accepted once the clock catches up: never remembered as invalid.
    let now = u64::from(good.header.time) - 121;
    let error = b.chain.accept_block(good.clone(), now).expect_err("too far ahead");
    assert_eq!(error, BlockError::TimeTooNew { time: good.header.time, latest_allowed: now + 120 });
    assert!(error.may_be_valid_later());
    assert_eq!(b.chain.accept_block(good.clone(), now + 1).map(|u| u.connected), Ok(vec![good.block_hash()]));
}

/// Each body rule, broken: the block is refused, the chain and UTXO set unchanged.
#[test]
fn body_rules() {
    let mut b = Builder::new();
    let (coin, value) = b.mature_coin();
    let genesis = b.genesis();
    let tip = b.chain.tip_hash();
    let before = (b.chain.tip_hash(), b.chain.utxos().clone());
    let fee = units(1000);
    let pay_all = |fee: Amount| vec![pay(value.checked_sub(fee).expect("fee below value"))];

    let mut cases: Vec<(&str, Block, BlockError)> = Vec::new();

    let mut no_coinbase = b.block_on(tip, vec![spend(&[coin], pay_all(Amount::ZERO), genesis)], Amount::ZERO);
    no_coinbase.txs.remove(0);
    cases.push(("first not coinbase", reroot(no_coinbase), BlockError::FirstNotCoinbase));

    let mut two = b.block_on(tip, vec![], Amount::ZERO);
    two.txs.push(coinbase(b.chain.height() + 1, units(1), miner().public_key(), 99, UtxoCommitment::ZERO));
    cases.push(("second coinbase", reroot(two), BlockError::ExtraCoinbase { tx_idx: 1 }));

    let mut wrong_height = b.block_on(tip, vec![], Amount::ZERO);
    wrong_height.txs[0].inputs[0].prev_out.vout += 1;
    let height = b.chain.height() + 1;
    cases.push((
        "coinbase height",
        reroot(wrong_height),
        BlockError::CoinbaseHeight { expected: height, found: height + 1 },
    ));

    let mut wrong_commitment = b.block_on(tip, vec![], Amount::ZERO);
    let found = UtxoCommitment::from_byte_array([7; 32]);
    wrong_commitment.txs[0] = crate::commitment::with_commitment(wrong_commitment.txs[0].clone(), found);
    let expected = b.chain.utxos().commitment();
    cases.push(("UTXO commitment", reroot(wrong_commitment), BlockError::UtxoCommitment { expected, found }));

    let greedy =
        b.block_on(tip, vec![spend(&[coin], pay_all(fee), genesis)], fee.checked_add(units(1)).expect("small"));
    let allowed = b.chain.params().subsidy(height).checked_add(fee).expect("small");
    let paid = allowed.checked_add(units(1)).expect("small");
    cases.push(("coinbase too large", greedy, BlockError::CoinbaseTooLarge { paid, allowed }));

    let mut mismatch = b.block_on(tip, vec![], Amount::ZERO);
    mismatch.header.merkle_root = MerkleRoot::from_byte_array([3; 32]);
    cases.push(("merkle mismatch", mine(mismatch), BlockError::MerkleMismatch));

    // coinbase, t1, t1, t1': the repeat is not a merkle mutation, but still a duplicate.
    let t1 = spend(&[coin], pay_all(Amount::ZERO), genesis);
    let dup = b.block_on(tip, vec![t1.clone(), t1.clone(), spend(&[coin], pay_all(units(1)), genesis)], Amount::ZERO);
    cases.push(("duplicate txid", dup, BlockError::DuplicateTxid { txid: t1.txid() }));

    let missing = OutPoint { txid: Txid::from_byte_array([9; 32]), vout: 0 };
    cases.push((
        "missing input",
        b.block_on(tip, vec![spend(&[missing], vec![pay(units(1))], genesis)], Amount::ZERO),
        BlockError::Tx { tx_idx: 1, error: TxError::MissingInput { outpoint: missing } },
    ));

    let double = b.block_on(
        tip,
        vec![spend(&[coin], pay_all(Amount::ZERO), genesis), spend(&[coin], pay_all(units(5)), genesis)],
        units(5),
    );
    cases.push(("in-block double spend", double, BlockError::DoubleSpendInBlock { outpoint: coin }));

    cases.push((
        "duplicate input",
        b.block_on(tip, vec![spend(&[coin, coin], pay_all(Amount::ZERO), genesis)], Amount::ZERO),
        BlockError::Tx { tx_idx: 1, error: TxError::DuplicateInput { outpoint: coin } },
    ));

    let (young, young_value) = b.coinbase_coin(b.chain.height());
    cases.push((
        "immature coinbase",
        b.block_on(tip, vec![spend(&[young], vec![pay(young_value)], genesis)], Amount::ZERO),
        BlockError::Tx { tx_idx: 1, error: TxError::ImmatureCoinbase { outpoint: young, confirmations: 1 } },
    ));

    let mut forged = spend(&[coin], pay_all(Amount::ZERO), genesis);
    forged.outputs[0].amount = units(1); // alter after signing: the signature covers outputs
    cases.push((
        "signature does not cover altered outputs",
        b.block_on(tip, vec![forged], value.checked_sub(units(1)).expect("small")),
        BlockError::Tx {
            tx_idx: 1,
            error: TxError::BadSignature { input_idx: 0, error: crate::signature::SignatureError::Invalid },
        },
    ));

    let other_net = spend(&[coin], pay_all(Amount::ZERO), Params::tabchain().genesis_hash());
    cases.push((
        "signature from another network",
        b.block_on(tip, vec![other_net], Amount::ZERO),
        BlockError::Tx {
            tx_idx: 1,
            error: TxError::BadSignature { input_idx: 0, error: crate::signature::SignatureError::Invalid },
        },
    ));

    let inflating = spend(&[coin], vec![pay(value), pay(units(1))], genesis);
    let outputs = value.checked_add(units(1)).expect("small");
    cases.push((
        "outputs exceed inputs",
        b.block_on(tip, vec![inflating], Amount::ZERO),
        BlockError::Tx { tx_idx: 1, error: TxError::OutputsExceedInputs { inputs: value, outputs } },
    ));

    // The original Python code's bug: a "COINBASE" input in an ordinary transaction minted coins.
    let fake = Transaction {
        version: 1,
        inputs: vec![
            TxIn { prev_out: coin, signature: Signature::default() },
            TxIn { prev_out: OutPoint::coinbase(height), signature: Signature::default() },
        ],
        outputs: vec![pay(units(1))],
    };
    cases.push((
        "coinbase marker in an ordinary transaction",
        b.block_on(tip, vec![fake], Amount::ZERO),
        BlockError::Tx { tx_idx: 1, error: TxError::CoinbaseMarkerInput { input_idx: 1 } },
    ));

    for (what, block, expected) in cases {
        assert_eq!(b.chain.accept_block(block, NOW), Err(expected), "{what}");
        assert_eq!((b.chain.tip_hash(), b.chain.utxos().clone()), before, "{what} changed the chain");
    }
}

#[test]
fn oversized_block_is_refused() {
    let mut b = Builder::new();
    let tip = b.chain.tip_hash();
    let wide = Transaction {
        version: 1,
        inputs: vec![TxIn {
            prev_out: OutPoint { txid: Txid::from_byte_array([5; 32]), vout: 0 },
            signature: Signature::default(),
        }],
        outputs: vec![pay(units(1)); crate::limits::TX_OUTPUTS_MAX],
    };
    let txs: Vec<Transaction> = (0..3u32)
        .map(|i| {
            let mut tx = wide.clone();
            tx.inputs[0].prev_out.vout = i;
            tx
        })
        .collect();
    let block = b.block_on(tip, txs, Amount::ZERO);
    let size_bytes = block.size_bytes();
    assert!(size_bytes > BLOCK_BYTES_MAX);
    assert_eq!(b.chain.accept_block(block, NOW), Err(BlockError::TooLarge { size_bytes }));
}

#[test]
fn outputs_created_earlier_in_the_block_can_be_spent() {
    let mut b = Builder::new();
    let (coin, value) = b.mature_coin();
    let genesis = b.genesis();
    let first = spend(&[coin], vec![TxOut { amount: value, owner: miner().public_key() }], genesis);
    let second = spend(
        &[OutPoint { txid: first.txid(), vout: 0 }],
        vec![TxOut { amount: value, owner: miner().public_key() }],
        genesis,
    );
    let tip = b.chain.tip_hash();
    let block = b.block_on(tip, vec![first.clone(), second.clone()], Amount::ZERO);
    assert!(b.chain.accept_block(block, NOW).is_ok());
    assert!(!b.chain.utxos().contains(&coin));
    assert!(!b.chain.utxos().contains(&OutPoint { txid: first.txid(), vout: 0 }));
    assert!(b.chain.utxos().contains(&OutPoint { txid: second.txid(), vout: 0 }));
    // Spending the in-block output twice is a double spend, not a missing input.
    let third = spend(&[OutPoint { txid: second.txid(), vout: 0 }], vec![pay(value)], genesis);
    let mut again = third.clone();
    again.outputs[0].amount = units(1);
    let again = spend(&again.inputs.iter().map(|i| i.prev_out).collect::<Vec<_>>(), again.outputs, genesis);
    let tip = b.chain.tip_hash();
    let block = b.block_on(tip, vec![third, again], value.checked_sub(units(1)).expect("small"));
    assert_eq!(
        b.chain.accept_block(block, NOW),
        Err(BlockError::DoubleSpendInBlock { outpoint: OutPoint { txid: second.txid(), vout: 0 } })
    );
}

#[test]
fn mutated_copy_is_refused_but_the_honest_block_is_accepted_later() {
    let mut b = Builder::new();
    let (coin, value) = b.mature_coin();
    let genesis = b.genesis();
    let tip = b.chain.tip_hash();
    let t1 = spend(&[coin], vec![TxOut { amount: value, owner: miner().public_key() }], genesis);
    let t2 = spend(&[OutPoint { txid: t1.txid(), vout: 0 }], vec![pay(value)], genesis);
    // Three transactions: the last is paired with itself, so repeating it keeps the root.
    let honest = b.block_on(tip, vec![t1, t2], Amount::ZERO);
    let mut mutated = honest.clone();
    mutated.txs.push(mutated.txs[2].clone());
    assert_eq!(mutated.compute_merkle_root(), Err(crate::merkle::MerkleError::Mutated));
    assert_eq!(mutated.block_hash(), honest.block_hash());
    assert_eq!(b.chain.accept_block(mutated, NOW), Err(BlockError::MerkleMutated));
    assert!(b.chain.accept_block(honest.clone(), NOW).is_ok());
    assert_eq!(b.chain.tip_hash(), honest.block_hash());
}

#[test]
fn most_work_wins_and_reorgs_are_exact() {
    let mut b = Builder::new();
    let common = b.extend(3);
    let fork = common[2];
    let old = b.extend(2);
    let utxos_on_old = b.chain.utxos().clone();

    // A sibling branch of equal length (equal work) does not displace the first seen.
    let side = b.branch_on(fork, 3);
    for block in &side[..2] {
        assert!(b.chain.accept_block(block.clone(), NOW).expect("valid").is_empty());
    }
    assert_eq!(b.chain.tip_hash(), old[1]);

    // One more block gives it more work: a reorg of depth 2.
    let update = b.chain.accept_block(side[2].clone(), NOW).expect("valid");
    assert_eq!(update.disconnected, vec![old[1], old[0]]);
    assert_eq!(update.connected, side.iter().map(Block::block_hash).collect::<Vec<_>>());
    assert_eq!(update.reorg_depth(), 2);
    let recent = b.chain.blocks_since(4);
    assert_eq!(recent.len(), 2 + 3, "both branches above the fork");
    assert!(recent.windows(2).all(|w| w[0].height <= w[1].height));
    assert_eq!(b.chain.height(), 6);

    // The UTXO set equals that of a node that only ever saw the new branch.
    let mut fresh = Chain::new(Params::regtest());
    for h in 1..=3 {
        let block = b.chain.entry(&b.chain.hash_at(h).expect("active")).expect("stored").block.clone();
        fresh.accept_block(block, NOW).expect("valid");
    }
    for block in &side {
        fresh.accept_block(block.clone(), NOW).expect("valid");
    }
    assert_eq!(fresh.utxos(), b.chain.utxos());

    // And back: extending the old branch past it returns the old outputs exactly.
    let mut back = Builder { chain: b.chain.clone(), extra_nonce: b.extra_nonce };
    let more = back.branch_on(old[1], 2);
    for block in more {
        b.chain.accept_block(block, NOW).expect("valid");
    }
    assert_eq!(b.chain.height(), 7);
    assert!(b.chain.is_active(&old[1]));
    for (outpoint, coin) in utxos_on_old.iter() {
        assert_eq!(b.chain.utxos().get(outpoint), Some(coin));
    }
}

#[test]
fn an_invalid_block_midway_leaves_the_best_valid_chain() {
    let mut b = Builder::new();
    let (coin, value) = b.mature_coin();
    let genesis = b.genesis();
    let fork = b.chain.tip_hash();
    let old = b.extend(2);

    // A longer branch whose third block double-spends: valid header, invalid body.
    let mut side = b.branch_on(fork, 2);
    let mut scratch = Builder { chain: b.chain.clone(), extra_nonce: b.extra_nonce + 5_000 };
    for block in &side {
        scratch.chain.accept_block(block.clone(), NOW).expect("valid");
    }
    let bad_tx = spend(&[coin], vec![pay(value), pay(value)], genesis);
    let bad = scratch.block_on(side[1].block_hash(), vec![bad_tx], Amount::ZERO);
    let bad_hash = bad.block_hash();
    side.push(bad);
    let after_bad = {
        // A child of the bad block, mined without validating it.
        let parent = &side[2];
        let cb = coinbase(parent_height(&b.chain, &side) + 1, units(1), miner().public_key(), 77, UtxoCommitment::ZERO);
        let bits = parent.header.bits;
        mine(assemble_block(bad_hash, bits, parent.header.time + 10, cb, vec![]).expect("not mutated"))
    };

    b.chain.accept_block(side[0].clone(), NOW).expect("valid");
    b.chain.accept_block(side[1].clone(), NOW).expect("valid");
    assert!(b.chain.is_active(&old[1]), "equal work: first seen stays");
    // Headers above the bad block arrive first: they become the best header chain.
    let after_bad_hash = after_bad.block_hash();
    assert_eq!(b.chain.accept_header(side[2].header, NOW), Ok(true));
    assert_eq!(b.chain.accept_header(after_bad.header, NOW), Ok(true));
    assert_eq!(b.chain.best_header().hash, after_bad_hash);
    // The node reorgs to the side branch, fails at its third block, and returns: no net change.
    let error = b.chain.accept_block(side[2].clone(), NOW).expect_err("invalid body");
    assert!(matches!(error, BlockError::Tx { tx_idx: 1, error: TxError::OutputsExceedInputs { .. } }), "{error}");
    // side[0..2] has the same work as old and was seen later: the node is back on old.
    assert!(b.chain.is_active(&old[1]));
    assert_eq!(b.chain.tip_hash(), old[1]);
    assert!(b.chain.entry(&bad_hash).expect("stored").is_invalid());
    assert_eq!(b.chain.header(&after_bad_hash), None, "the header above the bad block is invalid too");
    assert_eq!(b.chain.accept_block(after_bad, NOW), Err(BlockError::KnownInvalid { hash: after_bad_hash }));
    assert_eq!(b.chain.accept_block(side[2].clone(), NOW), Err(BlockError::KnownInvalid { hash: bad_hash }));
    // The best header is the best valid one again: the header tree's leaves are the two tips,
    // side[1] having become a leaf when its only child turned out invalid.
    assert_eq!(b.chain.best_header().hash, old[1]);
    let leaves: Vec<BlockHash> = b.chain.header_tips.iter().map(|&(_, _, hash)| hash).collect();
    assert_eq!(leaves.len(), 2, "{leaves:?}");
    assert!(leaves.contains(&old[1]) && leaves.contains(&side[1].block_hash()));
}

fn parent_height(chain: &Chain, side: &[Block]) -> u32 {
    chain.entry(&side[0].header.prev_blockhash).expect("fork stored").height + side.len() as u32
}

#[test]
fn a_partial_branch_with_more_work_is_kept() {
    let mut b = Builder::new();
    let (coin, value) = b.mature_coin();
    let genesis = b.genesis();
    let fork = b.chain.tip_hash();
    let old = b.extend(1);
    let mut side = b.branch_on(fork, 2);
    let mut scratch = Builder { chain: b.chain.clone(), extra_nonce: b.extra_nonce + 9_000 };
    for block in &side {
        scratch.chain.accept_block(block.clone(), NOW).expect("valid");
    }
    let bad = scratch.block_on(
        side[1].block_hash(),
        vec![spend(&[coin], vec![pay(value), pay(value)], genesis)],
        Amount::ZERO,
    );
    side.push(bad);
    for block in &side {
        let _ = b.chain.accept_block(block.clone(), NOW);
    }
    // Two valid side blocks outweigh the one old block; the invalid third is dropped.
    assert_eq!(b.chain.tip_hash(), side[1].block_hash());
    assert!(!b.chain.is_active(&old[0]));
}

#[test]
fn connect_then_disconnect_is_the_identity() {
    let mut b = Builder::new();
    let (coin, value) = b.mature_coin();
    let genesis = b.genesis();
    let tip = b.chain.tip_hash();
    let tx = spend(
        &[coin],
        vec![
            pay(units(7)),
            TxOut { amount: value.checked_sub(units(1007)).expect("small"), owner: PublicKey([4; 32]) },
        ],
        genesis,
    );
    let block = b.block_on(tip, vec![tx], units(1000));
    let height = b.chain.height() + 1;
    let mut utxos = b.chain.utxos().clone();
    let before = utxos.clone();
    let undo = connect_block(&block, height, &mut utxos, b.chain.params()).expect("valid");
    assert_ne!(utxos, before);
    assert_eq!(undo.spent.len(), 1);
    disconnect_block(&block, &undo, &mut utxos);
    assert_eq!(utxos, before);
}

#[test]
fn headers_first_fetches_the_blocks_of_the_best_header_chain() {
    let mut source = Builder::new();
    source.extend(30);
    let mut fresh = Chain::new(Params::regtest());
    let headers = source.chain.headers_after(&fresh.locator(), 20);
    assert_eq!(headers.len(), 20);
    for header in &headers {
        assert_eq!(fresh.accept_header(*header, NOW), Ok(true));
    }
    assert_eq!(fresh.accept_header(headers[0], NOW), Ok(false));
    assert_eq!(fresh.best_header(), BestHeader { hash: headers[19].block_hash(), height: 20 });
    assert_eq!(fresh.height(), 0);
    let missing = fresh.missing_blocks(5);
    assert_eq!(missing, headers[..5].iter().map(Header::block_hash).collect::<Vec<_>>());
    // A header whose parent is unknown is refused; so is one with the wrong bits.
    assert_eq!(
        fresh.accept_header(source.chain.headers_after(&[source.chain.hash_at(25).expect("h")], 1)[0], NOW).map(|_| ()),
        Err(BlockError::UnknownParent { parent: source.chain.hash_at(25).expect("h") })
    );
    let mut bad = source.chain.headers_after(&fresh.locator(), 100)[0];
    bad.bits = CompactTarget::from_consensus(0x207ffff0);
    assert!(matches!(fresh.accept_header(bad, NOW), Err(BlockError::Pow(_) | BlockError::WrongBits { .. })));
    // Fetch and connect: the locator then continues where the chain is.
    for hash in fresh.missing_blocks(100) {
        let block = source.chain.entry(&hash).expect("stored").block.clone();
        fresh.accept_block(block, NOW).expect("valid");
    }
    assert_eq!(fresh.height(), 20);
    let rest = source.chain.headers_after(&fresh.locator(), 2000);
    assert_eq!(rest.len(), 10);
    assert_eq!(rest[0].prev_blockhash, fresh.tip_hash());
}

#[test]
fn locators_are_dense_then_sparse_and_end_at_genesis() {
    let mut b = Builder::new();
    b.extend(100);
    let locator = b.chain.locator();
    let heights: Vec<u32> = locator.iter().map(|h| b.chain.entry(h).expect("active").height).collect();
    assert_eq!(&heights[..11], &[100, 99, 98, 97, 96, 95, 94, 93, 92, 91, 89]);
    assert_eq!(*heights.last().expect("non-empty"), 0);
    assert!(heights.windows(2).all(|w| w[0] > w[1]));
    assert!(locator.len() <= crate::message::LOCATOR_HASHES_MAX);
}

/// Regtest with room above its genesis target, so that easing shows in the bits.
fn roomy_regtest() -> Params {
    let mut params = Params::regtest();
    params.pow_limit = Target::MAX;
    if let DifficultyRule::Asert(asert) = &mut params.difficulty {
        asert.pow_limit = Target::MAX;
    }
    params
}

/// A child of the tip dated `time`, with the bits the rules ask for unless `bits` says otherwise.
fn child_at(chain: &Chain, time: u32, bits: Option<CompactTarget>) -> Block {
    let parent = chain.tip();
    let mut block = child_block(chain, parent, miner().public_key(), u64::from(time), time, vec![], Amount::ZERO)
        .expect("an empty block");
    if let Some(bits) = bits {
        block.header.bits = bits;
    }
    mine(block)
}

#[test]
fn the_schedule_is_anchored_at_block_one_not_at_genesis() {
    let mut chain = Chain::new(roomy_regtest());
    let genesis = *chain.tip().header();
    let a_day_late = genesis.time + 86_400;
    // Anchored at genesis, a day behind schedule would ease the target to the limit.
    let eased = Target::MAX.to_compact();
    let wrong = |found| BlockError::WrongBits { expected: genesis.bits, found };

    // Block 1 has the genesis bits, however late it comes.
    assert_eq!(chain.accept_block(child_at(&chain, a_day_late, Some(eased)), NOW), Err(wrong(eased)));
    let b1 = child_at(&chain, a_day_late, None);
    assert_eq!(b1.header.bits, genesis.bits);
    chain.accept_block(b1, NOW).expect("block 1");

    // Block 2, whose parent is block 1, is on schedule: the genesis bits again.
    assert_eq!(chain.accept_block(child_at(&chain, a_day_late + 300, Some(eased)), NOW), Err(wrong(eased)));
    chain.accept_block(child_at(&chain, a_day_late + 300, None), NOW).expect("block 2");

    // Block 2 came 290 s behind schedule, so block 3's target is 2^(290/600) times easier.
    let b3 = child_at(&chain, a_day_late + 310, None);
    let expected = chain.params().asert_next_bits(2, a_day_late + 300, a_day_late).expect("ASERT");
    assert_eq!(b3.header.bits, expected);
    let genesis_target = genesis.bits.to_target().expect("valid");
    let ratio = expected.to_target().expect("valid").difficulty(genesis_target);
    assert!((ratio - 2f64.powf(-290.0 / 600.0)).abs() < 1e-3, "genesis target / block 3's target = {ratio}");
    chain.accept_block(b3, NOW).expect("block 3");
}

#[test]
fn memory_keeps_only_the_recent_blocks_and_reorgs_stop_at_them() {
    let mut b = Builder::new();
    let genesis = b.genesis();
    let n = ACTIVE_BLOCKS_KEPT as usize + 40;
    // A side block beside block 2, stored while it was recent.
    b.extend(2);
    let fork = b.chain.hash_at(1).expect("block 1");
    let side = b.branch_on(fork, 1);
    let update = b.chain.accept_block(side[0].clone(), NOW).expect("a side block is stored");
    assert!(update.connected.is_empty(), "equal work: the first seen stays active");
    let hashes = b.extend(n);
    assert_eq!(b.chain.height() as usize, n + 2);
    // One more block triggers the eviction of everything below the window.
    b.extend(1);
    // Eviction runs as a block arrives, as of the tip before it.
    let kept_from = b.chain.height() - 1 - ACTIVE_BLOCKS_KEPT;
    assert_eq!(b.chain.kept_from_height(), kept_from);
    assert_eq!(b.chain.n_blocks_in_memory(), ACTIVE_BLOCKS_KEPT as usize + 2);
    assert_eq!(b.chain.n_blocks(), n + 4, "genesis and n + 3 blocks: evicted ones stay stored");
    assert!(b.chain.entry(&genesis).is_none() && b.chain.has_block(&genesis));
    assert!(b.chain.entry(&hashes[0]).is_none() && b.chain.has_block(&hashes[0]) && b.chain.is_active(&hashes[0]));
    assert!(b.chain.entry(&b.chain.tip_hash()).is_some());
    assert!(!b.chain.has_block(&side[0].block_hash()), "side blocks below the window are dropped");
    // The coins stay whole: the UTXO set holds every unspent coinbase.
    assert_eq!(b.chain.utxos().len(), b.chain.height() as usize);

    // A heavier branch forking just below the window would disconnect a block no longer in
    // memory: it stays stored but aside, and the tip does not move.
    let tip = b.chain.tip_hash();
    let fork_height = kept_from - 2;
    let fork_hash = b.chain.hash_at(fork_height).expect("active");
    let heavier = b.branch_on(fork_hash, (b.chain.height() - fork_height) as usize + 1);
    let last = heavier.last().expect("a branch").block_hash();
    let mut too_deep = Vec::new();
    for block in heavier {
        too_deep.extend(b.chain.accept_block(block, NOW).expect("valid blocks are stored").too_deep);
    }
    assert_eq!(too_deep, [last]);
    assert_eq!(b.chain.tip_hash(), tip);
    assert!(b.chain.has_block(&last));
}

/// Each block commits to the set its parent left: a reorg rebuilds the right sets, and a branch
/// whose first block commits to the old tip's set (a block copied across branches) fails there.
#[test]
fn commitments_follow_a_reorg_and_a_block_committing_to_another_branch_is_invalid() {
    let mut b = Builder::new();
    b.extend(6);
    let old_tip_commitment = b.chain.utxos().commitment();
    let fork = b.chain.hash_at(3).expect("active");

    let mut copied = b.block_on(fork, vec![], Amount::ZERO);
    let expected = crate::commitment::block_commitment(&copied).expect("a coinbase");
    copied.txs[0] = crate::commitment::with_commitment(copied.txs[0].clone(), old_tip_commitment);
    let copied = reroot(copied);
    let mut heavier = vec![copied.clone()];
    for i in 0..4 {
        // Descendants of the bad block, built without validating it.
        let parent = heavier.last().expect("the copied block first");
        let cb = coinbase(5 + i, units(1), miner().public_key(), 600 + u64::from(i), UtxoCommitment::ZERO);
        let (bits, time) = (parent.header.bits, parent.header.time + 10);
        heavier.push(mine(assemble_block(parent.block_hash(), bits, time, cb, vec![]).expect("not mutated")));
    }
    let mut invalid = Vec::new();
    for block in heavier {
        if let Ok(update) = b.chain.accept_block(block, NOW) {
            invalid.extend(update.invalid);
        }
    }
    let found = old_tip_commitment;
    assert_eq!(invalid, [(copied.block_hash(), BlockError::UtxoCommitment { expected, found })]);
    assert_eq!(b.chain.utxos().commitment(), old_tip_commitment, "the old tip stays");

    // An honest heavier branch: every block's commitment checks, and the set after the reorg
    // hashes as the same coins gathered from scratch.
    for block in b.branch_on(fork, 5) {
        b.chain.accept_block(block, NOW).expect("valid");
    }
    assert_eq!(b.chain.height(), 8);
    let rebuilt: UtxoSet = b.chain.utxos().iter().map(|(o, c)| (*o, *c)).collect();
    assert_eq!(b.chain.utxos().commitment(), rebuilt.commitment());
    assert_ne!(b.chain.utxos().commitment(), old_tip_commitment);
}
