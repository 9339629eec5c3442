//! The API's lookups through the store's indexes: blocks and transactions below the node's
//! in-memory window, a reorg taking its disconnected transactions out, and address history a
//! page at a time.

use crate::support::{RelayConfig, TestRelay, get, mine};
use serde_json::{Value, json};
use tabchain_core::{
    Amount, Block, BlockHash, COIN, FeeRate, SecretKey, Transaction, TxOut, Wallet, child_block_of, encode_address,
    search_nonce, signed_transaction,
};
use tabchain_relay::driver::{Driver, now};

/// Blocks mined at most while waiting for a height to leave the node's memory: past
/// `ACTIVE_BLOCKS_KEPT` (1,024) with room to spare.
const EVICTION_BLOCKS_MAX: u32 = 1_200;

/// A payment of one TAB from `key`'s wallet to `to`, submitted to the node; returns it and its
/// fee in units.
fn submit_payment(driver: &Driver, key: &SecretKey, to: &SecretKey) -> (Transaction, u64) {
    let (tx, fee) = driver.read(|n| {
        let wallet = Wallet::new(key.clone(), n.chain());
        let amount = Amount::from_units(COIN).expect("small");
        let tx = wallet.build_payment(n.chain(), n.mempool(), to.public_key(), amount, FeeRate(2000)).expect("funded");
        let spent: u64 = tx
            .inputs
            .iter()
            .map(|i| n.chain().utxos().get(&i.prev_out).expect("unspent").output.amount.to_units())
            .sum();
        let fee = spent - tx.outputs.iter().map(|o| o.amount.to_units()).sum::<u64>();
        (tx, fee)
    });
    driver.with_node(|n| n.submit_transaction(tx.clone(), now())).expect("accepted");
    (tx, fee)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_and_transactions_below_the_in_memory_window_are_found_with_their_height_and_fee() {
    let relay = TestRelay::start(RelayConfig::default()).await;
    let (payer, payee) = (SecretKey::from_bytes(&[6; 32]), SecretKey::from_bytes(&[7; 32]));
    for i in 0..12 {
        mine(&relay.driver, payer.public_key(), i);
    }
    let (tx, fee) = submit_payment(&relay.driver, &payer, &payee);
    let block = mine(&relay.driver, payer.public_key(), 12);
    assert!(block.txs.contains(&tx), "the payment is in block 13");
    let hash = block.block_hash();
    let mut mined = 13;
    while relay.driver.read(|n| n.chain().kept_from_height()) <= 13 {
        assert!(mined < EVICTION_BLOCKS_MAX, "block 13 never left memory");
        mined += 1;
        mine(&relay.driver, payer.public_key(), u64::from(mined));
    }
    assert!(relay.driver.read(|n| n.chain().entry(&hash).is_none()), "block 13 is only in the store");
    let addr = relay.addr;

    let found = get(addr, &format!("/api/tx/{}", tx.txid()), "").await.json();
    assert_eq!(
        (&found["status"], &found["height"], &found["fee_units"]),
        (&json!("confirmed"), &json!(13), &json!(fee))
    );
    assert_eq!((&found["block"], &found["confirmations"]), (&json!(hash.to_string()), &json!(mined - 13 + 1)));
    assert!(found["inputs"].as_array().expect("inputs").iter().all(|i| i["spends"].is_object()), "{found}");

    let by_height = get(addr, "/api/blocks/13", "").await.json();
    let by_hash = get(addr, &format!("/api/blocks/{hash}"), "").await.json();
    assert_eq!(
        (&by_height["hash"], &by_height["height"], &by_height["active"]),
        (&json!(hash.to_string()), &json!(13), &json!(true))
    );
    assert_eq!(by_hash, by_height);
    assert_eq!(by_height["txids"][1], json!(tx.txid().to_string()));

    let payee_address = encode_address("tabrt", &payee.public_key());
    let info = get(addr, &format!("/api/address/{payee_address}"), "").await.json();
    assert_eq!((&info["confirmed_units"], &info["immature_units"]), (&json!(COIN), &json!(0)));
    let expected = json!([{ "txid": tx.txid().to_string(), "height": 13, "confirmations": mined - 13 + 1,
        "received_units": COIN, "sent_units": 0 }]);
    assert_eq!(info["history"], expected);
    assert_eq!(info.get("next"), None);
}

/// A block on `parent` with `txs` (and their `fees_units`), mined but not submitted.
fn block_on(driver: &Driver, parent: BlockHash, txs: Vec<Transaction>, fees_units: u64, extra_nonce: u64) -> Block {
    let owner = SecretKey::from_bytes(&[9; 32]).public_key();
    let template = driver.read(|n| {
        let time = n.chain().header(&parent).expect("known").header.time + 10;
        let fees = Amount::from_units(fees_units).expect("small");
        child_block_of(n.chain(), &parent, owner, extra_nonce, time, txs, fees).expect("not mutated")
    });
    Block { header: search_nonce(&template.header, 1 << 24).expect("regtest is easy"), ..template }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorg_takes_the_disconnected_transactions_out_of_the_index_and_address_history() {
    let relay = TestRelay::start(RelayConfig::default()).await;
    let (payer, payee, other) =
        (SecretKey::from_bytes(&[6; 32]), SecretKey::from_bytes(&[7; 32]), SecretKey::from_bytes(&[8; 32]));
    for i in 0..12 {
        mine(&relay.driver, payer.public_key(), i);
    }
    let fork = relay.driver.read(|n| n.chain().tip_hash());
    let (tx, _) = submit_payment(&relay.driver, &payer, &payee);
    let coin = tx.inputs[0].prev_out;
    let coin_value =
        relay.driver.read(|n| n.chain().utxos().get(&coin).expect("unspent until mined").output.amount.to_units());
    let paid = mine(&relay.driver, payer.public_key(), 12);
    let addr = relay.addr;
    let payee_address = encode_address("tabrt", &payee.public_key());
    assert_eq!(get(addr, &format!("/api/tx/{}", tx.txid()), "").await.json()["height"], json!(13));
    let history = get(addr, &format!("/api/address/{payee_address}"), "").await.json()["history"].clone();
    assert_eq!(history.as_array().map(Vec::len), Some(1));

    // A longer branch from height 12 spends the payment's coin to someone else, so the payment
    // can return neither to the chain nor to the mempool.
    let fee = 100_000;
    let genesis = relay.driver.params().genesis_hash();
    let output = TxOut { amount: Amount::from_units(coin_value - fee).expect("small"), owner: other.public_key() };
    let conflict = signed_transaction(&[coin], vec![output], &payer, genesis);
    let first = block_on(&relay.driver, fork, vec![conflict.clone()], fee, 100);
    relay.driver.with_node(|n| n.submit_block(first.clone(), now())).expect("a valid side block");
    let second = block_on(&relay.driver, first.block_hash(), vec![], 0, 101);
    relay.driver.with_node(|n| n.submit_block(second.clone(), now())).expect("a valid block");
    assert_eq!(relay.driver.read(|n| n.chain().tip_hash()), second.block_hash(), "the branch took over");

    let gone = get(addr, &format!("/api/tx/{}", tx.txid()), "").await;
    assert_eq!((gone.status, gone.json()), (404, json!({ "error": format!("unknown transaction {}", tx.txid()) })));
    let payee_info = get(addr, &format!("/api/address/{payee_address}"), "").await.json();
    let payee_balance = (&payee_info["confirmed_units"], &payee_info["pending_units"]);
    assert_eq!((&payee_info["history"], payee_balance), (&json!([]), (&json!(0), &json!(0))));
    let other_address = encode_address("tabrt", &other.public_key());
    let other_info = get(addr, &format!("/api/address/{other_address}"), "").await.json();
    assert_eq!(other_info["history"][0]["txid"], json!(conflict.txid().to_string()));
    assert_eq!(other_info["confirmed_units"], json!(coin_value - fee));
    let old = get(addr, &format!("/api/blocks/{}", paid.block_hash()), "").await.json();
    assert_eq!((&old["active"], &old["confirmations"], &old["height"]), (&json!(false), &json!(0), &json!(13)));
    assert_eq!(get(addr, "/api/blocks/13", "").await.json()["hash"], json!(first.block_hash().to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn address_history_comes_in_disjoint_pages_that_make_up_the_whole() {
    let relay = TestRelay::start(RelayConfig::default()).await;
    let key = SecretKey::from_bytes(&[6; 32]);
    for i in 0..12 {
        mine(&relay.driver, key.public_key(), i);
    }
    let path = format!("/api/address/{}", encode_address("tabrt", &key.public_key()));
    let whole = get(relay.addr, &format!("{path}?limit=500"), "").await.json();
    let whole_rows = whole["history"].as_array().expect("history").clone();
    let heights: Vec<u64> = whole_rows.iter().map(|r| r["height"].as_u64().expect("height")).collect();
    assert_eq!(heights, (1..=12).rev().collect::<Vec<u64>>());
    assert_eq!(whole.get("next"), None);

    let mut pages: Vec<Vec<Value>> = Vec::new();
    let mut query = "?limit=5".to_owned();
    loop {
        let page = get(relay.addr, &format!("{path}{query}"), "").await.json();
        pages.push(page["history"].as_array().expect("history").clone());
        match page.get("next") {
            Some(next) => query = format!("?limit=5&before={}", next.as_str().expect("a cursor")),
            None => break,
        }
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![5, 5, 2]);
    assert_eq!(pages.concat(), whole_rows, "the pages, in order, are the whole history");
    let default = get(relay.addr, &path, "").await.json();
    assert_eq!(default["history"], json!(whole_rows), "without ?limit= a page holds up to 100 rows: here all 12");

    let limit_form = "how many transactions to list, from 1 to 500 (default 100)";
    let before_form =
        "list the transactions before this cursor, `height:position` as a previous page's `next` gives it";
    let not_in_form = |name: &str, form: &str| {
        format!("{name} is not in the form openapi.json gives for /address/{{address}}: {form}")
    };
    for (query, reason) in [
        ("?limit=501", not_in_form("limit", limit_form)),
        ("?limit=0", not_in_form("limit", limit_form)),
        ("?before=12", not_in_form("before", before_form)),
        // Heights are u32s, and the schema's cursor says so: one past them is not in its form.
        ("?before=4294967296:0", not_in_form("before", before_form)),
    ] {
        let refused = get(relay.addr, &format!("{path}{query}"), "").await;
        assert_eq!((refused.status, refused.json()), (400, json!({ "error": reason })), "{query}");
    }
}
