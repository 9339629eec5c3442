//! The published `aserti3-2d` conformance vectors, reproduced line by line.

use crate::data;
use tabchain_core::{AsertAnchor, AsertParams, CompactTarget, asert_next_target};

struct Run {
    anchor: AsertAnchor,
    /// (height, time, expected next bits)
    lines: Vec<(u64, i64, u32)>,
}

fn header_value<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find_map(|line| line.trim_start_matches('#').trim().strip_prefix(key))
        .map(|rest| rest.trim_start_matches(':').trim())
        .unwrap_or_else(|| panic!("no {key} in the run's header"))
}

fn load(name: &str) -> Run {
    let text = data::read(&format!("asert/{name}"));
    let anchor = AsertAnchor {
        height: header_value(&text, "anchor height").parse().expect("height"),
        parent_time: header_value(&text, "anchor ancestor time").parse().expect("time"),
        target: CompactTarget::from_consensus(data::parse_hex_u32(header_value(&text, "anchor nBits")))
            .to_target()
            .expect("valid anchor"),
    };
    let lines = data::records(&text)
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(fields.len(), 4, "{line}");
            (fields[1].parse().expect("height"), fields[2].parse().expect("time"), data::parse_hex_u32(fields[3]))
        })
        .collect();
    Run { anchor, lines }
}

#[test]
fn every_vector_line_is_reproduced() {
    let params = AsertParams {
        target_spacing_s: 600,
        half_life_s: 172_800,
        pow_limit: CompactTarget::from_consensus(0x1d00ffff).to_target().expect("valid"),
    };
    let mut checked = 0;
    for name in ["run01", "run02", "run03", "run04", "run05", "run09"] {
        let run = load(name);
        assert!(!run.lines.is_empty(), "{name}");
        for &(height, time, expected) in &run.lines {
            let got = asert_next_target(&params, &run.anchor, height, time).to_compact().to_consensus();
            assert_eq!(
                got, expected,
                "{name}: height {height} time {time}: got {got:#010x}, expected {expected:#010x}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 10 + 10 + 10 + 225 + 225 + 10);
}
