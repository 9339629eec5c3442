//! The kernel against the plain answer: every nonce of the range hashed with
//! `Header::block_hash` and checked with `Target::is_met_by`, on every engine this build has.

use super::*;
use crate::hash::{BlockHash, MerkleRoot};
use crate::target::CompactTarget;
use crate::uint::U256;
use proptest::prelude::*;

/// The first line of the Bitcoin headers file: height 0, the genesis header.
const BITCOIN_HEADERS: &str = include_str!("../tests/data/bitcoin-retarget-headers.txt");
const BITCOIN_GENESIS_NONCE: u32 = 2083236893;

fn header(version: i32, prev: [u8; 32], merkle: [u8; 32], time: u32) -> Header {
    Header {
        version,
        prev_blockhash: BlockHash::from_byte_array(prev),
        merkle_root: MerkleRoot::from_byte_array(merkle),
        time,
        bits: CompactTarget::from_consensus(0x207fffff),
        nonce: 0,
    }
}

/// The plain search the kernel must agree with.
fn reference(job: &MiningJob, start: u32, count: u32) -> SearchResult {
    let mut hashes = 0;
    for nonce in (0..count).map_while(|i| start.checked_add(i)) {
        hashes += 1;
        if job.target.is_met_by(Header { nonce, ..job.header }.block_hash()) {
            return SearchResult { nonce: Some(nonce), hashes };
        }
    }
    SearchResult { nonce: None, hashes }
}

fn check(job: &MiningJob, start: u32, count: u32) -> Result<(), TestCaseError> {
    let expected = reference(job, start, count);
    for &engine in Engine::ALL {
        prop_assert_eq!(search_with(engine, job, start, count), expected, "{:?} from {} for {}", engine, start, count);
    }
    prop_assert_eq!(search(job, start, count), expected);
    Ok(())
}

/// The hash of `header` with `nonce`, as the number a target is compared with.
fn hash_value(header: &Header, nonce: u32) -> U256 {
    U256::from_le_bytes(Header { nonce, ..*header }.block_hash().to_byte_array())
}

fn any_header() -> impl Strategy<Value = Header> {
    (any::<i32>(), any::<[u8; 32]>(), any::<[u8; 32]>(), any::<u32>())
        .prop_map(|(version, prev, merkle, time)| header(version, prev, merkle, time))
}

/// Targets met by one hash in 1 to about 4,000.
fn easy_target() -> impl Strategy<Value = Target> {
    (any::<[u8; 32]>(), 0..12u32).prop_map(|(bytes, shift)| Target::from_u256(U256::from_le_bytes(bytes) >> shift))
}

/// Range starts anywhere, and often close enough to `u32::MAX` that the range is cut there.
fn any_start() -> impl Strategy<Value = u32> {
    prop_oneof![any::<u32>(), (0..3000u32).prop_map(|back| u32::MAX - back)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn finds_the_first_nonce_a_plain_search_finds(
        header in any_header(), target in easy_target(), start in any_start(), count in 0..2500u32,
    ) {
        check(&MiningJob::with_target(&header, target), start, count)?;
    }

    /// A target equal to a hash's value is met by it and one less is not: the top words are
    /// equal, so only the full comparison after the early reject decides.
    #[test]
    fn decides_equal_top_words_by_the_full_comparison(header in any_header(), nonce in any::<u32>()) {
        let value = hash_value(&header, nonce);
        let exact = MiningJob::with_target(&header, Target::from_u256(value));
        check(&exact, nonce, 1)?;
        prop_assert_eq!(search(&exact, nonce, 1).nonce, Some(nonce));
        let below = value.checked_sub(U256::ONE).expect("no hash is zero");
        let missed = MiningJob::with_target(&header, Target::from_u256(below));
        prop_assert_eq!(search(&missed, nonce, 1), SearchResult { nonce: None, hashes: 1 });
        check(&exact, nonce.saturating_sub(5), 11)?;
    }
}

#[test]
fn an_empty_range_hashes_nothing() {
    let job = MiningJob::with_target(&header(1, [1; 32], [2; 32], 3), Target::MAX);
    for start in [0, 7, u32::MAX] {
        check(&job, start, 0).expect("agrees");
        assert_eq!(search(&job, start, 0), SearchResult { nonce: None, hashes: 0 });
    }
}

#[test]
fn ranges_stop_at_the_last_nonce() {
    let none = MiningJob::with_target(&header(1, [1; 32], [2; 32], 3), Target::from_u256(U256::ONE));
    let all = MiningJob::with_target(&header(1, [1; 32], [2; 32], 3), Target::MAX);
    for (start, count, hashes) in [(u32::MAX, 1, 1), (u32::MAX, u32::MAX, 1), (u32::MAX - 6, 100, 7), (0, 4099, 4099)] {
        assert_eq!(search(&none, start, count), SearchResult { nonce: None, hashes }, "from {start} for {count}");
        check(&none, start, count).expect("agrees");
        assert_eq!(search(&all, start, count), SearchResult { nonce: Some(start), hashes: 1 });
    }
}

#[test]
fn a_job_needs_a_usable_target() {
    let mut h = header(1, [1; 32], [2; 32], 3);
    h.bits = CompactTarget::from_consensus(0);
    assert_eq!(MiningJob::new(&h).map(|_| ()), Err(CompactTargetError::Zero));
    h.bits = CompactTarget::from_consensus(0x01810000);
    assert_eq!(MiningJob::new(&h).map(|_| ()), Err(CompactTargetError::Negative));
}

#[test]
fn finds_the_bitcoin_genesis_nonce() {
    let line = BITCOIN_HEADERS.lines().next().expect("a first line");
    let hex = line.split_whitespace().nth(1).expect("height then header");
    let genesis = Header::from_bytes(&crate::hex::decode_array::<80>(hex).expect("80 bytes of hex"));
    assert_eq!(genesis.nonce, BITCOIN_GENESIS_NONCE);
    let job = MiningJob::new(&genesis).expect("a valid target");
    let expected = SearchResult { nonce: Some(BITCOIN_GENESIS_NONCE), hashes: 1001 };
    for &engine in Engine::ALL {
        assert_eq!(search_with(engine, &job, BITCOIN_GENESIS_NONCE - 1000, 2000), expected, "{engine:?}");
    }
    assert_eq!(search(&job, BITCOIN_GENESIS_NONCE - 1000, 2000), expected);
    let before = search(&job, BITCOIN_GENESIS_NONCE - 1000, 1000);
    assert_eq!(before, SearchResult { nonce: None, hashes: 1000 });
}

#[test]
fn midstate_is_sha256_of_the_first_block() {
    // SHA-256 of 64 bytes is the compression of the block and then of the padding block.
    let block = [0x61; 64];
    let mut padding = [0; 64];
    padding[0] = 0x80;
    padding[62] = 0x02;
    let state =
        sha256::compress(sha256::compress(sha256::IV, sha256::block_words(&block)), sha256::block_words(&padding));
    let digest: alloc::vec::Vec<u8> = state.iter().flat_map(|w| w.to_be_bytes()).collect();
    assert_eq!(digest, crate::hash::sha256(&block));
}
