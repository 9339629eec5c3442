//! Loading the test data files in `core/tests/data`, copied from `../shared/testdata` so the
//! repository stands alone. `vectors.rs` parses and checks them.

use std::path::PathBuf;

pub fn read(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}
