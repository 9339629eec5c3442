//! A checkpoint record (what a pruned tab stores and reads back at reload), pushed into a node
//! being resumed and the node finished: never panics; a record the store could not have written
//! is refused with a typed `ResumeError`, and whatever is accepted finishes into a node or a
//! typed error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tabchain_core::{NodeResume, Params};

fuzz_target!(|data: &[u8]| {
    let mut resume = NodeResume::new(Params::regtest());
    if resume.push_record(data).is_ok() {
        if let Ok(node) = resume.finish("fuzz", None) {
            // A node that finished answers for its tip.
            let _ = node.chain().tip().height;
        }
    }
});
