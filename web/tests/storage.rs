//! The tab's storage round trip in headless Chromium, at the wasm boundary: the change sets a
//! `TabNode` hands the page to store, given back as the page reads them from IndexedDB (an array
//! of `Uint8Array`s), rebuild the same chain and wallet with `TabNode::restore`. (The IndexedDB
//! layer itself, `www/store.js`, is exercised by the end-to-end reload test.)
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Reflect, Uint8Array};
use tabchain_core::{Header, decode, hex, search_nonce};
use tabchain_web::TabNode;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const SEED: &str = "0707070707070707070707070707070707070707070707070707070707070707";
const NOW: f64 = 1_800_000_000.0;
const BLOCKS: usize = 5;

fn field(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).expect("an object")
}

/// Mines `BLOCKS` blocks in `tab`; returns the bytes of every change set it asked to persist.
fn mine(tab: &mut TabNode) -> Vec<Uint8Array> {
    let mut sets = Vec::new();
    for i in 0..BLOCKS {
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

#[wasm_bindgen_test]
fn change_sets_handed_out_restore_the_same_node() {
    let mut tab = TabNode::new("regtest", SEED).expect("a node");
    let sets = mine(&mut tab);
    assert_eq!(sets.len(), BLOCKS, "one change set per block");
    let stored = Array::new();
    for set in &sets {
        // The page stores a copy of the bytes and reads back a fresh array.
        stored.push(&Uint8Array::from(set.to_vec().as_slice()));
    }
    let restored = TabNode::restore("regtest", SEED, stored.clone()).expect("restores");
    assert_eq!(status(&restored), status(&tab));
    assert_eq!(status(&restored).0, BLOCKS as u32);

    // A corrupt stored set is refused with a reason naming it, not a panic.
    let corrupt = Array::of2(&stored.get(0), &Uint8Array::from(&[0xff_u8, 1, 2][..]));
    let refused = TabNode::restore("regtest", SEED, corrupt).expect_err("a corrupt set is refused");
    let message = js_sys::Error::from(JsValue::from(refused)).message();
    assert_eq!(message, "stored change set 1 is corrupt: invalid change set version");
}
