//! The HTTP API: status, blocks, transactions, addresses, mempool, submission, errors, schema.

use crate::support::{RelayConfig, TestRelay, get, mine, post};
use serde_json::json;
use std::collections::BTreeSet;
use tabchain_core::explorer;
use tabchain_core::{
    Amount, Block, COIN, FeeRate, Params, SecretKey, Wallet, encode, encode_address, hex, search_nonce,
};
use tabchain_relay::driver::now;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_about_chain_transactions_and_addresses() {
    let relay = TestRelay::start(RelayConfig::default()).await;
    let key = SecretKey::from_bytes(&[6; 32]);
    for i in 0..12 {
        mine(&relay.driver, key.public_key(), i);
    }
    let addr = relay.addr;
    let (chain_hashes, hashrate) = relay.driver.read(|n| {
        let chain = n.chain();
        let hashes: Vec<String> = (0..=12).map(|h| chain.hash_at(h).expect("h").to_string()).collect();
        (hashes, explorer::network_hashrate(chain))
    });
    assert_eq!(chain_hashes[0], Params::regtest().genesis_hash().to_string());
    let miner = encode_address("tabrt", &key.public_key());

    // Blocks dated at the target spacing keep regtest at its easiest target: difficulty 1, and
    // about 2 hashes of work per block every 10 seconds.
    let before = now();
    let mut status = get(addr, "/api/status", "").await.json();
    // The relay's clock, for tabs to compare theirs with.
    let time = status.as_object_mut().expect("an object").remove("time").and_then(|t| t.as_u64());
    assert!(time.is_some_and(|t| (before..=now()).contains(&t)), "status time {time:?}");
    let block_work = relay
        .driver
        .read(|n| n.chain().tip().header().bits.to_target().map(|t| t.work().to_f64()).expect("a valid target"));
    let expected = json!({
        // The network by its one name (`Network::name`), as the page passes it to its node.
        "network": "regtest",
        "genesis": chain_hashes[0],
        "block_work": block_work,
        "height": 12,
        "tip": chain_hashes[12],
        "difficulty": 1.0,
        "network_hashrate": hashrate,
        "peers": 0,
        "mempool_txs": 0,
        "mempool_bytes": 0,
        "best_header_height": 12,
        "ice_servers": [],
    });
    assert_eq!(status, expected);
    assert!((hashrate - 0.2).abs() < 1e-6, "network hashrate {hashrate}");

    let by_height = get(addr, "/api/blocks/3", "").await.json();
    assert_eq!(
        (&by_height["hash"], &by_height["height"], &by_height["prev_hash"]),
        (&json!(chain_hashes[3]), &json!(3), &json!(chain_hashes[2]))
    );
    assert_eq!((&by_height["active"], &by_height["confirmations"]), (&json!(true), &json!(10)));
    assert_eq!((&by_height["mined_by"], &by_height["difficulty"]), (&json!(miner), &json!(1.0)));
    assert_eq!(by_height["txids"].as_array().expect("txids").len(), 1, "a coinbase only");
    let by_hash = get(addr, &format!("/api/blocks/{}", chain_hashes[3]), "").await.json();
    assert_eq!(by_hash, by_height);
    assert_eq!(get(addr, "/api/blocks/0", "").await.json()["hash"], chain_hashes[0], "genesis");
    assert_eq!(get(addr, "/api/blocks/999", "").await.status, 404);
    assert_eq!(get(addr, "/api/blocks/nonsense", "").await.status, 400);
    // The raw block, by height or hash, as the canonical encoding in hex.
    let raw = get(addr, "/api/blocks/3/hex", "").await.json();
    let block = explorer::block_from_hex(raw["hex"].as_str().expect("hex")).expect("a block");
    assert_eq!(block.block_hash().to_string(), chain_hashes[3]);
    assert_eq!(get(addr, &format!("/api/blocks/{}/hex", chain_hashes[3]), "").await.json(), raw);
    assert_eq!(get(addr, "/api/blocks/999/hex", "").await.status, 404);
    assert_eq!(get(addr, &format!("/api/blocks/{}/hex", "ab".repeat(32)), "").await.status, 404);
    let recent = get(addr, "/api/blocks", "").await.json();
    let listed: Vec<(u64, &str)> = recent
        .as_array()
        .expect("list")
        .iter()
        .map(|b| (b["height"].as_u64().expect("height"), b["hash"].as_str().expect("hash")))
        .collect();
    let newest_first: Vec<(u64, &str)> = (0..=12u64).rev().map(|h| (h, chain_hashes[h as usize].as_str())).collect();
    assert_eq!(listed, newest_first);

    // Submit a payment as hex; see it in the mempool, then confirmed.
    let (chain_tx, recipient) = relay.driver.read(|n| {
        let wallet = Wallet::new(key.clone(), n.chain());
        let to = SecretKey::from_bytes(&[7; 32]).public_key();
        (wallet.build_payment(n.chain(), n.mempool(), to, Amount::from_units(COIN).expect("small"), FeeRate(2000)), to)
    });
    let tx = chain_tx.expect("funded");
    let fee_units = relay.driver.read(|n| {
        let spent: u64 = tx
            .inputs
            .iter()
            .map(|i| n.chain().utxos().get(&i.prev_out).expect("unspent").output.amount.to_units())
            .sum();
        spent - tx.outputs.iter().map(|o| o.amount.to_units()).sum::<u64>()
    });
    let submitted = post(addr, "/api/tx", &format!("{{\"hex\": \"{}\"}}", hex::encode(&encode(&tx)))).await;
    assert_eq!(submitted.status, 200, "{}", String::from_utf8_lossy(&submitted.body));
    let txid = tx.txid().to_string();
    assert_eq!(submitted.json()["txid"], txid);
    let again = post(addr, "/api/tx", &format!("{{\"hex\": \"{}\"}}", hex::encode(&encode(&tx)))).await;
    assert_eq!(again.status, 200, "resubmitting is harmless");
    let address = encode_address("tabrt", &recipient);
    let pooled = get(addr, &format!("/api/tx/{txid}"), "").await.json();
    assert_eq!((&pooled["status"], &pooled["confirmations"]), (&json!("mempool"), &json!(0)));
    assert_eq!((&pooled["block"], &pooled["height"]), (&json!(null), &json!(null)));
    assert_eq!((&pooled["fee_units"], &pooled["size_bytes"]), (&json!(fee_units), &json!(tx.size_bytes())));
    assert_eq!(
        (&pooled["outputs"][0]["amount_units"], &pooled["outputs"][0]["address"]),
        (&json!(COIN), &json!(address))
    );
    let mempool = get(addr, "/api/mempool", "").await.json();
    assert_eq!((&mempool["txs"], &mempool["bytes"]), (&json!(1), &json!(tx.size_bytes())));
    assert_eq!((&mempool["top"][0]["txid"], &mempool["top"][0]["fee_units"]), (&json!(txid), &json!(fee_units)));
    let status = get(addr, "/api/status", "").await.json();
    assert_eq!((&status["mempool_txs"], &status["mempool_bytes"]), (&json!(1), &json!(tx.size_bytes())));

    let garbage = post(addr, "/api/tx", "{\"hex\": \"zz\"}").await;
    assert_eq!(garbage.status, 400);
    assert!(garbage.json()["error"].as_str().expect("reason").contains("hex"));
    let mut double = tx.clone();
    double.outputs[0].amount = Amount::from_units(2 * COIN).expect("small");
    let rejected = post(addr, "/api/tx", &format!("{{\"hex\": \"{}\"}}", hex::encode(&encode(&double)))).await;
    assert_eq!(rejected.status, 400);
    assert!(rejected.json()["error"].as_str().expect("reason").starts_with("rejected"), "{}", rejected.json());

    let block = mine(&relay.driver, key.public_key(), 99);
    let confirmed = get(addr, &format!("/api/tx/{txid}"), "").await.json();
    assert_eq!((confirmed["status"].as_str(), confirmed["height"].as_u64()), (Some("confirmed"), Some(13)));
    assert_eq!((&confirmed["block"], &confirmed["confirmations"]), (&json!(block.block_hash().to_string()), &json!(1)));
    assert_eq!(get(addr, &format!("/api/tx/{}", "00".repeat(32)), "").await.status, 404);

    // Its proof, as a tab holding no body of block 13 checks it against its header chain.
    let proof = get(addr, &format!("/api/tx/{txid}/proof"), "").await.json();
    assert_eq!(
        (&proof["txid"], &proof["block"], &proof["height"]),
        (&json!(txid), &json!(block.block_hash().to_string()), &json!(13))
    );
    let parsed = explorer::TxProof::from_hex(
        proof["block"].as_str().expect("block"),
        proof["tx_hex"].as_str().expect("tx"),
        proof["proof_hex"].as_str().expect("proof"),
    )
    .expect("decodes");
    assert_eq!(parsed.tx, tx);
    let proven = relay.driver.read(|n| explorer::check_tx_proof(n.chain(), &parsed, &recipient)).expect("proven");
    assert_eq!((proven.height, proven.received_units), (13, COIN));
    assert_eq!(get(addr, &format!("/api/tx/{}/proof", "00".repeat(32)), "").await.status, 404);
    assert_eq!(get(addr, "/api/tx/nonsense/proof", "").await.status, 400);

    let info = get(addr, &format!("/api/address/{address}"), "").await.json();
    assert_eq!(
        (&info["address"], &info["confirmed_units"], &info["pending_units"]),
        (&json!(address), &json!(COIN), &json!(0))
    );
    let history = info["history"].as_array().expect("history");
    assert_eq!(history.len(), 1);
    assert_eq!(
        history[0],
        json!({ "txid": txid, "height": 13, "confirmations": 1, "received_units": COIN, "sent_units": 0 })
    );
    assert_eq!(get(addr, "/api/address/tabrt1notanaddress", "").await.status, 400);
    assert_eq!(get(addr, "/api/peers", "").await.json(), json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_docs_and_metrics_are_served() {
    let relay = TestRelay::start(RelayConfig::default()).await;
    let spec = get(relay.addr, "/api/openapi.json", "").await.json();
    assert_eq!(spec["openapi"], "3.0.3");
    let documented: BTreeSet<&str> = spec["paths"].as_object().expect("paths").keys().map(String::as_str).collect();
    let served = [
        "/status",
        "/blocks",
        "/blocks/{id}",
        "/blocks/{id}/hex",
        "/block",
        "/tx/{txid}",
        "/tx/{txid}/proof",
        "/tx",
        "/address/{address}",
        "/mempool",
        "/peers",
    ];
    assert_eq!(documented, served.into_iter().collect(), "the schema documents exactly the API's paths");
    // The status the relay sends has exactly the fields the schema documents.
    let status = get(relay.addr, "/api/status", "").await.json();
    let fields: BTreeSet<&String> = status.as_object().expect("status").keys().collect();
    let schema_fields: BTreeSet<&String> =
        spec["components"]["schemas"]["Status"]["properties"].as_object().expect("Status schema").keys().collect();
    assert_eq!(fields, schema_fields);
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
    let rejected =
        post(relay.addr, "/api/block", &format!("{{\"hex\": \"{}\"}}", hex::encode(&encode(&overpaid)))).await;
    assert_eq!(rejected.status, 400);
    assert!(rejected.json()["error"].as_str().expect("reason").starts_with("rejected"), "{}", rejected.json());
    assert_eq!(post(relay.addr, "/api/block", "{\"hex\": \"00\"}").await.status, 400);
    assert_eq!(relay.driver.read(|n| n.chain().tip_hash()), genesis, "nothing changed");

    let accepted = post(relay.addr, "/api/block", &format!("{{\"hex\": \"{}\"}}", hex::encode(&encode(&block)))).await;
    assert_eq!(accepted.status, 200, "{}", String::from_utf8_lossy(&accepted.body));
    assert_eq!(accepted.json()["hash"], block.block_hash().to_string());
    assert_eq!(relay.height(), 1);
}
