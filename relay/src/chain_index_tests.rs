//! The indexes against the chain they index: after payments (one spending an output of the
//! same block) and after a reorg, they equal what a store fed only the winning chain holds,
//! and balances and history agree with the node's UTXO set and blocks.

use super::*;
use crate::store::Store;
use redb::ReadableTableMetadata as _;
use tabchain_core::explorer::address_txs;
use tabchain_core::{
    Amount, COIN, Node, OutPoint, Output, SecretKey, Transaction, TxOut, child_block_of, search_nonce,
    signed_transaction,
};

/// Far enough ahead that no test block is "too new".
const NOW: u64 = 4_000_000_000;

fn key(n: u8) -> SecretKey {
    SecretKey::from_bytes(&[n; 32])
}

/// A regtest node whose change sets go to an in-memory store, as the driver's do.
struct Harness {
    node: Node,
    store: Store,
    extra_nonce: u64,
}

impl Harness {
    fn new() -> Self {
        let params = Params::regtest();
        Self { store: Store::in_memory(&params).expect("store"), node: Node::new(params, "test"), extra_nonce: 0 }
    }

    fn params(&self) -> &Params {
        self.node.chain().params()
    }

    /// A block on `parent` paying `owner`, with `txs`, not yet submitted.
    fn block_on(&mut self, parent: BlockHash, owner: PublicKey, txs: Vec<Transaction>, fees: u64) -> Block {
        self.extra_nonce += 1;
        let chain = self.node.chain();
        let time = chain.header(&parent).expect("known parent").header.time + 10;
        let fees = Amount::from_units(fees).expect("small");
        let template = child_block_of(chain, &parent, owner, self.extra_nonce, time, txs, fees).expect("not mutated");
        Block { header: search_nonce(&template.header, 1 << 20).expect("regtest is easy"), ..template }
    }

    fn submit(&mut self, block: Block) {
        self.node.submit_block(block, NOW).expect("valid block");
        while let Some(output) = self.node.poll_output() {
            if let Output::Persist(set) = output {
                self.store.apply(&set).expect("stored");
            }
        }
    }

    fn mine(&mut self, owner: PublicKey, txs: Vec<Transaction>, fees: u64) -> Block {
        let block = self.block_on(self.node.chain().tip_hash(), owner, txs, fees);
        self.submit(block.clone());
        block
    }

    fn read(&self) -> IndexRead {
        IndexRead::begin(&self.store.db().expect("open")).expect("read")
    }
}

/// Every row of every index table, to compare two stores.
#[derive(Debug, PartialEq, Eq)]
struct Dump {
    active: Vec<(u32, Vec<u8>)>,
    tx_index: Vec<([u8; 32], [u8; TX_PLACE_BYTES])>,
    history: Vec<([u8; HISTORY_KEY_BYTES], [u8; HISTORY_VALUE_BYTES])>,
    unspent: Vec<([u8; OWNER_BYTES], u64)>,
    owners_at_height: Vec<(u32, Vec<u8>)>,
}

fn dump(store: &Store) -> Dump {
    let txn = store.db().expect("open").begin_read().expect("read");
    let active = txn.open_table(ACTIVE).expect("table");
    let tx_index = txn.open_table(TX_INDEX).expect("table");
    let history = txn.open_table(ADDRESS_HISTORY).expect("table");
    let unspent = txn.open_table(ADDRESS_UNSPENT).expect("table");
    let owners = txn.open_table(OWNERS_AT_HEIGHT).expect("table");
    assert!(history.len().expect("len") > 0, "the chain has address rows");
    Dump {
        active: active
            .iter()
            .expect("iter")
            .map(|r| r.map(|(k, v)| (k.value(), v.value().to_vec())))
            .collect::<Result<_, _>>()
            .expect("rows"),
        tx_index: tx_index
            .iter()
            .expect("iter")
            .map(|r| r.map(|(k, v)| (k.value(), v.value())))
            .collect::<Result<_, _>>()
            .expect("rows"),
        history: history
            .iter()
            .expect("iter")
            .map(|r| r.map(|(k, v)| (k.value(), v.value())))
            .collect::<Result<_, _>>()
            .expect("rows"),
        unspent: unspent
            .iter()
            .expect("iter")
            .map(|r| r.map(|(k, v)| (k.value(), v.value())))
            .collect::<Result<_, _>>()
            .expect("rows"),
        owners_at_height: owners
            .iter()
            .expect("iter")
            .map(|r| r.map(|(k, v)| (k.value(), v.value().to_vec())))
            .collect::<Result<_, _>>()
            .expect("rows"),
    }
}

/// Checks the index of `h` against its node: every address's balance against the UTXO set,
/// its history against the rows `address_txs` gives for each active block, and every active
/// transaction's place.
fn check_against_the_node(h: &Harness, owners: &[PublicKey]) {
    let read = h.read();
    let chain = h.node.chain();
    let tip = chain.height();
    assert_eq!(read.tip_height().expect("tip"), tip);
    for owner in owners {
        let (mut confirmed, mut immature) = (0, 0);
        for (_, coin) in chain.utxos().iter().filter(|(_, c)| c.output.owner == *owner) {
            if coin.is_mature_at(tip + 1, h.params().coinbase_maturity) {
                confirmed += coin.output.amount.to_units();
            } else {
                immature += coin.output.amount.to_units();
            }
        }
        let balance = read.balance(h.params(), owner, tip).expect("balance");
        assert_eq!((balance.confirmed_units, balance.immature_units), (confirmed, immature), "{owner:?}");
        let mut expected = Vec::new();
        for height in (1..=tip).rev() {
            let hash = chain.hash_at(height).expect("active");
            let entry = chain.entry(&hash).expect("in memory");
            let spent = block_spent_coins(&entry.block, chain.undo(&hash).expect("active"));
            expected.extend(address_txs(&entry.block, height, &spent).into_iter().rev().filter(|r| r.owner == *owner));
        }
        let page = read.history(owner, None, usize::MAX - 1).expect("history");
        assert_eq!((page.rows, page.next), (expected, None), "{owner:?}");
    }
    for height in 0..=tip {
        let hash = chain.hash_at(height).expect("active");
        assert_eq!(read.active_hash(height).expect("active"), Some(hash));
        for (position, tx) in chain.entry(&hash).expect("in memory").block.txs.iter().enumerate() {
            let place = TxPlace { height, position: position as u32 };
            assert_eq!(read.tx_place(&tx.txid()).expect("place"), Some(place));
        }
    }
    assert_eq!(read.active_hash(tip + 1).expect("read"), None);
}

#[test]
fn the_index_follows_payments_and_a_reorg_and_equals_one_built_from_the_winning_chain() {
    let (a, b, c) = (key(1), key(2), key(3));
    let mut h = Harness::new();
    let mut winning = Harness::new();
    let mut common = Vec::new();
    for _ in 0..12 {
        common.push(h.mine(a.public_key(), vec![], 0));
    }
    for block in &common {
        winning.submit(block.clone());
    }
    let genesis = h.params().genesis_hash();
    let coinbase = &common[0].txs[0];
    let value = coinbase.outputs[0].amount.to_units();
    let coin = OutPoint { txid: coinbase.txid(), vout: 0 };
    let units = |n| Amount::from_units(n).expect("small");
    let pay = signed_transaction(
        &[coin],
        vec![
            TxOut { amount: units(COIN), owner: b.public_key() },
            TxOut { amount: units(value - COIN - 300), owner: a.public_key() },
        ],
        &a,
        genesis,
    );
    // Spends the change of `pay` in the same block: its coin is in no undo data.
    let change = OutPoint { txid: pay.txid(), vout: 1 };
    let forward = signed_transaction(
        &[change],
        vec![TxOut { amount: units(value - COIN - 500), owner: c.public_key() }],
        &a,
        genesis,
    );
    let paid = h.mine(a.public_key(), vec![pay.clone(), forward.clone()], 500);
    let owners = [a.public_key(), b.public_key(), c.public_key()];
    check_against_the_node(&h, &owners);
    let read = h.read();
    let c_rows = read.history(&c.public_key(), None, 10).expect("history").rows;
    let expected = AddressTx {
        owner: c.public_key(),
        txid: forward.txid(),
        height: 13,
        position: 2,
        received_units: value - COIN - 500,
        sent_units: 0,
    };
    assert_eq!(c_rows, vec![expected]);
    let a_forward = read.history(&a.public_key(), None, 1).expect("history").rows;
    assert_eq!((a_forward[0].position, a_forward[0].sent_units), (2, value - COIN - 300), "same-block spend");
    drop(read);

    // A longer branch from height 12 takes block 13 and its payments off the active chain.
    let fork = common.last().expect("mined").block_hash();
    let mut parent = fork;
    for _ in 0..2 {
        let block = h.block_on(parent, key(4).public_key(), vec![], 0);
        parent = block.block_hash();
        h.submit(block.clone());
        winning.submit(block);
    }
    assert_eq!(h.node.chain().height(), 14);
    assert!(!h.node.chain().is_active(&paid.block_hash()), "the reorg happened");
    check_against_the_node(&h, &owners);
    let read = h.read();
    for tx in [&pay, &forward] {
        assert_eq!(read.tx_place(&tx.txid()).expect("read"), None, "disconnected");
    }
    for owner in [b.public_key(), c.public_key()] {
        assert_eq!(read.history(&owner, None, 10).expect("history").rows, vec![]);
        assert_eq!(read.unspent_units(&owner).expect("read"), 0);
    }
    assert_eq!(dump(&h.store), dump(&winning.store), "as if the losing branch had never been");
}

#[test]
fn pages_of_history_are_disjoint_and_cover_it_newest_first() {
    let mut h = Harness::new();
    let owner = key(1).public_key();
    for _ in 0..7 {
        h.mine(owner, vec![], 0);
    }
    let read = h.read();
    let mut heights = Vec::new();
    let mut before = None;
    loop {
        let page = read.history(&owner, before, 3).expect("history");
        assert!(page.rows.len() <= 3);
        heights.extend(page.rows.iter().map(|r| r.height));
        match page.next {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    assert_eq!(heights, vec![7, 6, 5, 4, 3, 2, 1]);
    let full_last = read.history(&owner, Some(HistoryCursor { height: 4, position: 0 }), 3).expect("history");
    assert_eq!((full_last.rows.len(), full_last.next), (3, None), "a last page that is exactly full has no next");
}

#[test]
fn cursors_read_as_height_and_position() {
    fn check(text: &str, expected: Option<HistoryCursor>) {
        assert_eq!(text.parse::<HistoryCursor>().ok(), expected, "{text:?}");
    }
    check("12:3", Some(HistoryCursor { height: 12, position: 3 }));
    check("4294967295:0", Some(HistoryCursor { height: u32::MAX, position: 0 }));
    for bad in ["12", "12:", ":3", "4294967296:0", "1:2:3", "-1:0", "a:b"] {
        check(bad, None);
    }
    assert_eq!(HistoryCursor { height: 12, position: 3 }.to_string(), "12:3");
}

#[test]
fn a_store_is_created_with_genesis_at_height_0() {
    let h = Harness::new();
    let read = h.read();
    let genesis = h.params().genesis_block().expect("regtest has one");
    assert_eq!(read.tip_height().expect("tip"), 0);
    assert_eq!(read.active_hash(0).expect("read"), Some(genesis.block_hash()));
    assert_eq!(read.tx_place(&genesis.txs[0].txid()).expect("read"), Some(TxPlace { height: 0, position: 0 }));
    let genesis_owner = genesis.txs[0].outputs[0].owner;
    assert_eq!(read.unspent_units(&genesis_owner).expect("read"), 0, "the genesis coinbase is unspendable");
    assert_eq!(read.history(&genesis_owner, None, 10).expect("history").rows, vec![]);
}
