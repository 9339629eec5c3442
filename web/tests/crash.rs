//! Checks, inside headless Chromium, that a crash reaches the page in words: the panic hook's
//! report goes to the page's `globalThis.tabchainFatal`, which `main.js` sets to show its banner,
//! and without one (a worker) it still returns quietly.
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Reflect};
use tabchain_web::{FATAL_HANDLER, report_crash};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn a_crash_report_reaches_the_page_handler_and_nothing_else_breaks_without_one() {
    let global = js_sys::global();
    let key = JsValue::from_str(FATAL_HANDLER);
    Reflect::delete_property(&global, &key).expect("delete");
    report_crash("tabchain crashed: with no handler");

    let record = Function::new_with_args("message", "globalThis.reported = message;");
    Reflect::set(&global, &key, &record).expect("set the handler");
    report_crash("tabchain crashed: at core/src/x.rs:1:1");
    let reported = Reflect::get(&global, &JsValue::from_str("reported")).expect("get");
    assert_eq!(reported.as_string().as_deref(), Some("tabchain crashed: at core/src/x.rs:1:1"));

    let throwing = Function::new_with_args("message", "throw new Error('the page failed');");
    Reflect::set(&global, &key, &throwing).expect("set the handler");
    report_crash("tabchain crashed: again");
    Reflect::delete_property(&global, &key).expect("delete");
}
