//! The canonical encoding at the trust boundary, over structured values rather than random bytes
//! (which almost never decode): every `Message`, `Block`, `Header`, `Transaction` and `ChangeSet`
//! the strategies build round-trips, and every flip, insertion, deletion or truncation of its
//! bytes either fails to decode or decodes to a value that encodes back to exactly those bytes.

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::cell::Cell;
use std::fmt::Debug;
use tabchain_core::{
    ADDR_BYTES_MAX, Amount, Block, BlockHash, BlockUndo, ChainOp, ChangeSet, Coin, CompactTarget, DecodeError, Encode,
    Header, InvItem, MerkleRoot, Message, OutPoint, PublicKey, Signature, Transaction, TxIn, TxOut, Txid,
    USER_AGENT_BYTES_MAX, decode, encode,
};

/// Random values per type; each case also tries several mutations of the value's bytes.
const CASES: u32 = 256;

fn hash_bytes() -> impl Strategy<Value = [u8; 32]> {
    any::<[u8; 32]>()
}

fn amount() -> impl Strategy<Value = Amount> {
    (0..=Amount::MAX_MONEY.to_units()).prop_map(|units| Amount::from_units(units).expect("at most MAX_MONEY"))
}

fn out_point() -> impl Strategy<Value = OutPoint> {
    (hash_bytes(), any::<u32>()).prop_map(|(txid, vout)| OutPoint { txid: Txid::from_byte_array(txid), vout })
}

fn tx_out() -> impl Strategy<Value = TxOut> {
    (amount(), hash_bytes()).prop_map(|(amount, owner)| TxOut { amount, owner: PublicKey(owner) })
}

fn tx_in() -> impl Strategy<Value = TxIn> {
    (out_point(), hash_bytes(), hash_bytes()).prop_map(|(prev_out, low, high)| {
        let mut signature = [0; 64];
        signature[..32].copy_from_slice(&low);
        signature[32..].copy_from_slice(&high);
        TxIn { prev_out, signature: Signature(signature) }
    })
}

fn transaction() -> impl Strategy<Value = Transaction> {
    (any::<u32>(), prop::collection::vec(tx_in(), 1..4), prop::collection::vec(tx_out(), 1..4))
        .prop_map(|(version, inputs, outputs)| Transaction { version, inputs, outputs })
}

fn header() -> impl Strategy<Value = Header> {
    (any::<i32>(), hash_bytes(), hash_bytes(), any::<u32>(), any::<u32>(), any::<u32>()).prop_map(
        |(version, prev, root, time, bits, nonce)| Header {
            version,
            prev_blockhash: BlockHash::from_byte_array(prev),
            merkle_root: MerkleRoot::from_byte_array(root),
            time,
            bits: CompactTarget::from_consensus(bits),
            nonce,
        },
    )
}

fn block() -> impl Strategy<Value = Block> {
    (header(), prop::collection::vec(transaction(), 1..4)).prop_map(|(header, txs)| Block { header, txs })
}

fn inv_items() -> impl Strategy<Value = Vec<InvItem>> {
    let item = prop_oneof![
        hash_bytes().prop_map(|h| InvItem::Block(BlockHash::from_byte_array(h))),
        hash_bytes().prop_map(|h| InvItem::Tx(Txid::from_byte_array(h))),
    ];
    prop::collection::vec(item, 0..6)
}

fn message() -> impl Strategy<Value = Message> {
    // At most 16 characters of at most 4 bytes each: within the user agent's limit.
    const _: () = assert!(16 * 4 <= USER_AGENT_BYTES_MAX);
    const _: () = assert!(32 * 4 <= ADDR_BYTES_MAX);
    let hashes = prop::collection::vec(hash_bytes().prop_map(BlockHash::from_byte_array), 0..6);
    prop_oneof![
        (any::<u32>(), hash_bytes(), any::<u32>(), "\\PC{0,16}").prop_map(
            |(protocol_version, genesis, best_height, user_agent)| Message::Hello {
                protocol_version,
                genesis: BlockHash::from_byte_array(genesis),
                best_height,
                user_agent,
            }
        ),
        any::<u64>().prop_map(|nonce| Message::Ping { nonce }),
        any::<u64>().prop_map(|nonce| Message::Pong { nonce }),
        inv_items().prop_map(Message::Inv),
        inv_items().prop_map(Message::GetData),
        inv_items().prop_map(Message::NotFound),
        hashes.prop_map(|locator| Message::GetHeaders { locator }),
        prop::collection::vec(header(), 0..6).prop_map(Message::Headers),
        block().prop_map(Message::Block),
        transaction().prop_map(Message::Tx),
        Just(Message::GetAddrs),
        prop::collection::vec("\\PC{0,32}", 0..4).prop_map(Message::Addrs),
    ]
}

fn chain_op() -> impl Strategy<Value = ChainOp> {
    let coin = (tx_out(), any::<u32>(), any::<bool>()).prop_map(|(output, height, is_coinbase)| Coin {
        output,
        height,
        is_coinbase,
    });
    let undo = prop::collection::vec((out_point(), coin), 0..3).prop_map(|spent| BlockUndo { spent });
    prop_oneof![
        (hash_bytes(), undo).prop_map(|(h, undo)| ChainOp::Connect { hash: BlockHash::from_byte_array(h), undo }),
        hash_bytes().prop_map(|h| ChainOp::Disconnect { hash: BlockHash::from_byte_array(h) }),
    ]
}

fn change_set() -> impl Strategy<Value = ChangeSet> {
    (prop::collection::vec(block(), 0..3), prop::collection::vec(chain_op(), 0..4), hash_bytes(), any::<u32>())
        .prop_map(|(blocks, ops, tip, height)| ChangeSet { blocks, ops, tip: BlockHash::from_byte_array(tip), height })
}

/// One edit of an encoding; positions are chosen relative to its length.
#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(Index, u8),
    Insert(Index, u8),
    Delete(Index),
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit(at, bit)),
        (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert(at, byte)),
        any::<Index>().prop_map(Mutation::Delete),
        any::<Index>().prop_map(Mutation::Truncate),
    ]
}

impl Mutation {
    /// `bytes` edited; `bytes` is never empty (every value encodes to at least one byte).
    fn apply(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        match self {
            Self::FlipBit(at, bit) => out[at.index(bytes.len())] ^= 1 << bit,
            Self::Insert(at, byte) => out.insert(at.index(bytes.len() + 1), *byte),
            Self::Delete(at) => {
                out.remove(at.index(bytes.len()));
            }
            Self::Truncate(at) => out.truncate(at.index(bytes.len())),
        }
        out
    }
}

/// Runs the round trip and the mutations over `CASES` values of `strategy`, decoding with
/// `decode_fn` (the entry point a peer's bytes go through). Fails unless some mutated encodings
/// decoded (so the canonical check ran) and some were refused.
fn check_encoding<T: Encode + Debug + PartialEq>(
    strategy: impl Strategy<Value = T>,
    decode_fn: fn(&[u8]) -> Result<T, DecodeError>,
) {
    let (decoded, refused) = (Cell::new(0u32), Cell::new(0u32));
    let mut runner = TestRunner::new(Config { cases: CASES, failure_persistence: None, ..Config::default() });
    let cases = (strategy, prop::collection::vec(mutation(), 1..8));
    let outcome = runner.run(&cases, |(value, mutations)| {
        let bytes = encode(&value);
        prop_assert!(!bytes.is_empty());
        let back = decode_fn(&bytes);
        prop_assert_eq!(back.as_ref(), Ok(&value), "round trip");
        for mutation in &mutations {
            let mutated = mutation.apply(&bytes);
            match decode_fn(&mutated) {
                Ok(other) => {
                    decoded.set(decoded.get() + 1);
                    prop_assert_eq!(encode(&other), mutated, "{:?} decoded to a non-canonical value", mutation);
                }
                Err(_) => refused.set(refused.get() + 1),
            }
        }
        Ok::<(), TestCaseError>(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    assert!(decoded.get() > 0, "no mutated encoding decoded: the canonical check never ran");
    assert!(refused.get() > 0, "no mutated encoding was refused");
}

#[test]
fn messages_round_trip_and_mutated_messages_are_refused_or_canonical() {
    check_encoding(message(), Message::from_bytes);
}

#[test]
fn blocks_round_trip_and_mutated_blocks_are_refused_or_canonical() {
    check_encoding(block(), Block::from_bytes);
}

#[test]
fn headers_round_trip_and_mutated_headers_are_refused_or_canonical() {
    check_encoding(header(), decode::<Header>);
}

#[test]
fn transactions_round_trip_and_mutated_transactions_are_refused_or_canonical() {
    check_encoding(transaction(), decode::<Transaction>);
}

#[test]
fn change_sets_round_trip_and_mutated_change_sets_are_refused_or_canonical() {
    check_encoding(change_set(), decode::<ChangeSet>);
}
