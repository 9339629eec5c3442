//! Network parameters: Bitcoin's (for checking real headers), tabchain's main network, and an
//! easy regression-test network, each with its hard-coded genesis.

use crate::amount::{Amount, COIN};
use crate::asert::{AsertAnchor, AsertParams, asert_next_target};
use crate::block::Block;
use crate::hash::{BlockHash, MerkleRoot};
use crate::header::Header;
use crate::merkle::merkle_root;
use crate::retarget::RetargetParams;
use crate::signature::{PublicKey, Signature};
use crate::target::{CompactTarget, Target, Work};
use crate::transaction::{OutPoint, Transaction, TxIn, TxOut};
use crate::uint::U256;
use alloc::vec;
use core::ops::Shr as _;

/// Which network a set of parameters describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Network {
    /// Bitcoin's main network: header checks only (its transactions are not tabchain's).
    Bitcoin,
    /// tabchain's main network.
    Tabchain,
    /// A private test network where blocks are nearly free to mine.
    Regtest,
}

impl Network {
    /// The networks a node can run (Bitcoin's parameters serve only to check its headers).
    pub const RUNNABLE: [Network; 2] = [Network::Tabchain, Network::Regtest];

    /// The network's one name: on the command line, in the HTTP API, and in the page.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Bitcoin => "bitcoin",
            Self::Tabchain => "tabchain",
            Self::Regtest => "regtest",
        }
    }

    pub fn params(self) -> Params {
        match self {
            Self::Bitcoin => Params::bitcoin(),
            Self::Tabchain => Params::tabchain(),
            Self::Regtest => Params::regtest(),
        }
    }
}

impl core::fmt::Display for Network {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// A network name that is not one of `Network::RUNNABLE`'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownNetwork;

impl core::fmt::Display for UnknownNetwork {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("unknown network; expected one of:")?;
        for network in Network::RUNNABLE {
            write!(f, " {network}")?;
        }
        Ok(())
    }
}

impl core::str::FromStr for Network {
    type Err = UnknownNetwork;

    /// Parses the name of a network a node can run.
    fn from_str(name: &str) -> Result<Self, UnknownNetwork> {
        Network::RUNNABLE.into_iter().find(|n| n.name() == name).ok_or(UnknownNetwork)
    }
}

/// How the target of the next block is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DifficultyRule {
    /// Bitcoin's: recomputed every `interval_blocks` blocks.
    Retarget(RetargetParams),
    /// ASERT (`aserti3-2d`), anchored at the genesis block.
    Asert(AsertParams),
}

/// Everything that differs between networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    pub network: Network,
    /// Prefix of addresses on this network.
    pub address_hrp: &'static str,
    /// The easiest target a block may have.
    pub pow_limit: Target,
    pub difficulty: DifficultyRule,
    /// How far past the validating node's clock a block's time may be.
    pub future_time_limit_s: u32,
    /// Blocks a coinbase output must wait before it can be spent.
    pub coinbase_maturity: u32,
    /// The subsidy of the first blocks, halved every `halving_interval_blocks`.
    pub subsidy_initial: Amount,
    pub halving_interval_blocks: u32,
    /// The chain work below which a node's chain counts as still syncing, and below which it
    /// stores no header chain it has not first checked, without storing it, to reach this much
    /// work (headers presync, `node/presync.rs`): Bitcoin's `nMinimumChainWork`. A release sets
    /// it to the network's chain work at release time. It is zero on every network for now:
    /// above a young network's real work, it would make that network unsyncable.
    pub minimum_chain_work: Work,
    genesis: GenesisSpec,
}

/// The fields that make a genesis block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct GenesisSpec {
    time: u32,
    bits: CompactTarget,
    nonce: u32,
    /// Free text in the coinbase's signature slot, or `None` for Bitcoin's genesis, whose
    /// coinbase cannot be written in tabchain's format (its header is stored whole instead).
    message: Option<&'static [u8; 64]>,
}

/// tabchain's intended time between blocks.
pub const TABCHAIN_SPACING_S: i64 = 10;
/// tabchain's ASERT half-life: one hour behind schedule doubles the target... in ten minutes.
pub const TABCHAIN_HALF_LIFE_S: i64 = 600;
/// How far ahead of a node's clock a tabchain block may be dated. With the half-life above,
/// lying about time eases difficulty by at most 2^(120/600) ≈ 1.149× (see docs/protocol.md).
pub const TABCHAIN_FUTURE_TIME_LIMIT_S: u32 = 120;
/// Halvings after which the subsidy is zero (the shift would drop every bit of it).
const HALVINGS_MAX: u32 = 64;

const TABCHAIN_GENESIS_MESSAGE: &[u8; 64] = b"tabchain 2026-11-24: a full node in every browser tab, no server";
const REGTEST_GENESIS_MESSAGE: &[u8; 64] = b"tabchain regtest: free blocks, worthless coins, for tests only. ";
const BITCOIN_GENESIS_MERKLE_ROOT: [u8; 32] = [
    0x3b, 0xa3, 0xed, 0xfd, 0x7a, 0x7b, 0x12, 0xb2, 0x7a, 0xc7, 0x2c, 0x3e, 0x67, 0x76, 0x8f, 0x61, 0x7f, 0xc8, 0x1b,
    0xc3, 0x88, 0x8a, 0x51, 0x32, 0x3a, 0x9f, 0xb8, 0xaa, 0x4b, 0x1e, 0x5e, 0x4a,
];

impl Params {
    /// The time the difficulty rule aims for between blocks, in seconds.
    pub fn target_spacing_s(&self) -> f64 {
        match self.difficulty {
            DifficultyRule::Asert(asert) => asert.target_spacing_s as f64,
            DifficultyRule::Retarget(retarget) => retarget.timespan_s as f64 / f64::from(retarget.interval_blocks),
        }
    }

    /// Bitcoin's main network, for checking real Bitcoin headers.
    pub fn bitcoin() -> Self {
        let pow_limit = Target::from_u256(U256::MAX.shr(32));
        Self {
            network: Network::Bitcoin,
            address_hrp: "bc",
            pow_limit,
            difficulty: DifficultyRule::Retarget(RetargetParams {
                interval_blocks: 2016,
                timespan_s: 14 * 24 * 3600,
                pow_limit,
            }),
            future_time_limit_s: 2 * 3600,
            coinbase_maturity: 100,
            subsidy_initial: Amount::from_units(50 * COIN).expect("50 BTC is below MAX_MONEY"),
            halving_interval_blocks: 210_000,
            // Bitcoin's parameters only check headers; no node syncs with them.
            minimum_chain_work: Work::ZERO,
            genesis: GenesisSpec {
                time: 1_231_006_505,
                bits: CompactTarget::from_consensus(0x1d00ffff),
                nonce: 2_083_236_893,
                message: None,
            },
        }
    }

    /// tabchain's main network: ten-second blocks whose difficulty follows hash rate by ASERT.
    pub fn tabchain() -> Self {
        let pow_limit = CompactTarget::from_consensus(0x1f00ffff).to_target().expect("constant is a valid target");
        Self {
            network: Network::Tabchain,
            address_hrp: "tab",
            pow_limit,
            difficulty: DifficultyRule::Asert(AsertParams {
                target_spacing_s: TABCHAIN_SPACING_S,
                half_life_s: TABCHAIN_HALF_LIFE_S,
                pow_limit,
            }),
            future_time_limit_s: TABCHAIN_FUTURE_TIME_LIMIT_S,
            coinbase_maturity: 10,
            subsidy_initial: Amount::from_units(50 * COIN).expect("50 TAB is below MAX_MONEY"),
            halving_interval_blocks: 210_000,
            // Zero until a release knows the network's work (see the field).
            minimum_chain_work: Work::ZERO,
            genesis: GenesisSpec {
                time: 1_795_478_400, // 2026-11-24T00:00:00Z
                bits: CompactTarget::from_consensus(0x1e00ffff),
                nonce: TABCHAIN_GENESIS_NONCE,
                message: Some(TABCHAIN_GENESIS_MESSAGE),
            },
        }
    }

    /// A test network with tabchain's rules and a target nearly every hash meets.
    pub fn regtest() -> Self {
        let pow_limit = CompactTarget::from_consensus(0x207fffff).to_target().expect("constant is a valid target");
        Self {
            network: Network::Regtest,
            address_hrp: "tabrt",
            pow_limit,
            difficulty: DifficultyRule::Asert(AsertParams { pow_limit, ..tabchain_asert() }),
            genesis: GenesisSpec {
                // The date no longer matters to difficulty (ASERT is anchored at block 1, so a
                // chain started any time after genesis is on schedule). It stays in the past by
                // a margin only because forged test chains date block n at genesis + n spacings,
                // and those must not be dated ahead of the clock.
                time: 1_767_225_600, // 2026-01-01T00:00:00Z
                bits: pow_limit.to_compact(),
                nonce: REGTEST_GENESIS_NONCE,
                message: Some(REGTEST_GENESIS_MESSAGE),
            },
            ..Self::tabchain()
        }
    }

    /// The genesis block's header.
    pub fn genesis_header(&self) -> Header {
        let merkle_root = match self.genesis_coinbase() {
            Some(coinbase) => merkle_root(&[coinbase.txid()]).expect("one leaf is never mutated"),
            None => MerkleRoot::from_byte_array(BITCOIN_GENESIS_MERKLE_ROOT),
        };
        Header {
            version: 1,
            prev_blockhash: BlockHash::ZERO,
            merkle_root,
            time: self.genesis.time,
            bits: self.genesis.bits,
            nonce: self.genesis.nonce,
        }
    }

    pub fn genesis_hash(&self) -> BlockHash {
        self.genesis_header().block_hash()
    }

    /// The whole genesis block; `None` for Bitcoin (see [`Network::Bitcoin`]).
    pub fn genesis_block(&self) -> Option<Block> {
        let coinbase = self.genesis_coinbase()?;
        Some(Block { header: self.genesis_header(), txs: vec![coinbase] })
    }

    /// The genesis coinbase pays to an all-zero key, a point of small order that
    /// `verify_strict` refuses as a signer: its coins can never be spent.
    fn genesis_coinbase(&self) -> Option<Transaction> {
        let message = self.genesis.message?;
        Some(Transaction {
            version: Transaction::VERSION,
            inputs: vec![TxIn { prev_out: OutPoint::coinbase(0), signature: Signature(*message) }],
            outputs: vec![TxOut { amount: self.subsidy_initial, owner: PublicKey([0; 32]) }],
        })
    }

    /// Where ASERT measures a branch's schedule from: its block 1, whose (notional) parent is
    /// dated one spacing before block 1's own time `block_one_time`, with the genesis target.
    /// So a network is on schedule from its first block, whenever that is mined, however old
    /// its genesis block (see docs/protocol.md, "Difficulty").
    pub fn asert_anchor(&self, block_one_time: u32) -> Option<AsertAnchor> {
        let DifficultyRule::Asert(asert) = self.difficulty else { return None };
        Some(AsertAnchor {
            height: 1,
            parent_time: i64::from(block_one_time) - asert.target_spacing_s,
            target: self.genesis.bits.to_target().expect("genesis bits are valid"),
        })
    }

    /// The bits the child of a block at `parent_height`, dated `parent_time`, must have on an
    /// ASERT network, on a branch whose block 1 is dated `block_one_time` (unused when the
    /// parent is the genesis block: block 1 has the genesis bits). `None` for other rules.
    pub fn asert_next_bits(&self, parent_height: u32, parent_time: u32, block_one_time: u32) -> Option<CompactTarget> {
        let DifficultyRule::Asert(asert) = self.difficulty else { return None };
        if parent_height == 0 {
            return Some(self.genesis.bits);
        }
        let anchor = self.asert_anchor(block_one_time)?;
        let next = asert_next_target(&asert, &anchor, u64::from(parent_height), i64::from(parent_time));
        Some(next.to_compact())
    }

    /// New coins a block at `height` may create (beside its fees).
    pub fn subsidy(&self, height: u32) -> Amount {
        let halvings = height / self.halving_interval_blocks;
        if halvings >= HALVINGS_MAX {
            return Amount::ZERO;
        }
        Amount::from_units(self.subsidy_initial.to_units() >> halvings).expect("a halved subsidy stays in range")
    }
}

fn tabchain_asert() -> AsertParams {
    match Params::tabchain().difficulty {
        DifficultyRule::Asert(asert) => asert,
        DifficultyRule::Retarget(_) => unreachable!("tabchain uses ASERT"),
    }
}

/// Found by searching nonces once; `genesis_blocks_meet_their_targets` checks it.
const TABCHAIN_GENESIS_NONCE: u32 = 62_502_371;
const REGTEST_GENESIS_NONCE: u32 = 2;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pow::check_proof_of_work;
    use alloc::string::ToString;
    use core::ops::Shl as _;

    #[test]
    fn each_runnable_network_parses_from_its_one_name() {
        for network in Network::RUNNABLE {
            assert_eq!(network.name().parse(), Ok(network));
            assert_eq!(network.params().network, network);
        }
        assert_eq!(["tabchain", "regtest"], Network::RUNNABLE.map(Network::name));
        for other in ["bitcoin", "Regtest", "tabrt", ""] {
            assert_eq!(other.parse::<Network>(), Err(UnknownNetwork), "{other:?}");
        }
        assert_eq!(UnknownNetwork.to_string(), "unknown network; expected one of: tabchain regtest");
    }

    #[test]
    fn bitcoin_genesis_is_bitcoins() {
        let p = Params::bitcoin();
        assert_eq!(p.genesis_hash().to_string(), "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f");
        assert_eq!(p.genesis_block(), None);
        assert_eq!(check_proof_of_work(&p.genesis_header(), p.pow_limit).map(|_| ()), Ok(()));
    }

    #[test]
    fn genesis_blocks_meet_their_targets() {
        for p in [Params::tabchain(), Params::regtest()] {
            let block = p.genesis_block().expect("tabchain networks have full genesis blocks");
            assert_eq!(block.compute_merkle_root(), Ok(block.header.merkle_root));
            assert_eq!(check_proof_of_work(&block.header, p.pow_limit).map(|_| ()), Ok(()), "{:?}", p.network);
            assert_eq!(block.txs[0].coinbase_height(), Some(0));
        }
        assert_eq!(
            Params::tabchain().genesis_hash().to_string(),
            "000000bf8fedb95a58cd2d19f5395658136a723e13b3e2d4fee4e8b9f7b94c70"
        );
        assert_eq!(
            Params::regtest().genesis_hash().to_string(),
            "03d78be6afebefb5ec4ab97ba8706f7b7c7f4a97f308579724e887a07e080a6a"
        );
    }

    #[test]
    fn subsidy_halves_and_stays_below_max_money() {
        let p = Params::tabchain();
        assert_eq!(p.subsidy(0), Amount::from_units(50 * COIN).expect("small"));
        assert_eq!(p.subsidy(209_999), Amount::from_units(50 * COIN).expect("small"));
        assert_eq!(p.subsidy(210_000), Amount::from_units(25 * COIN).expect("small"));
        assert_eq!(p.subsidy(64 * 210_000), Amount::ZERO);
        assert_eq!(p.subsidy(u32::MAX), Amount::ZERO);
        // Total issuance over all time, computed per halving era.
        let total: u64 = (0..HALVINGS_MAX)
            .map(|era| (p.subsidy_initial.to_units() >> era) * u64::from(p.halving_interval_blocks))
            .sum();
        assert!(total <= Amount::MAX_MONEY.to_units(), "{total}");
        assert!(total > Amount::MAX_MONEY.to_units() - COIN, "{total}");
    }

    /// Re-finds the genesis nonces: `cargo test --release -p tabchain-core -- --ignored
    /// search_genesis_nonces --nocapture`.
    #[test]
    #[ignore = "a search of millions of hashes, run by hand when a genesis changes"]
    fn search_genesis_nonces() {
        for p in [Params::tabchain(), Params::regtest()] {
            let mut header = p.genesis_header();
            let target = header.bits.to_target().expect("valid");
            header.nonce = (0..=u32::MAX)
                .find(|&nonce| target.is_met_by(Header { nonce, ..header }.block_hash()))
                .expect("a nonce exists");
            std::println!("{:?}: nonce {} hash {}", p.network, header.nonce, header.block_hash());
        }
    }

    #[test]
    fn the_schedule_starts_at_block_one_whatever_the_genesis_date() {
        let p = Params::tabchain();
        let genesis = p.genesis_header();
        let month_later = genesis.time + 30 * 86_400;
        // Block 1 has the genesis bits, however late it comes.
        assert_eq!(p.asert_next_bits(0, genesis.time, 0), Some(genesis.bits));
        // Block 2, one spacing after block 1, keeps them: the chain is on schedule.
        assert_eq!(p.asert_next_bits(1, month_later, month_later), Some(genesis.bits));
        // Each half-life behind (ahead of) schedule doubles (halves) the target.
        let target = |bits: Option<CompactTarget>| bits.and_then(|b| b.to_target().ok()).expect("valid bits");
        let on_time = target(Some(genesis.bits));
        let late = target(p.asert_next_bits(1, month_later + TABCHAIN_HALF_LIFE_S as u32, month_later));
        assert_eq!(late.to_u256(), on_time.to_u256().shl(1));
        let early = target(p.asert_next_bits(61, month_later, month_later));
        assert_eq!(early.to_u256(), on_time.to_u256().shr(1));
        assert_eq!(Params::bitcoin().asert_next_bits(1, 0, 0), None);
    }
}
