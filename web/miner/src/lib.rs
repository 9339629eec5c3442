//! The miner's face for Web Workers: a job built once per header (midstate), searched in
//! batches, so a worker can report its hash rate and see a cancellation between batches.
//!
//! A bundle of its own (`tabchain_web_miner` beside `tabchain_web` in `www/pkg` and
//! `www/pkg-scalar`): the kernel is about 78 KiB of unrolled SHA-256 that the page's main thread
//! never runs, and a worker starts sooner on this small module than on the node's.

// The page's panic hook, compiled here too: a worker has no `tabchainFatal` to show it, so a
// panic goes to the console, where the worker's error event also points.
#[path = "../../src/panic.rs"]
mod panic;

use tabchain_core::{HEADER_BYTES, Header, MiningJob, Target, U256, decode, hex};
use wasm_bindgen::prelude::*;

/// Runs once when the module is instantiated, so that a panic in the first call is reported.
#[wasm_bindgen(start)]
fn start() {
    panic::install_hook();
}

/// One mining job: an 80-byte header whose nonce varies.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Miner {
    job: MiningJob,
}

#[wasm_bindgen]
impl Miner {
    /// A job for `header_hex` (160 hex digits) against the target its `bits` encode, or, when
    /// `target_hex` (64 hex digits, big-endian) is given, against that target instead.
    #[wasm_bindgen(constructor)]
    pub fn new(header_hex: &str, target_hex: Option<String>) -> Result<Miner, JsError> {
        let bytes = hex::decode(header_hex.trim()).map_err(|e| JsError::new(&e.to_string()))?;
        if bytes.len() != HEADER_BYTES {
            return Err(JsError::new(&format!("a header is {HEADER_BYTES} bytes, got {}", bytes.len())));
        }
        let header: Header = decode(&bytes).map_err(|e| JsError::new(&e.to_string()))?;
        let job = match target_hex {
            Some(text) => {
                let be = hex::decode_array::<32>(text.trim()).map_err(|e| JsError::new(&e.to_string()))?;
                MiningJob::with_target(&header, Target::from_u256(U256::from_be_bytes(be)))
            }
            None => MiningJob::new(&header).map_err(|e| JsError::new(&e.to_string()))?,
        };
        Ok(Miner { job })
    }

    /// Searches `count` nonces from `start`; returns the first that meets the target as a
    /// number, or -1 when none does. `hashes_tried` then tells how many were hashed.
    pub fn search(&self, start: u32, count: u32) -> SearchOutcome {
        let result = tabchain_core::search(&self.job, start, count);
        SearchOutcome { nonce: result.nonce.map_or(-1.0, f64::from), hashes: result.hashes as f64 }
    }

    /// The same search without SIMD, one nonce at a time (for comparison and as the fallback).
    pub fn search_portable(&self, start: u32, count: u32) -> SearchOutcome {
        let result = tabchain_core::search_portable(&self.job, start, count);
        SearchOutcome { nonce: result.nonce.map_or(-1.0, f64::from), hashes: result.hashes as f64 }
    }
}

/// What one batch found.
#[wasm_bindgen]
#[derive(Debug, Clone, Copy)]
pub struct SearchOutcome {
    /// The nonce found, or -1.
    pub nonce: f64,
    /// Hashes computed.
    pub hashes: f64,
}

/// Whether this build hashes with SIMD128.
#[wasm_bindgen]
pub fn miner_simd() -> bool {
    tabchain_core::simd_available()
}

/// The reference the kernel is measured against: `count` plain SHA-256d of the 80-byte header
/// (the `sha2` crate compiled to wasm), nonce by nonce. Returns a checksum of the hashes, so
/// that the work cannot be optimised away.
#[wasm_bindgen]
pub fn hash_plain(header_hex: &str, count: u32) -> Result<u8, JsError> {
    let bytes = hex::decode(header_hex.trim()).map_err(|e| JsError::new(&e.to_string()))?;
    let mut header: Header = decode(&bytes).map_err(|e| JsError::new(&e.to_string()))?;
    let mut acc = 0u8;
    for nonce in 0..count {
        header.nonce = nonce;
        acc ^= header.block_hash().to_byte_array()[0];
    }
    Ok(acc)
}
