//! Peer-to-peer messages and their wire encoding: one message per WebSocket binary frame,
//! `tag (u8) ‖ payload`, each kind with its own size limits.

use crate::block::Block;
use crate::encode::{self, Decode, DecodeError, Encode, Reader, write_bytes, write_list};
use crate::hash::{BlockHash, Txid};
use crate::header::{HEADER_BYTES, Header};
use crate::limits::BLOCK_BYTES_MAX;
use crate::transaction::{OutPoint, Transaction};
use crate::utxo::Coin;
use alloc::string::String;
use alloc::vec::Vec;

/// The protocol version this software speaks; peers must send the same. Version 2 added the
/// messages that let a relay pair tabs for direct links (`getlinks`, `links`, `signal`);
/// version 3 those of snapshot sync (`getsnapshot`, `snapshot`, `nosnapshot`).
pub const PROTOCOL_VERSION: u32 = 3;
/// The largest encoded message: a largest block plus its tag.
pub const MESSAGE_BYTES_MAX: usize = BLOCK_BYTES_MAX + 1;
/// Items in one `inv`, `getdata` or `notfound`.
pub const INV_ITEMS_MAX: usize = 1000;
/// Headers in one `headers` message.
pub const HEADERS_MAX: usize = 2000;
/// Hashes in a block locator.
pub const LOCATOR_HASHES_MAX: usize = 64;
/// Addresses in one `addrs` message, and the length of each.
pub const ADDRS_MAX: usize = 100;
pub const ADDR_BYTES_MAX: usize = 256;
/// Bytes of the free-text user agent in `hello`.
pub const USER_AGENT_BYTES_MAX: usize = 64;
/// Peers offered in one `links`.
pub const LINKS_MAX: usize = 8;
/// Bytes of one `signal`'s payload: a WebRTC offer or answer with its ICE candidates (a few
/// kilobytes) fits with room to spare.
pub const SIGNAL_BYTES_MAX: usize = 16 * 1024;

/// Coins in one `snapshot` chunk: 3,000 coins of `SNAPSHOT_COIN_BYTES` are 243,000 bytes, so a
/// full chunk fits a frame with room for its base, flag and count.
pub const SNAPSHOT_CHUNK_COINS_MAX: usize = 3000;
/// Encoded size of one snapshot coin: outpoint (36), output (40), height (4), coinbase flag (1).
pub const SNAPSHOT_COIN_BYTES: usize = 36 + 40 + 4 + 1;

const _: () = assert!(
    1 + 32 + 1 + 9 + SNAPSHOT_CHUNK_COINS_MAX * SNAPSHOT_COIN_BYTES <= MESSAGE_BYTES_MAX,
    "a full snapshot chunk fits a frame"
);
const _: () = assert!(HEADERS_MAX * HEADER_BYTES < MESSAGE_BYTES_MAX, "a full headers message fits a frame");
const _: () = assert!(INV_ITEMS_MAX * 33 < MESSAGE_BYTES_MAX, "a full inv fits a frame");

/// Something a peer can announce or ask for.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum InvItem {
    Block(BlockHash),
    Tx(Txid),
}

/// A message between peers.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Message {
    /// First message each way: who we are and what we have.
    Hello {
        protocol_version: u32,
        genesis: BlockHash,
        best_height: u32,
        user_agent: String,
    },
    Ping {
        nonce: u64,
    },
    Pong {
        nonce: u64,
    },
    /// Announces blocks or transactions the sender has.
    Inv(Vec<InvItem>),
    /// Asks for announced items.
    GetData(Vec<InvItem>),
    /// The sender does not have these requested items.
    NotFound(Vec<InvItem>),
    /// Asks for headers after the first locator hash the receiver knows on its active chain.
    GetHeaders {
        locator: Vec<BlockHash>,
    },
    Headers(Vec<Header>),
    Block(Block),
    Tx(Transaction),
    /// Asks for peer addresses.
    GetAddrs,
    /// WebSocket URLs of other nodes.
    Addrs(Vec<String>),
    /// Asks a relay for peers to link with directly; the sender may be offered to others.
    GetLinks,
    /// A relay's answer to `getlinks`: the asker's own id there, and up to `LINKS_MAX` peers that
    /// also asked.
    Links {
        you: u64,
        peers: Vec<u64>,
    },
    /// Link set-up data (a WebRTC offer or answer) between two peers of a relay: to the relay,
    /// `peer` is the receiver; from the relay, the sender.
    Signal {
        peer: u64,
        payload: Vec<u8>,
    },
    /// Asks for the UTXO set as it was right after block `base` (of the receiver's active
    /// chain), the coins after outpoint `after` (from the first for `None`), one chunk.
    GetSnapshot {
        base: BlockHash,
        after: Option<OutPoint>,
    },
    /// One chunk of the UTXO set after `base`: coins in strictly increasing outpoint order, all
    /// after the requested `after`, at most `SNAPSHOT_CHUNK_COINS_MAX`; `last` when no coin
    /// follows.
    Snapshot {
        base: BlockHash,
        coins: Vec<(OutPoint, Coin)>,
        last: bool,
    },
    /// The sender cannot serve the set after `base` (not on its active chain, not a snapshot
    /// height, or too deep for the undo data it keeps in memory).
    SnapshotUnavailable {
        base: BlockHash,
    },
}

mod tag {
    pub const HELLO: u8 = 0;
    pub const PING: u8 = 1;
    pub const PONG: u8 = 2;
    pub const INV: u8 = 3;
    pub const GET_DATA: u8 = 4;
    pub const NOT_FOUND: u8 = 5;
    pub const GET_HEADERS: u8 = 6;
    pub const HEADERS: u8 = 7;
    pub const BLOCK: u8 = 8;
    pub const TX: u8 = 9;
    pub const GET_ADDRS: u8 = 10;
    pub const ADDRS: u8 = 11;
    pub const GET_LINKS: u8 = 12;
    pub const LINKS: u8 = 13;
    pub const SIGNAL: u8 = 14;
    pub const GET_SNAPSHOT: u8 = 15;
    pub const SNAPSHOT: u8 = 16;
    pub const SNAPSHOT_UNAVAILABLE: u8 = 17;
}

impl Message {
    /// The message's name, for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Hello { .. } => "hello",
            Self::Ping { .. } => "ping",
            Self::Pong { .. } => "pong",
            Self::Inv(_) => "inv",
            Self::GetData(_) => "getdata",
            Self::NotFound(_) => "notfound",
            Self::GetHeaders { .. } => "getheaders",
            Self::Headers(_) => "headers",
            Self::Block(_) => "block",
            Self::Tx(_) => "tx",
            Self::GetAddrs => "getaddrs",
            Self::Addrs(_) => "addrs",
            Self::GetLinks => "getlinks",
            Self::Links { .. } => "links",
            Self::Signal { .. } => "signal",
            Self::GetSnapshot { .. } => "getsnapshot",
            Self::Snapshot { .. } => "snapshot",
            Self::SnapshotUnavailable { .. } => "nosnapshot",
        }
    }

    /// Decodes one frame, refusing more than `MESSAGE_BYTES_MAX` bytes before reading any.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        encode::decode_bounded(bytes, MESSAGE_BYTES_MAX, "message bytes")
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        encode::encode(self)
    }
}

impl Encode for InvItem {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Self::Block(hash) => {
                out.push(0);
                hash.encode_to(out);
            }
            Self::Tx(txid) => {
                out.push(1);
                txid.encode_to(out);
            }
        }
    }
}

impl Decode for InvItem {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            0 => Ok(Self::Block(BlockHash::decode_from(r)?)),
            1 => Ok(Self::Tx(Txid::decode_from(r)?)),
            _ => Err(DecodeError::Invalid { what: "inventory kind" }),
        }
    }
}

/// A length-prefixed UTF-8 string of at most `max` bytes.
fn read_string(r: &mut Reader<'_>, what: &'static str, max: usize) -> Result<String, DecodeError> {
    String::from_utf8(r.bytes(what, max)?).map_err(|_| DecodeError::Invalid { what })
}

struct Addr(String);

impl Encode for Addr {
    fn encode_to(&self, out: &mut Vec<u8>) {
        write_bytes(out, self.0.as_bytes());
    }
}

impl Decode for Addr {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_string(r, "peer address", ADDR_BYTES_MAX).map(Self)
    }
}

impl Encode for Message {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Self::Hello { protocol_version, genesis, best_height, user_agent } => {
                out.push(tag::HELLO);
                protocol_version.encode_to(out);
                genesis.encode_to(out);
                best_height.encode_to(out);
                write_bytes(out, user_agent.as_bytes());
            }
            Self::Ping { nonce } => {
                out.push(tag::PING);
                nonce.encode_to(out);
            }
            Self::Pong { nonce } => {
                out.push(tag::PONG);
                nonce.encode_to(out);
            }
            Self::Inv(items) => {
                out.push(tag::INV);
                write_list(out, items);
            }
            Self::GetData(items) => {
                out.push(tag::GET_DATA);
                write_list(out, items);
            }
            Self::NotFound(items) => {
                out.push(tag::NOT_FOUND);
                write_list(out, items);
            }
            Self::GetHeaders { locator } => {
                out.push(tag::GET_HEADERS);
                write_list(out, locator);
            }
            Self::Headers(headers) => {
                out.push(tag::HEADERS);
                write_list(out, headers);
            }
            Self::Block(block) => {
                out.push(tag::BLOCK);
                block.encode_to(out);
            }
            Self::Tx(tx) => {
                out.push(tag::TX);
                tx.encode_to(out);
            }
            Self::GetAddrs => out.push(tag::GET_ADDRS),
            Self::Addrs(addrs) => {
                out.push(tag::ADDRS);
                let addrs: Vec<Addr> = addrs.iter().cloned().map(Addr).collect();
                write_list(out, &addrs);
            }
            Self::GetLinks => out.push(tag::GET_LINKS),
            Self::Links { you, peers } => {
                out.push(tag::LINKS);
                you.encode_to(out);
                write_list(out, peers);
            }
            Self::Signal { peer, payload } => {
                out.push(tag::SIGNAL);
                peer.encode_to(out);
                write_bytes(out, payload);
            }
            Self::GetSnapshot { base, after } => {
                out.push(tag::GET_SNAPSHOT);
                base.encode_to(out);
                match after {
                    None => out.push(0),
                    Some(outpoint) => {
                        out.push(1);
                        outpoint.encode_to(out);
                    }
                }
            }
            Self::Snapshot { base, coins, last } => {
                out.push(tag::SNAPSHOT);
                base.encode_to(out);
                out.push(u8::from(*last));
                write_list(out, coins);
            }
            Self::SnapshotUnavailable { base } => {
                out.push(tag::SNAPSHOT_UNAVAILABLE);
                base.encode_to(out);
            }
        }
    }
}

/// A flag byte: 0 or 1, nothing else (so the encoding stays canonical).
fn read_flag(r: &mut Reader<'_>, what: &'static str) -> Result<bool, DecodeError> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(DecodeError::Invalid { what }),
    }
}

impl Decode for Message {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match r.u8()? {
            tag::HELLO => Self::Hello {
                protocol_version: r.u32()?,
                genesis: BlockHash::decode_from(r)?,
                best_height: r.u32()?,
                user_agent: read_string(r, "user agent", USER_AGENT_BYTES_MAX)?,
            },
            tag::PING => Self::Ping { nonce: r.u64()? },
            tag::PONG => Self::Pong { nonce: r.u64()? },
            tag::INV => Self::Inv(r.list("inventory items", INV_ITEMS_MAX, 33)?),
            tag::GET_DATA => Self::GetData(r.list("inventory items", INV_ITEMS_MAX, 33)?),
            tag::NOT_FOUND => Self::NotFound(r.list("inventory items", INV_ITEMS_MAX, 33)?),
            tag::GET_HEADERS => Self::GetHeaders { locator: r.list("locator hashes", LOCATOR_HASHES_MAX, 32)? },
            tag::HEADERS => Self::Headers(r.list("headers", HEADERS_MAX, HEADER_BYTES)?),
            tag::BLOCK => Self::Block(Block::decode_from(r)?),
            tag::TX => Self::Tx(Transaction::decode_from(r)?),
            tag::GET_ADDRS => Self::GetAddrs,
            tag::ADDRS => {
                Self::Addrs(r.list::<Addr>("peer addresses", ADDRS_MAX, 1)?.into_iter().map(|a| a.0).collect())
            }
            tag::GET_LINKS => Self::GetLinks,
            tag::LINKS => Self::Links { you: r.u64()?, peers: r.list("linkable peers", LINKS_MAX, 8)? },
            tag::SIGNAL => Self::Signal { peer: r.u64()?, payload: r.bytes("signal payload", SIGNAL_BYTES_MAX)? },
            tag::GET_SNAPSHOT => {
                let base = BlockHash::decode_from(r)?;
                let after = if read_flag(r, "snapshot cursor flag")? { Some(OutPoint::decode_from(r)?) } else { None };
                Self::GetSnapshot { base, after }
            }
            tag::SNAPSHOT => Self::Snapshot {
                base: BlockHash::decode_from(r)?,
                last: read_flag(r, "snapshot last flag")?,
                coins: r.list("snapshot coins", SNAPSHOT_CHUNK_COINS_MAX, SNAPSHOT_COIN_BYTES)?,
            },
            tag::SNAPSHOT_UNAVAILABLE => Self::SnapshotUnavailable { base: BlockHash::decode_from(r)? },
            _ => return Err(DecodeError::Invalid { what: "message tag" }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Params;
    use proptest::prelude::*;

    fn samples() -> Vec<Message> {
        let genesis = Params::regtest().genesis_block().expect("regtest has a genesis block");
        let hash = genesis.block_hash();
        alloc::vec![
            Message::Hello {
                protocol_version: PROTOCOL_VERSION,
                genesis: hash,
                best_height: 7,
                user_agent: "tabchain/0.1".into()
            },
            Message::Ping { nonce: 42 },
            Message::Pong { nonce: 42 },
            Message::Inv(alloc::vec![InvItem::Block(hash), InvItem::Tx(genesis.txs[0].txid())]),
            Message::GetData(alloc::vec![InvItem::Block(hash)]),
            Message::NotFound(alloc::vec![]),
            Message::GetHeaders { locator: alloc::vec![hash, hash] },
            Message::Headers(alloc::vec![genesis.header]),
            Message::Block(genesis.clone()),
            Message::Tx(genesis.txs[0].clone()),
            Message::GetAddrs,
            Message::Addrs(alloc::vec!["ws://127.0.0.1:8080/ws".into()]),
            Message::GetLinks,
            Message::Links { you: 3, peers: alloc::vec![5, 9] },
            Message::Signal { peer: 5, payload: b"{\"t\":\"offer\"}".to_vec() },
            Message::GetSnapshot { base: hash, after: None },
            Message::GetSnapshot { base: hash, after: Some(OutPoint { txid: genesis.txs[0].txid(), vout: 3 }) },
            Message::Snapshot { base: hash, coins: alloc::vec![sample_coin(1), sample_coin(2)], last: false },
            Message::Snapshot { base: hash, coins: alloc::vec![], last: true },
            Message::SnapshotUnavailable { base: hash },
        ]
    }

    fn sample_coin(vout: u32) -> (OutPoint, Coin) {
        let genesis = Params::regtest().genesis_block().expect("regtest has a genesis block");
        (
            OutPoint { txid: genesis.txs[0].txid(), vout },
            Coin { output: genesis.txs[0].outputs[0], height: 4, is_coinbase: true },
        )
    }

    #[test]
    fn snapshot_chunks_are_bounded_and_their_flags_canonical() {
        let base = BlockHash::from_byte_array([9; 32]);
        let full =
            Message::Snapshot { base, coins: alloc::vec![sample_coin(1); SNAPSHOT_CHUNK_COINS_MAX], last: false };
        let bytes = full.to_bytes();
        assert!(bytes.len() <= MESSAGE_BYTES_MAX, "a full chunk fits a frame");
        assert_eq!(Message::from_bytes(&bytes), Ok(full));
        let over =
            Message::Snapshot { base, coins: alloc::vec![sample_coin(1); SNAPSHOT_CHUNK_COINS_MAX + 1], last: true };
        assert!(matches!(
            Message::from_bytes(&over.to_bytes()),
            Err(DecodeError::TooMany { what: "snapshot coins", .. })
        ));
        let mut bad_last = Message::Snapshot { base, coins: alloc::vec![], last: true }.to_bytes();
        bad_last[33] = 2;
        assert_eq!(Message::from_bytes(&bad_last), Err(DecodeError::Invalid { what: "snapshot last flag" }));
        let mut bad_cursor = Message::GetSnapshot { base, after: None }.to_bytes();
        bad_cursor[33] = 2;
        assert_eq!(Message::from_bytes(&bad_cursor), Err(DecodeError::Invalid { what: "snapshot cursor flag" }));
        let mut bad_coinbase_flag =
            Message::Snapshot { base, coins: alloc::vec![sample_coin(1)], last: true }.to_bytes();
        *bad_coinbase_flag.last_mut().expect("non-empty") = 2;
        assert_eq!(Message::from_bytes(&bad_coinbase_flag), Err(DecodeError::Invalid { what: "coinbase flag" }));
        let mut truncated = Message::GetSnapshot { base, after: Some(sample_coin(1).0) }.to_bytes();
        truncated.pop();
        assert!(matches!(Message::from_bytes(&truncated), Err(DecodeError::UnexpectedEnd { .. })));
    }

    #[test]
    fn every_message_round_trips() {
        for message in samples() {
            let bytes = message.to_bytes();
            assert_eq!(Message::from_bytes(&bytes), Ok(message.clone()), "{}", message.kind());
        }
    }

    #[test]
    fn limits_are_enforced() {
        assert_eq!(Message::from_bytes(&[200]), Err(DecodeError::Invalid { what: "message tag" }));
        let oversize = alloc::vec![0u8; MESSAGE_BYTES_MAX + 1];
        assert!(matches!(Message::from_bytes(&oversize), Err(DecodeError::TooMany { what: "message bytes", .. })));
        let mut many = alloc::vec![tag::HEADERS];
        crate::encode::write_compact_size(&mut many, HEADERS_MAX as u64 + 1);
        assert!(matches!(Message::from_bytes(&many), Err(DecodeError::TooMany { what: "headers", .. })));
        let links = Message::Links { you: 1, peers: alloc::vec![2; LINKS_MAX + 1] }.to_bytes();
        assert!(matches!(Message::from_bytes(&links), Err(DecodeError::TooMany { what: "linkable peers", .. })));
        let signal = Message::Signal { peer: 2, payload: alloc::vec![0; SIGNAL_BYTES_MAX + 1] }.to_bytes();
        assert!(matches!(Message::from_bytes(&signal), Err(DecodeError::TooMany { what: "signal payload", .. })));
        let mut bad_utf8 = alloc::vec![tag::ADDRS, 1, 1, 0xff];
        bad_utf8.truncate(4);
        assert_eq!(Message::from_bytes(&bad_utf8), Err(DecodeError::Invalid { what: "peer address" }));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_and_round_trip_when_accepted(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(message) = Message::from_bytes(&bytes) {
                prop_assert_eq!(message.to_bytes(), bytes);
            }
        }

        #[test]
        fn mutated_valid_messages_never_panic(idx in any::<prop::sample::Index>(), byte in any::<u8>(), which in 0usize..20) {
            let mut bytes = samples()[which].to_bytes();
            let i = idx.index(bytes.len());
            bytes[i] = byte;
            if let Ok(message) = Message::from_bytes(&bytes) {
                prop_assert_eq!(message.to_bytes(), bytes);
            }
        }
    }
}
