//! The JavaScript-facing façade over `tabchain-core`.
//!
//! Every exported function is a few lines that delegate to `core`; this crate
//! owns only the translation between JavaScript values and core types, plus
//! the panic hook that makes a crash visible on the page (see [`panic`]).
//! Nothing here decides consensus: if a rule lives in this file it is a bug.
//! The mining workers load a bundle of their own, `tabchain-web-miner` (`web/miner`).

mod backup;
mod node;
mod panic;
mod qr;
mod resume;

pub use backup::{BACKUP_WORDS, key_to_words, words_to_key};
pub use node::TabNode;
pub use panic::{FATAL_HANDLER, report_crash};
pub use qr::qr_svg;
pub use resume::{PRUNE_KEEP_BLOCKS, TabCheckpoint, TabResume, prune_keep_blocks};

use tabchain_core::{HEADER_BYTES, Header};
use wasm_bindgen::prelude::*;

/// Runs once when the module is instantiated, before any export is called,
/// so that even a panic in the first call is reported on the page.
#[wasm_bindgen(start)]
fn start() {
    panic::install_hook();
}

/// The version of this build, so the page and bug reports can name it.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// How far this browser's clock (`local_now`) is from a relay's (`relay_now`), in seconds
/// (positive: ahead), when far enough that blocks mined here, or there, would be refused on the
/// other side; `undefined` when they agree well enough. The rule is core's.
#[wasm_bindgen]
pub fn clock_skew_s(network: &str, local_now: f64, relay_now: f64) -> Result<Option<f64>, JsError> {
    let network: tabchain_core::Network = network.parse().map_err(|e| JsError::new(&format!("{e}")))?;
    let skew = tabchain_core::explorer::clock_skew_s(&network.params(), local_now as u64, relay_now as u64);
    Ok(skew.map(|s| s as f64))
}

/// The hash of tabchain's genesis block, in the usual reversed-hex form.
#[wasm_bindgen]
pub fn genesis_hash() -> String {
    tabchain_core::Params::tabchain().genesis_hash().to_string()
}

/// Hashes a serialized 80-byte block header given as hex and returns its
/// block hash in reversed hex, as block explorers show it.
///
/// The input comes from the user, so a malformed one is an error for the
/// page to show, never a panic; its length is checked before decoding so a
/// pasted novel is refused without allocating for it.
#[wasm_bindgen]
pub fn sha256d_header_hex(header_hex: &str) -> Result<String, JsError> {
    const HEADER_HEX_CHARS: usize = 2 * HEADER_BYTES;
    let hex = header_hex.trim();
    if hex.len() != HEADER_HEX_CHARS {
        return Err(JsError::new(&format!(
            "a header is {HEADER_BYTES} bytes, {HEADER_HEX_CHARS} hex digits; got {} characters",
            hex.len()
        )));
    }
    let bytes = tabchain_core::hex::decode(hex).map_err(|err| JsError::new(&err.to_string()))?;
    let header =
        tabchain_core::decode::<Header>(&bytes).map_err(|err| JsError::new(&format!("invalid header: {err}")))?;
    Ok(header.block_hash().to_string())
}
