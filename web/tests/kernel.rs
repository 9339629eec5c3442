//! Checks, inside headless Chromium, that the wasm build of the mining kernel (SIMD128, four
//! nonces at once) finds exactly the nonces a plain search with `Header::block_hash` finds, and
//! the nonce of Bitcoin's genesis block. A kernel that missed or invented a nonce would waste a
//! tab's work or have its blocks rejected.
#![cfg(target_arch = "wasm32")]

use tabchain_core::{
    BlockHash, CompactTarget, Header, MerkleRoot, MiningJob, SearchResult, Target, U256, search, search_portable,
    simd_available,
};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const BITCOIN_HEADERS: &str = include_str!("../../core/tests/data/bitcoin-retarget-headers.txt");
const BITCOIN_GENESIS_NONCE: u32 = 2083236893;
const N_HEADERS: u32 = 300;

/// SplitMix64: deterministic pseudo-random numbers, so a failure can be replayed.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u32) -> u32 {
        (self.next() % u64::from(n)) as u32
    }

    fn bytes(&mut self) -> [u8; 32] {
        let mut out = [0; 32];
        for chunk in out.chunks_exact_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes());
        }
        out
    }
}

/// The plain search the kernel must agree with.
fn reference(header: &Header, target: Target, start: u32, count: u32) -> SearchResult {
    let mut hashes = 0;
    for nonce in (0..count).map_while(|i| start.checked_add(i)) {
        hashes += 1;
        if target.is_met_by(Header { nonce, ..*header }.block_hash()) {
            return SearchResult { nonce: Some(nonce), hashes };
        }
    }
    SearchResult { nonce: None, hashes }
}

#[wasm_bindgen_test]
fn the_wasm_build_uses_simd128() {
    assert!(simd_available(), "build the wasm tests with -C target-feature=+simd128 (.cargo/config.toml)");
}

#[wasm_bindgen_test]
fn kernel_finds_the_nonces_a_plain_search_finds() {
    let mut rng = SplitMix(6);
    for case in 0..N_HEADERS {
        let header = Header {
            version: rng.next() as i32,
            prev_blockhash: BlockHash::from_byte_array(rng.bytes()),
            merkle_root: MerkleRoot::from_byte_array(rng.bytes()),
            time: rng.next() as u32,
            bits: CompactTarget::from_consensus(0x207fffff),
            nonce: 0,
        };
        // Met by one hash in 1 to 512, and every tenth case by none.
        let target = match case % 10 {
            0 => Target::from_u256(U256::ONE),
            _ => Target::from_u256(U256::from_le_bytes(rng.bytes()) >> rng.below(10)),
        };
        // Every third range ends at u32::MAX, cut there.
        let start = match case % 3 {
            0 => u32::MAX - rng.below(64),
            _ => rng.next() as u32,
        };
        let count = rng.below(256);
        let job = MiningJob::with_target(&header, target);
        let expected = reference(&header, target, start, count);
        assert_eq!(search(&job, start, count), expected, "case {case}: SIMD from {start} for {count}");
        assert_eq!(search_portable(&job, start, count), expected, "case {case}: portable from {start} for {count}");
    }
}

#[wasm_bindgen_test]
fn kernel_finds_the_bitcoin_genesis_nonce() {
    let first = BITCOIN_HEADERS.lines().next().expect("a header line");
    let (_, header_hex) = first.split_once(' ').expect("`HEIGHT HEX`");
    let bytes = tabchain_core::hex::decode_array::<80>(header_hex).expect("80 bytes of hex");
    let job = MiningJob::new(&Header::from_bytes(&bytes)).expect("a valid target");
    let found = search(&job, BITCOIN_GENESIS_NONCE - 1000, 2000);
    assert_eq!(found, SearchResult { nonce: Some(BITCOIN_GENESIS_NONCE), hashes: 1001 });
    assert_eq!(search_portable(&job, BITCOIN_GENESIS_NONCE - 1000, 2000), found);
}
