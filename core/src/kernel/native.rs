//! The native engine: `sha2`'s compression function, which runs on the CPU's SHA instructions
//! when it has them (and picks them at run time), fed the same midstate and fixed words as the
//! portable kernel.

use super::header_hash::{DIGEST_BITS, HEADER_BITS};
use super::sha256::IV;
use super::{MiningJob, SearchResult, scan};
use sha2::compress256;
use sha2::digest::generic_array::GenericArray;

/// Where the nonce sits in the header's second block.
const NONCE_AT: usize = 12;

pub(super) fn search(job: &MiningJob, first: u32, last: u32) -> SearchResult {
    let mut block = [0; 64];
    for (chunk, word) in block.chunks_exact_mut(4).zip(job.fixed.tail()) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    block[16] = 0x80;
    block[60..].copy_from_slice(&HEADER_BITS.to_be_bytes());
    let mut digest_block = [0; 64];
    digest_block[32] = 0x80;
    digest_block[60..].copy_from_slice(&DIGEST_BITS.to_be_bytes());
    let midstate = job.fixed.midstate();
    scan(job, first, last, |nonce| {
        block[NONCE_AT..NONCE_AT + 4].copy_from_slice(&nonce.to_le_bytes());
        let mut state = midstate;
        compress256(&mut state, &[GenericArray::from(block)]);
        for (chunk, word) in digest_block.chunks_exact_mut(4).zip(state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        let mut state = IV;
        compress256(&mut state, &[GenericArray::from(digest_block)]);
        state[7]
    })
}
