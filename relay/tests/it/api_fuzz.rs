//! A schema-driven fuzzer of the HTTP API. It reads the document the relay serves
//! (`/api/openapi.json`) and, for every operation, sends requests built from it: parameters and
//! bodies drawn from their schemas (`schema_values`), often the values of a small chain this test
//! builds or that earlier answers held, so that lookups hit; some with one parameter, the body or
//! its content type slightly wrong. Every answer must be documented for its operation, its body
//! valid under the documented schema (`api_schema`); a request the schema admits is never
//! refused for its form (a lookup is answered or not found, a submission taken or judged on its
//! content), one it does not admit gets 400 (415 for another content type), and a lookup's
//! answer names what was asked for. The draws are seeded, so a failure repeats.

use crate::api_schema::{Operation, check_answer, operations};
use crate::json_schema::Validator;
use crate::schema_values::ValueSource;
use crate::support::{RelayConfig, Response, TestRelay, get, mine, request};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tabchain_core::{
    Amount, Block, COIN, FeeRate, PublicKey, SecretKey, Transaction, Wallet, encode, encode_address, hex, search_nonce,
};
use tabchain_relay::driver::{Driver, now};
use tabchain_relay::limits::Limits;

/// The draws' seed; `API_FUZZ_SEED=N` explores another (a failure names its seed).
const SEED: u64 = 12;
/// Requests sent to each operation that takes parameters or a body, and to each that takes none.
const REQUESTS_PER_OPERATION: usize = 400;
const REQUESTS_PER_FIXED_OPERATION: usize = 5;
/// How often a request has one input wrong: a parameter, the body, or the content type.
const NEAR_MISS_ODDS: f64 = 0.15;
/// How often a request carries a query parameter no operation documents (the API ignores them),
/// an optional parameter is given, and a body drawn wrong is wrong in its content type.
const UNLISTED_QUERY_ODDS: f64 = 0.1;
const OPTIONAL_PARAMETER_ODDS: f64 = 0.5;
const OTHER_TYPE_ODDS: f64 = 0.3;
/// The content type every request body of the document is stated in.
const JSON: &str = "application/json";
/// Content types a client may send a JSON body with, and ones it may not.
const JSON_TYPES: [&str; 2] = ["application/json", "application/json; charset=utf-8"];
const OTHER_TYPES: [&str; 2] = ["text/plain", "application/x-www-form-urlencoded"];
/// How a 400 to a submission the schema admits must begin: a verdict on what was submitted
/// (undecodable, or refused by the rules), never on the request's form.
const CONTENT_VERDICTS: [&str; 3] = ["rejected: ", "not a block: ", "not a transaction: "];
/// Lookups whose answer names what was asked for.
const ECHOES: [Echo; 3] = [
    Echo { template: "/blocks/{id}", parameter: "id", fields: &["hash", "height"] },
    Echo { template: "/tx/{txid}", parameter: "txid", fields: &["txid"] },
    Echo { template: "/address/{address}", parameter: "address", fields: &["address"] },
];

/// A lookup whose answer holds, in one of `fields`, the path parameter it was asked by.
struct Echo {
    template: &'static str,
    parameter: &'static str,
    fields: &'static [&'static str],
}

/// One request drawn for an operation.
struct Drawn {
    /// The path and query, under `/api`, percent-encoded.
    target: String,
    /// Path parameters as sent, by name.
    path_values: BTreeMap<String, String>,
    /// The body and its content type, for an operation that takes one.
    body: Option<Body>,
    /// What the document says of the request.
    verdict: Expected,
}

struct Body {
    json: String,
    content_type: &'static str,
}

/// What the document says the answer to a request must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    /// The schema admits it: answered, never refused for its form.
    Admitted,
    /// A parameter or the body breaks its schema: 400.
    BadRequest,
    /// The body is not in the content type the document states: 415.
    UnsupportedMediaType,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_the_schema_admits_is_refused_and_every_answer_is_documented() {
    let limits = Limits { api_requests_per_s_max: 1_000_000, api_request_burst_max: 1_000_000, ..Limits::default() };
    let relay = TestRelay::start(RelayConfig { limits: Some(limits), ..Default::default() }).await;
    let planted = build_chain(&relay.driver);
    let spec = get(relay.addr, "/api/openapi.json", "").await.json();
    let validator = Validator::new(&spec);
    let seed = std::env::var("API_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(SEED);
    let mut source = ValueSource::new(&validator, seed);
    planted.into_iter().for_each(|value| source.plant(value));
    let operations = operations(&spec);
    let mut tally: BTreeMap<String, BTreeMap<u16, usize>> = BTreeMap::new();
    let rounds = REQUESTS_PER_OPERATION.max(REQUESTS_PER_FIXED_OPERATION);
    for round in 0..rounds {
        for operation in &operations {
            let takes_inputs =
                !operation.parameters(&validator).is_empty() || operation.spec["requestBody"].is_object();
            if round >= if takes_inputs { REQUESTS_PER_OPERATION } else { REQUESTS_PER_FIXED_OPERATION } {
                continue;
            }
            let drawn = draw_request(&mut source, &validator, operation);
            let answer = send(relay.addr, operation, &drawn).await;
            let name = format!("{} {}", operation.method.to_uppercase(), operation.template);
            let context = format!("{name} as {} (round {round}, seed {seed})", drawn.target);
            check(&validator, &spec, operation, &drawn, &answer).unwrap_or_else(|why| panic!("{context}: {why}"));
            *tally.entry(name).or_default().entry(answer.status).or_default() += 1;
            if answer.status == 200 {
                source.learn(&answer.json());
            }
        }
    }
    println!("answers by operation and status (seed {seed}): {tally:?}");
    for operation in &operations {
        let name = format!("{} {}", operation.method.to_uppercase(), operation.template);
        assert!(tally[&name].contains_key(&200), "{name} was never answered 200: {:?}", tally[&name]);
    }
}

/// A request for `operation`: each parameter it requires and some it does not, drawn from
/// their schemas, and its body; at times one of them slightly wrong.
fn draw_request(source: &mut ValueSource, validator: &Validator, operation: &Operation) -> Drawn {
    let parameters = operation.parameters(validator);
    let body_schema = operation.spec["requestBody"]["content"][JSON]["schema"].clone();
    let has_body = !body_schema.is_null();
    // Which input, if any, is drawn wrong: a parameter by index, or the body past them.
    let inputs = parameters.len() + usize::from(has_body);
    let miss = (inputs > 0 && source.chance(NEAR_MISS_ODDS)).then(|| source.below(inputs));
    let mut verdict = Expected::Admitted;
    let mut target = operation.template.to_owned();
    let mut query = Vec::new();
    let mut path_values = BTreeMap::new();
    for (i, parameter) in parameters.iter().enumerate() {
        let name = parameter["name"].as_str().expect("a named parameter");
        let required = parameter["required"] == json!(true);
        if !required && miss != Some(i) && !source.chance(OPTIONAL_PARAMETER_ODDS) {
            continue;
        }
        let mut text = as_text(&source.draw(&parameter["schema"]));
        if miss == Some(i) {
            text = source.near_miss(&text);
            if validator.validate(&parameter["schema"], &parameter_value(&text)).is_err() {
                verdict = Expected::BadRequest;
            }
        }
        match parameter["in"].as_str() {
            Some("path") => {
                target = target.replace(&format!("{{{name}}}"), &percent_encode(&text));
                path_values.insert(name.to_owned(), text);
            }
            _ => query.push(format!("{name}={}", percent_encode(&text))),
        }
    }
    if source.chance(UNLISTED_QUERY_ODDS) {
        query.push("utm_source=fuzzer".into());
    }
    if !query.is_empty() {
        target = format!("{target}?{}", query.join("&"));
    }
    let body = has_body.then(|| {
        let (body, body_verdict) = draw_body(source, validator, &body_schema, miss == Some(parameters.len()));
        verdict = body_verdict.unwrap_or(verdict);
        body
    });
    Drawn { target: format!("/api{target}"), path_values, body, verdict }
}

/// A body under `schema` in a content type a JSON body may be sent as; when `wrong`, with its
/// content type or its content slightly off, and then what the document says of it.
fn draw_body(source: &mut ValueSource, validator: &Validator, schema: &Value, wrong: bool) -> (Body, Option<Expected>) {
    let mut value = source.draw(schema);
    let mut content_type = *source.pick(&JSON_TYPES);
    let mut verdict = None;
    if wrong && source.chance(OTHER_TYPE_ODDS) {
        content_type = *source.pick(&OTHER_TYPES);
        verdict = Some(Expected::UnsupportedMediaType);
    } else if wrong {
        value = near_miss_body(source, value);
        verdict = validator.validate(schema, &value).is_err().then_some(Expected::BadRequest);
    }
    (Body { json: value.to_string(), content_type }, verdict)
}

/// A body with one thing wrong: one string slightly off, a property dropped, or one added.
fn near_miss_body(source: &mut ValueSource, mut value: Value) -> Value {
    let Some(object) = value.as_object_mut() else { return json!([value]) };
    let names: Vec<String> = object.keys().cloned().collect();
    let name = source.pick(&names).clone();
    match (source.below(3), &object[&name]) {
        (0, Value::String(text)) => {
            let miss = source.near_miss(text);
            object.insert(name, Value::String(miss));
        }
        (1, _) => {
            object.remove(&name);
        }
        _ => {
            object.insert("unlisted".into(), json!(true));
        }
    }
    value
}

/// A parameter's value as sent in a URL.
fn as_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A parameter's text as the value its schema describes: a plain decimal is the integer it
/// spells (an integer's only form, as `api_params` takes it), anything else a string.
fn parameter_value(text: &str) -> Value {
    match text.parse::<u64>() {
        Ok(n) if n.to_string() == text => json!(n),
        _ => Value::String(text.to_owned()),
    }
}

/// Every byte but the unreserved ones of RFC 3986 percent-encoded.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn send(addr: std::net::SocketAddr, operation: &Operation<'_>, drawn: &Drawn) -> Response {
    let method = operation.method.to_uppercase();
    let head = format!("{method} {} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n", drawn.target);
    match &drawn.body {
        None => request(addr, &format!("{head}\r\n")).await,
        Some(body) => {
            let length = body.json.len();
            let raw =
                format!("{head}Content-Type: {}\r\nContent-Length: {length}\r\n\r\n{}", body.content_type, body.json);
            request(addr, &raw).await
        }
    }
}

/// Whether `answer` is what the document says `drawn` must get.
fn check(
    validator: &Validator,
    spec: &Value,
    operation: &Operation,
    drawn: &Drawn,
    answer: &Response,
) -> Result<(), String> {
    check_answer(validator, spec, operation.method, operation.template, answer)?;
    let reason =
        || serde_json::from_slice::<Value>(&answer.body).ok().and_then(|b| b["error"].as_str().map(str::to_owned));
    let expected = match drawn.verdict {
        Expected::BadRequest => answer.status == 400,
        Expected::UnsupportedMediaType => answer.status == 415,
        Expected::Admitted if operation.method == "get" => {
            answer.status == 200 || answer.status == 404 && operation.documents(404)
        }
        Expected::Admitted => {
            answer.status == 200
                || answer.status == 400 && reason().is_some_and(|r| CONTENT_VERDICTS.iter().any(|v| r.starts_with(v)))
        }
    };
    if !expected {
        return Err(format!("expected {:?}, got {} {:?}", drawn.verdict, answer.status, reason()));
    }
    if answer.status == 200 { check_echo(operation, drawn, &answer.json()) } else { Ok(()) }
}

/// A lookup's answer names what was asked for.
fn check_echo(operation: &Operation, drawn: &Drawn, body: &Value) -> Result<(), String> {
    let Some(echo) = ECHOES.iter().find(|echo| echo.template == operation.template) else { return Ok(()) };
    let asked = &drawn.path_values[echo.parameter];
    if echo.fields.iter().any(|field| as_text(&body[*field]) == *asked) {
        Ok(())
    } else {
        Err(format!("asked for {} {asked}, the answer is about something else: {body}", echo.parameter))
    }
}

/// A chain with something of each kind to look up: blocks with payments, a block on a side
/// branch, a pooled transaction, addresses with and without history; and a valid transaction
/// and block not yet submitted. Returns the values that name them, to plant in the fuzzer.
fn build_chain(driver: &Driver) -> Vec<Value> {
    let key = SecretKey::from_bytes(&[21; 32]);
    let [payee, pooled_payee, fresh_payee, side_miner] =
        [22, 23, 24, 25].map(|b| SecretKey::from_bytes(&[b; 32]).public_key());
    for i in 0..12 {
        mine(driver, key.public_key(), i);
    }
    let side = solved_template(driver, side_miner, 77);
    let paid = pay(driver, &key, payee);
    driver.with_node(|n| n.submit_transaction(paid.clone(), now())).expect("a valid payment");
    mine(driver, key.public_key(), 12);
    driver.with_node(|n| n.submit_block(side.clone(), now())).expect("a recent side block is kept");
    let pooled = pay(driver, &key, pooled_payee);
    driver.with_node(|n| n.submit_transaction(pooled.clone(), now())).expect("a valid payment");
    let fresh_tx = pay(driver, &key, fresh_payee);
    let fresh_block = solved_template(driver, key.public_key(), 99);
    let addresses = [key.public_key(), payee, pooled_payee, fresh_payee].map(|k| json!(encode_address("tabrt", &k)));
    let named = [
        json!(side.block_hash().to_string()),
        json!(paid.txid().to_string()),
        json!(pooled.txid().to_string()),
        json!(hex::encode(&encode(&fresh_tx))),
        json!(hex::encode(&encode(&fresh_block))),
    ];
    addresses.into_iter().chain(named).collect()
}

/// A block on the tip paying `owner`, its proof of work done, not submitted.
fn solved_template(driver: &Driver, owner: PublicKey, extra_nonce: u64) -> Block {
    let on_schedule = driver.read(|n| u64::from(n.chain().tip().header().time) + 10).min(now());
    let template = driver.read(|n| n.block_template(owner, extra_nonce, on_schedule));
    Block { header: search_nonce(&template.header, 1 << 24).expect("regtest is easy"), ..template }
}

/// A payment of one coin from `key`'s wallet to `to`, built but not submitted.
fn pay(driver: &Driver, key: &SecretKey, to: PublicKey) -> Transaction {
    driver.read(|n| {
        let wallet = Wallet::new(key.clone(), n.chain());
        let amount = Amount::from_units(COIN).expect("one coin");
        wallet.build_payment(n.chain(), n.mempool(), to, amount, FeeRate(2000)).expect("funded")
    })
}
