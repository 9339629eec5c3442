//! The tab's checkpoint at the wasm boundary. `TabCheckpoint` is a checkpoint being taken, whose
//! records `TabNode::checkpoint_record` makes one at a time, each copied out of wasm memory
//! (which never shrinks) as it is made. `TabResume` takes a stored checkpoint and the change sets stored after it back, one
//! call per record or set so that the page can yield to its event loop between calls, and
//! finishes into a `TabNode` (core's `NodeResume`: nothing is validated again).

use crate::node::{TabNode, USER_AGENT, error};
use tabchain_core::{ACTIVE_BLOCKS_KEPT, Network, NodeCheckpoint, NodeResume, ResumeError, SecretKey, hex};
use wasm_bindgen::prelude::*;

/// Blocks whose bodies a tab keeps (in memory, and in its checkpoint): exactly the node's
/// `ACTIVE_BLOCKS_KEPT`, the deepest reorg it can follow. Keeping more would let no deeper reorg
/// through (the node has no undo data below its window) and only grow the store; the tab shows
/// older blocks by fetching and verifying them (`TabNode::fetched_block`).
pub const PRUNE_KEEP_BLOCKS: u32 = ACTIVE_BLOCKS_KEPT;

/// `PRUNE_KEEP_BLOCKS`, for the page and its tests.
#[wasm_bindgen]
pub fn prune_keep_blocks() -> u32 {
    PRUNE_KEEP_BLOCKS
}

/// The JavaScript error a stored state that cannot be resumed becomes: `name` is
/// "ResumeError", the message core's sentence.
fn resume_error(e: ResumeError) -> JsValue {
    let error = js_sys::Error::new(&e.to_string());
    error.set_name("ResumeError");
    error.into()
}

/// A node's checkpoint being taken, one record at a time (`TabNode::checkpoint_record`): each is
/// made when asked for and copied out, so wasm memory (which never shrinks) holds one record,
/// not the whole checkpoint.
#[wasm_bindgen]
#[derive(Debug)]
pub struct TabCheckpoint {
    pub(crate) cursor: NodeCheckpoint,
}

/// A tab's node being resumed from its store: `push_record` for each checkpoint record in order,
/// `apply_change_set` for each change set stored after it in order, then `finish`. A store that
/// does not fit throws an error named "ResumeError" saying what is wrong.
#[wasm_bindgen]
#[derive(Debug)]
pub struct TabResume {
    resume: NodeResume,
}

#[wasm_bindgen]
impl TabResume {
    /// Starts from the genesis block of `network` ("tabchain" or "regtest").
    #[wasm_bindgen(constructor)]
    pub fn new(network: &str) -> Result<TabResume, JsError> {
        let network: Network = network.parse().map_err(error)?;
        Ok(TabResume { resume: NodeResume::new(network.params()) })
    }

    pub fn push_record(&mut self, bytes: &[u8]) -> Result<(), JsValue> {
        self.resume.push_record(bytes).map_err(resume_error)
    }

    pub fn apply_change_set(&mut self, bytes: &[u8]) -> Result<(), JsValue> {
        self.resume.apply_change_set(bytes).map_err(resume_error)
    }

    /// The resumed node, with the wallet of the 32-byte secret `seed_hex` (its history below the
    /// kept window restored if the checkpoint was stored for the same key).
    pub fn finish(self, seed_hex: &str) -> Result<TabNode, JsValue> {
        let seed = hex::decode_array::<32>(seed_hex).map_err(|e| JsValue::from(error(e)))?;
        let node = self.resume.finish(USER_AGENT, Some(SecretKey::from_bytes(&seed))).map_err(resume_error)?;
        Ok(TabNode::from_node(node))
    }
}
