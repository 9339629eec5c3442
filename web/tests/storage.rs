//! The tab's storage round trip in headless Chromium, at the wasm boundary: a `TabNode`'s
//! checkpoint, taken record by record as the page stores it, and the change sets it handed out
//! after, given back to `TabResume` as the page reads them from IndexedDB, resume the same chain
//! and wallet; a damaged store is refused with a "ResumeError". (The IndexedDB layer itself,
//! `www/store.js`, is exercised by the end-to-end storage tests.)
#![cfg(target_arch = "wasm32")]

use js_sys::{Reflect, Uint8Array};
use tabchain_core::{Header, decode, hex, search_nonce};
use tabchain_web::{TabNode, TabResume};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const SEED: &str = "0707070707070707070707070707070707070707070707070707070707070707";
const NOW: f64 = 1_800_000_000.0;
const BLOCKS: usize = 5;

fn field(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).expect("an object")
}

/// Mines `BLOCKS` blocks in `tab`, the first with extra nonce `from`; returns the bytes of every
/// change set it asked to persist.
fn mine(tab: &mut TabNode, from: usize) -> Vec<Uint8Array> {
    let mut sets = Vec::new();
    for i in from..from + BLOCKS {
        let now = NOW + i as f64;
        let header: Header =
            decode(&hex::decode(&tab.template(i as f64, now).expect("a template")).expect("hex")).expect("a header");
        let found = search_nonce(&header, 1 << 20).expect("regtest is easy");
        assert!(tab.submit_nonce(found.nonce, now), "own block refused");
        for output in tab.poll().expect("outputs").iter() {
            if field(&output, "type") == "persist" {
                sets.push(Uint8Array::new(&field(&output, "bytes")));
            }
        }
    }
    sets
}

fn status(tab: &TabNode) -> (JsValue, JsValue, JsValue) {
    let s = tab.status().expect("a status");
    (field(&s, "height"), field(&s, "tip"), field(&s, "confirmed"))
}

/// Every record of `tab`'s checkpoint, taken as the page takes them.
fn checkpoint(tab: &TabNode) -> Vec<Uint8Array> {
    let mut checkpoint = tab.checkpoint().expect("every set was polled");
    let records: Vec<Uint8Array> =
        std::iter::from_fn(|| tab.checkpoint_record(&mut checkpoint).expect("the node did not move")).collect();
    assert!(records.len() >= 3, "at least coins, the end and a block or header record");
    records
}

fn resume(records: &[Uint8Array], sets: &[Uint8Array]) -> Result<TabNode, JsValue> {
    let mut resume = TabResume::new("regtest").expect("a network");
    for record in records {
        resume.push_record(&record.to_vec())?;
    }
    for set in sets {
        resume.apply_change_set(&set.to_vec())?;
    }
    Ok(resume.finish(SEED).expect("a seed"))
}

#[wasm_bindgen_test]
fn a_checkpoint_and_the_sets_after_it_resume_the_same_node() {
    let mut tab = TabNode::new("regtest", SEED).expect("a node");
    let before = mine(&mut tab, 0);
    let records = checkpoint(&tab);
    let after = mine(&mut tab, BLOCKS);
    assert_eq!(after.len(), BLOCKS, "one change set per block");
    let resumed = resume(&records, &after).expect("resumes");
    assert_eq!(status(&resumed), status(&tab));
    assert_eq!(status(&resumed).0, 2 * BLOCKS as u32);
    let history =
        |tab: &TabNode| String::from(js_sys::JSON::stringify(&tab.history().expect("history")).expect("JSON"));
    assert_eq!(history(&resumed), history(&tab));
    assert!(history(&tab).contains("\"coinbase\":true"), "the wallet mined: {}", history(&tab));

    // A store from before checkpoints (a journal from genesis) resumes the same way.
    let journal: Vec<Uint8Array> = before.into_iter().chain(after.iter().cloned()).collect();
    assert_eq!(status(&resume(&[], &journal).expect("resumes")), status(&tab));

    // A set the checkpoint already holds is refused, not applied twice.
    let twice = resume(&checkpoint(&tab), &after).expect_err("a set replayed on a checkpoint that holds it");
    assert_eq!(js_sys::Error::from(twice).name(), "ResumeError");
}

#[wasm_bindgen_test]
fn a_corrupt_record_is_refused_with_its_typed_error() {
    let mut tab = TabNode::new("regtest", SEED).expect("a node");
    mine(&mut tab, 0);
    let mut records = checkpoint(&tab);
    // The end record names the tip: change one byte of the tip's hash.
    let end = records.iter().position(|r| r.get_index(1) == 3).expect("an end record");
    let damaged = records[end].to_vec();
    let mut changed = damaged.clone();
    changed[2] ^= 1;
    records[end] = Uint8Array::from(changed.as_slice());
    let refused = js_sys::Error::from(resume(&records, &[]).expect_err("refused"));
    assert_eq!(refused.name(), "ResumeError");
    let message = String::from(refused.message());
    assert!(message.starts_with("the stored tip ") && message.contains(" is not the last stored block "), "{message}");

    // An unknown format version.
    records[end] = Uint8Array::from(damaged.as_slice());
    records[0].set_index(0, 9);
    let refused = js_sys::Error::from(resume(&records, &[]).expect_err("refused"));
    assert_eq!(String::from(refused.message()), "a stored checkpoint record is corrupt: invalid checkpoint version");
}
