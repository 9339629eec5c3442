//! The HTTP API: status, blocks, transactions, addresses, mempool, submission, errors, schema.

use crate::support::{RelayConfig, TestRelay, get, mine, post};
use tabchain_core::{Amount, Block, COIN, FeeRate, SecretKey, Wallet, encode, encode_address, hex, search_nonce};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_about_chain_transactions_and_addresses() {
    let relay = TestRelay::start(RelayConfig::default()).await;
    let key = SecretKey::from_bytes(&[6; 32]);
    for i in 0..12 {
        mine(&relay.driver, key.public_key(), i);
    }
    let addr = relay.addr;

    let status = get(addr, "/api/status", "").await.json();
    for field in ["height", "tip", "difficulty", "network_hashrate", "peers", "mempool_txs"] {
        assert!(status.get(field).is_some(), "status has {field}: {status}");
    }
    assert_eq!(status["height"], 12);

    let by_height = get(addr, "/api/blocks/3", "").await.json();
    let hash = by_height["hash"].as_str().expect("hash").to_owned();
    let by_hash = get(addr, &format!("/api/blocks/{hash}"), "").await.json();
    assert_eq!(by_hash["height"], 3);
    assert_eq!(get(addr, "/api/blocks/999", "").await.status, 404);
    assert_eq!(get(addr, "/api/blocks/nonsense", "").await.status, 400);
    assert_eq!(get(addr, "/api/blocks", "").await.json().as_array().expect("list").len(), 13);

    // Submit a payment as hex; see it in the mempool, then confirmed.
    let (chain_tx, recipient) = relay.driver.read(|n| {
        let wallet = Wallet::new(key.clone(), n.chain());
        let to = SecretKey::from_bytes(&[7; 32]).public_key();
        (wallet.build_payment(n.chain(), n.mempool(), to, Amount::from_units(COIN).expect("small"), FeeRate(2000)), to)
    });
    let tx = chain_tx.expect("funded");
    let submitted = post(addr, "/api/tx", &format!("{{\"hex\": \"{}\"}}", hex::encode(&encode(&tx)))).await;
    assert_eq!(submitted.status, 200, "{}", String::from_utf8_lossy(&submitted.body));
    let txid = tx.txid().to_string();
    assert_eq!(submitted.json()["txid"], txid);
    let again = post(addr, "/api/tx", &hex::encode(&encode(&tx))).await;
    assert_eq!(again.status, 200, "resubmitting is harmless");
    let pooled = get(addr, &format!("/api/tx/{txid}"), "").await.json();
    assert_eq!(pooled["status"], "mempool");
    assert_eq!(get(addr, "/api/mempool", "").await.json()["txs"], 1);

    let garbage = post(addr, "/api/tx", "{\"hex\": \"zz\"}").await;
    assert_eq!(garbage.status, 400);
    assert!(garbage.json()["error"].as_str().expect("reason").contains("hex"));
    let mut double = tx.clone();
    double.outputs[0].amount = Amount::from_units(2 * COIN).expect("small");
    let rejected = post(addr, "/api/tx", &hex::encode(&encode(&double))).await;
    assert_eq!(rejected.status, 400);
    assert!(rejected.json()["error"].as_str().expect("reason").starts_with("rejected"), "{}", rejected.json());

    mine(&relay.driver, key.public_key(), 99);
    let confirmed = get(addr, &format!("/api/tx/{txid}"), "").await.json();
    assert_eq!((confirmed["status"].as_str(), confirmed["height"].as_u64()), (Some("confirmed"), Some(13)));
    assert_eq!(get(addr, &format!("/api/tx/{}", "00".repeat(32)), "").await.status, 404);

    let address = encode_address("tabrt", &recipient);
    let info = get(addr, &format!("/api/address/{address}"), "").await.json();
    assert_eq!(info["confirmed_units"], COIN);
    assert_eq!(info["history"].as_array().expect("history").len(), 1);
    assert_eq!(get(addr, "/api/address/tabrt1notanaddress", "").await.status, 400);
    assert_eq!(get(addr, "/api/peers", "").await.json().as_array().expect("list").len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_docs_and_metrics_are_served() {
    let relay = TestRelay::start(RelayConfig::default()).await;
    let spec = get(relay.addr, "/api/openapi.json", "").await.json();
    assert_eq!(spec["openapi"], "3.0.3");
    for path in ["/status", "/blocks/{id}", "/block", "/tx/{txid}", "/tx", "/address/{address}", "/mempool", "/peers"] {
        assert!(spec["paths"].get(path).is_some(), "schema documents {path}");
    }
    let docs = get(relay.addr, "/api/docs", "").await;
    assert_eq!(docs.status, 200);
    assert!(String::from_utf8_lossy(&docs.body).contains("openapi.json"));
    let metrics = String::from_utf8(get(relay.addr, "/metrics", "").await.body).expect("text");
    assert!(metrics.contains("tabchain_height 0"), "{metrics}");
    assert!(metrics.contains("# TYPE tabchain_messages_in_total counter"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submitted_block_is_validated_as_one_from_a_peer() {
    let relay = TestRelay::start(RelayConfig::default()).await;
    let owner = SecretKey::from_bytes(&[8; 32]).public_key();
    let (template, genesis) = relay
        .driver
        .read(|n| (n.block_template(owner, 1, u64::from(n.chain().tip().header().time) + 10), n.chain().tip_hash()));
    let block = Block { header: search_nonce(&template.header, 1 << 24).expect("regtest is easy"), ..template };

    let mut overpaid = block.clone();
    overpaid.txs[0].outputs[0].amount = Amount::from_units(1_000 * COIN).expect("small");
    let rejected = post(relay.addr, "/api/block", &hex::encode(&encode(&overpaid))).await;
    assert_eq!(rejected.status, 400);
    assert!(rejected.json()["error"].as_str().expect("reason").starts_with("rejected"), "{}", rejected.json());
    assert_eq!(post(relay.addr, "/api/block", "{\"hex\": \"00\"}").await.status, 400);
    assert_eq!(relay.driver.read(|n| n.chain().tip_hash()), genesis, "nothing changed");

    let accepted = post(relay.addr, "/api/block", &format!("{{\"hex\": \"{}\"}}", hex::encode(&encode(&block)))).await;
    assert_eq!(accepted.status, 200, "{}", String::from_utf8_lossy(&accepted.body));
    assert_eq!(accepted.json()["hash"], block.block_hash().to_string());
    assert_eq!(relay.height(), 1);
}
