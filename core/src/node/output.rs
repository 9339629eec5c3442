//! What the node hands its shell through `poll_output`: messages to send, peers to drop (with
//! the reason), events for the user interface and change sets to store. With the `serde`
//! feature, outputs and events serialize to the plain objects the page's driver reads
//! (`www/protocol.js` documents them).

use super::PeerId;
use super::change_set::ChangeSet;
use super::snapshot::SnapshotChunkError;
use crate::encode::DecodeError;
use crate::hash::{BlockHash, Txid};
use crate::mempool::MempoolError;
use crate::message::{Message, PROTOCOL_VERSION};
use crate::target::Work;
use crate::validation::BlockError;
use alloc::vec::Vec;
use core::fmt;

/// Why the node drops a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisconnectReason {
    Undecodable(DecodeError),
    WrongVersion {
        theirs: u32,
    },
    WrongNetwork {
        genesis: BlockHash,
    },
    /// Any message before `hello`, or none within the handshake timeout.
    NoHello,
    DuplicateHello,
    InvalidBlock(BlockError),
    InvalidHeaders(BlockError),
    InvalidTx(MempoolError),
    /// More messages than the rate limit.
    Flood,
    /// Requested blocks did not arrive in time.
    Stalling,
    /// A ping went unanswered.
    PingTimeout,
    /// Misbehaviour points (refused transactions, re-sends) reached `MISBEHAVIOUR_THRESHOLD`.
    Misbehaving {
        score: u32,
    },
    /// A redownloaded header at `height` is not the one the peer's presync checked.
    PresyncMismatch {
        height: u32,
    },
    /// The peer's presync reached `PRESYNC_HEADERS_MAX` headers, at `height`, still short of
    /// the work needed: not the network's chain.
    PresyncTooLong {
        height: u32,
    },
    /// A malformed chunk of a snapshot (wrong base, out of order, too many coins, …).
    BadSnapshotChunk(SnapshotChunkError),
    /// The UTXO set the peer served for the base at `base_height` does not hash to the
    /// commitment in the next block: a coin added, removed or changed.
    BadSnapshot {
        base_height: u32,
    },
}

impl DisconnectReason {
    /// Whether the peer broke the protocol or the rules, or is of no use to this network (as
    /// opposed to being slow or gone: a stall, a ping timeout, a `hello` late or missing, which a
    /// busy honest peer can cause): a shell does not dial such a peer again for a long time.
    pub fn is_misbehaviour(&self) -> bool {
        !matches!(self, Self::Stalling | Self::PingTimeout | Self::NoHello)
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Undecodable(e) => write!(f, "undecodable message: {e}"),
            Self::WrongVersion { theirs } => write!(f, "protocol version {theirs}, expected {PROTOCOL_VERSION}"),
            Self::WrongNetwork { genesis } => write!(f, "peer is on another network (genesis {genesis})"),
            Self::NoHello => f.write_str("no hello"),
            Self::DuplicateHello => f.write_str("second hello"),
            Self::InvalidBlock(e) => write!(f, "invalid block: {e}"),
            Self::InvalidHeaders(e) => write!(f, "invalid headers: {e}"),
            Self::InvalidTx(e) => write!(f, "invalid transaction: {e}"),
            Self::Flood => f.write_str("message flood"),
            Self::Stalling => f.write_str("requested blocks did not arrive"),
            Self::PingTimeout => f.write_str("ping timeout"),
            Self::Misbehaving { score } => write!(f, "misbehaving (score {score})"),
            Self::PresyncMismatch { height } => {
                write!(f, "the header redownloaded at height {height} is not the one presynced")
            }
            Self::PresyncTooLong { height } => {
                write!(f, "a header chain still short of the minimum chain work at height {height}: too long")
            }
            Self::BadSnapshotChunk(e) => write!(f, "bad snapshot chunk: {e}"),
            Self::BadSnapshot { base_height } => {
                write!(f, "the UTXO set served for height {base_height} does not match the next block's commitment")
            }
        }
    }
}

/// What the user interface may want to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    PeerReady {
        peer: PeerId,
        best_height: u32,
    },
    /// The active chain changed; `reorg_depth` blocks of the old one were replaced.
    TipChanged {
        hash: BlockHash,
        height: u32,
        reorg_depth: usize,
        connected: usize,
        /// The first block this change connected: after a reorg, where the node switched
        /// branches (its parent is the last block both chains share).
        first_connected: Option<BlockHash>,
    },
    BlockRejected {
        hash: BlockHash,
        reason: BlockError,
        peer: Option<PeerId>,
    },
    TxAccepted {
        txid: Txid,
    },
    TxRejected {
        txid: Txid,
        reason: MempoolError,
    },
    /// Blocks held versus the best header known.
    SyncProgress {
        height: u32,
        best_header_height: u32,
    },
    /// A relay (`via`) offers peers to link with directly; `you` is this node's id there.
    LinkOffer {
        via: PeerId,
        you: u64,
        peers: Vec<u64>,
    },
    /// Link set-up data from `peer`, another peer of the relay `via`.
    Signal {
        via: PeerId,
        peer: u64,
        payload: Vec<u8>,
    },
    /// A peer's header chain checked without being stored, while the node syncs (headers
    /// presync): how high and how much work it reached so far.
    PresyncProgress {
        height: u32,
        work: Work,
    },
    /// The node adopted a verified snapshot: its chain now runs from genesis to `base` by
    /// headers only, then `tip`, with the UTXO set of `coins` coins. Everything the shell stored
    /// before describes the old chain: it must store the node's whole state now (the tab: a
    /// checkpoint replacing checkpoint and journal, dropping change sets queued before this
    /// event), before the change sets that follow, which build on the new state.
    SnapshotAdopted {
        base: BlockHash,
        base_height: u32,
        tip: BlockHash,
        height: u32,
        coins: usize,
    },
}

/// Something the node wants its shell to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Send {
        peer: PeerId,
        message: Message,
    },
    /// Send `peer` the active block `hash`, evicted from memory, from the shell's store as a
    /// `block` message; or `notfound` for it if the shell keeps no such block (a pruned tab).
    SendStoredBlock {
        peer: PeerId,
        hash: BlockHash,
    },
    Disconnect {
        peer: PeerId,
        reason: DisconnectReason,
    },
    Event(Event),
    Persist(ChangeSet),
}

#[cfg(feature = "serde")]
mod serialize {
    //! Outputs as tagged plain objects: `{type: "send", peer, bytes}`, `{type: "disconnect",
    //! peer, reason, misbehaviour}`, `{type: "persist", bytes}`, and the events (`tip`, `sync`, `presync`,
    //! `tx`, `rejected`, `peer`, `link_offer`, `signal`, `snapshot_adopted`). Bytes serialize as bytes (a `Uint8Array` in JavaScript), hashes and
    //! reasons as text.

    use super::{Event, Output};
    use crate::encode::encode;
    use serde::ser::{Serialize, SerializeMap, Serializer};

    /// Bytes that serialize as one byte string rather than a list of numbers.
    struct Bytes<'a>(&'a [u8]);

    impl Serialize for Bytes<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(self.0)
        }
    }

    /// Hashes, reasons and other `Display` values serialize as their text.
    struct Text<T>(T);

    impl<T: core::fmt::Display> Serialize for Text<T> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_str(&self.0)
        }
    }

    impl Serialize for Output {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            match self {
                Self::Send { peer, message } => {
                    let mut map = serializer.serialize_map(Some(3))?;
                    map.serialize_entry("type", "send")?;
                    map.serialize_entry("peer", peer)?;
                    map.serialize_entry("bytes", &Bytes(&message.to_bytes()))?;
                    map.end()
                }
                Self::SendStoredBlock { peer, hash } => {
                    let mut map = serializer.serialize_map(Some(3))?;
                    map.serialize_entry("type", "send_stored_block")?;
                    map.serialize_entry("peer", peer)?;
                    map.serialize_entry("hash", &Text(hash))?;
                    map.end()
                }
                Self::Disconnect { peer, reason } => {
                    let mut map = serializer.serialize_map(Some(4))?;
                    map.serialize_entry("type", "disconnect")?;
                    map.serialize_entry("peer", peer)?;
                    map.serialize_entry("reason", &Text(reason))?;
                    map.serialize_entry("misbehaviour", &reason.is_misbehaviour())?;
                    map.end()
                }
                Self::Persist(set) => {
                    let mut map = serializer.serialize_map(Some(2))?;
                    map.serialize_entry("type", "persist")?;
                    map.serialize_entry("bytes", &Bytes(&encode(set)))?;
                    map.end()
                }
                Self::Event(event) => event.serialize(serializer),
            }
        }
    }

    impl Serialize for Event {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(None)?;
            match self {
                Self::TipChanged { hash, height, reorg_depth, connected, first_connected } => {
                    map.serialize_entry("type", "tip")?;
                    map.serialize_entry("hash", &Text(hash))?;
                    map.serialize_entry("height", height)?;
                    map.serialize_entry("reorg_depth", reorg_depth)?;
                    map.serialize_entry("connected", connected)?;
                    map.serialize_entry("first_connected", &first_connected.map(Text))?;
                }
                Self::SyncProgress { height, best_header_height } => {
                    map.serialize_entry("type", "sync")?;
                    map.serialize_entry("height", height)?;
                    map.serialize_entry("best_header_height", best_header_height)?;
                }
                Self::PresyncProgress { height, work } => {
                    map.serialize_entry("type", "presync")?;
                    map.serialize_entry("height", height)?;
                    map.serialize_entry("work", &work.to_f64())?;
                }
                Self::TxAccepted { txid } => {
                    map.serialize_entry("type", "tx")?;
                    map.serialize_entry("txid", &Text(txid))?;
                    map.serialize_entry("accepted", &true)?;
                }
                Self::TxRejected { txid, reason } => {
                    map.serialize_entry("type", "tx")?;
                    map.serialize_entry("txid", &Text(txid))?;
                    map.serialize_entry("accepted", &false)?;
                    map.serialize_entry("reason", &Text(reason))?;
                }
                Self::BlockRejected { hash, reason, peer } => {
                    map.serialize_entry("type", "rejected")?;
                    map.serialize_entry("hash", &Text(hash))?;
                    map.serialize_entry("reason", &Text(reason))?;
                    map.serialize_entry("peer", peer)?;
                }
                Self::PeerReady { peer, best_height } => {
                    map.serialize_entry("type", "peer")?;
                    map.serialize_entry("peer", peer)?;
                    map.serialize_entry("best_height", best_height)?;
                }
                Self::LinkOffer { via, you, peers } => {
                    map.serialize_entry("type", "link_offer")?;
                    map.serialize_entry("via", via)?;
                    map.serialize_entry("you", you)?;
                    map.serialize_entry("peers", peers)?;
                }
                Self::Signal { via, peer, payload } => {
                    map.serialize_entry("type", "signal")?;
                    map.serialize_entry("via", via)?;
                    map.serialize_entry("peer", peer)?;
                    map.serialize_entry("payload", &Bytes(payload))?;
                }
                Self::SnapshotAdopted { base, base_height, tip, height, coins } => {
                    map.serialize_entry("type", "snapshot_adopted")?;
                    map.serialize_entry("base", &Text(base))?;
                    map.serialize_entry("base_height", base_height)?;
                    map.serialize_entry("tip", &Text(tip))?;
                    map.serialize_entry("height", height)?;
                    map.serialize_entry("coins", coins)?;
                }
            }
            map.end()
        }
    }
}
