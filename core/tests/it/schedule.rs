//! The difficulty schedule over time: a network whose first block comes long after its genesis
//! block is on schedule from that first block. The simulation draws each block's discovery time
//! from the exponential distribution a constant hash rate gives at the block's target, with a
//! seeded PRNG, and dates each block by its miner's clock within the consensus rules.

use crate::sim::Rng;
use tabchain_core::{
    AsertAnchor, CompactTarget, DifficultyRule, MEDIAN_TIME_SPAN, Params, TABCHAIN_SPACING_S, asert_next_target,
    median_time_past,
};

const DAY_S: u32 = 86_400;
/// Simulated seconds the schedule is checked over.
const HOUR_S: f64 = 3_600.0;
/// Seeds simulated; each is one network.
const SEEDS: u64 = 20;
/// "A few seconds": how far past its miner's clock a block may be dated on schedule.
const CLOCK_SLACK_S: f64 = 2.0;

/// What a simulated hour produced.
struct Hour {
    /// Seconds between consecutive blocks after block 1, by block time.
    intervals: Vec<u32>,
    /// The furthest any block was dated past its miner's clock.
    most_ahead_s: f64,
}

/// How the next block's bits are chosen from the chain so far (times of blocks 0..=h).
type Rule = fn(&Params, &[u32]) -> CompactTarget;

/// The rule in force: ASERT anchored at block 1 (`Params::asert_next_bits`).
fn anchored_at_block_one(params: &Params, times: &[u32]) -> CompactTarget {
    let parent_height = (times.len() - 1) as u32;
    let block_one_time = times.get(1).copied().unwrap_or(0);
    params.asert_next_bits(parent_height, times[times.len() - 1], block_one_time).expect("an ASERT network")
}

/// The rule before it, for contrast: ASERT anchored at the genesis block.
fn anchored_at_genesis(params: &Params, times: &[u32]) -> CompactTarget {
    let DifficultyRule::Asert(asert) = params.difficulty else { panic!("an ASERT network") };
    let genesis = params.genesis_header();
    let anchor = AsertAnchor {
        height: 0,
        parent_time: i64::from(genesis.time) - TABCHAIN_SPACING_S,
        target: genesis.bits.to_target().expect("valid"),
    };
    let parent_height = (times.len() - 1) as u64;
    asert_next_target(&asert, &anchor, parent_height, i64::from(times[times.len() - 1])).to_compact()
}

/// The first simulated hour of a network that starts `late_s` after its genesis, mined at the
/// hash rate that meets the genesis target on schedule. Miners date a block by their clock, or
/// just past the median time past when that is later, and wait while that would be beyond the
/// future-time limit.
fn first_hour(rule: Rule, late_s: u32, seed: u64) -> Hour {
    let params = Params::tabchain();
    let genesis = params.genesis_header();
    let genesis_work = genesis.bits.to_target().expect("valid").work().to_f64();
    let hashes_per_s = genesis_work / TABCHAIN_SPACING_S as f64;
    let mut rng = Rng::new(seed);
    let start = f64::from(genesis.time + late_s);
    let mut clock = start;
    let mut times = vec![genesis.time];
    let mut most_ahead_s: f64 = 0.0;
    while clock < start + HOUR_S {
        let bits = rule(&params, &times);
        let expected_s = bits.to_target().expect("valid").work().to_f64() / hashes_per_s;
        // Exponential waiting time, from a uniform draw in (0, 1].
        let uniform = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        clock += -(1.0 - uniform).ln() * expected_s;
        let window = &times[times.len().saturating_sub(MEDIAN_TIME_SPAN)..];
        let mtp = median_time_past(window).expect("at least genesis");
        let time = (clock as u32).max(mtp + 1);
        clock = clock.max(f64::from(time) - f64::from(params.future_time_limit_s));
        most_ahead_s = most_ahead_s.max(f64::from(time) - clock);
        times.push(time);
    }
    Hour { intervals: times.windows(2).skip(1).map(|w| w[1].saturating_sub(w[0])).collect(), most_ahead_s }
}

fn median(mut values: Vec<u32>) -> f64 {
    values.sort_unstable();
    let n = values.len();
    if n % 2 == 1 { f64::from(values[n / 2]) } else { f64::from(values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

#[test]
fn a_network_started_30_days_after_its_genesis_is_on_schedule_from_its_first_block() {
    let spacing = TABCHAIN_SPACING_S as f64;
    for seed in 1..=SEEDS {
        let hour = first_hour(anchored_at_block_one, 30 * DAY_S, seed);
        let n_blocks = hour.intervals.len();
        let median = median(hour.intervals);
        assert!((0.5 * spacing..=2.0 * spacing).contains(&median), "seed {seed}: median {median} s, {n_blocks} blocks");
        assert!(hour.most_ahead_s <= CLOCK_SLACK_S, "seed {seed}: a block {} s past its clock", hour.most_ahead_s);
    }
}

#[test]
fn anchored_at_genesis_the_same_network_runs_at_the_easiest_target() {
    // What the rule fixes: 30 days behind schedule, blocks come as fast as timestamps allow,
    // and miners wait on the future-time limit.
    for seed in 1..=3 {
        let hour = first_hour(anchored_at_genesis, 30 * DAY_S, seed);
        assert!(median(hour.intervals) < 1.0, "seed {seed}");
        assert!(hour.most_ahead_s > 100.0, "seed {seed}: blocks ran {} s ahead of the clock", hour.most_ahead_s);
    }
}
