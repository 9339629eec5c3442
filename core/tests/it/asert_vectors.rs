//! The published `aserti3-2d` conformance vectors, reproduced line by line.

use crate::{data, vectors};

#[test]
fn every_vector_line_is_reproduced() {
    for (name, n_lines) in vectors::ASERT_RUNS {
        assert_eq!(vectors::check_asert_run(name, &data::read(&format!("asert/{name}"))), n_lines, "{name}");
    }
}
