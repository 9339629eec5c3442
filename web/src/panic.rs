//! The panic hook: a panic in wasm otherwise surfaces only as an opaque
//! `RuntimeError: unreachable`, so the hook reports the message and its
//! location (`report_crash`): to the console, and to the page's
//! `globalThis.tabchainFatal(message)` if the page set one (`main.js` does, and
//! shows it in its banner; a worker has none, and then the console is all
//! there is). A plain global rather than a JavaScript snippet: a snippet is one
//! more module the page must fetch, after the glue, before the node can start.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// The global function a page sets to show a crash.
pub const FATAL_HANDLER: &str = "tabchainFatal";

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str);
}

/// Replaces the default hook, which writes to a stderr that wasm does not
/// have. Only on wasm: a native test keeps the standard hook.
pub(crate) fn install_hook() {
    if cfg!(target_arch = "wasm32") {
        std::panic::set_hook(Box::new(|info| report_crash(&format!("tabchain crashed: {info}"))));
    }
}

/// Writes `message` to the console and hands it to the page's `FATAL_HANDLER`, if it set one.
/// Never throws: it runs inside a panic.
pub fn report_crash(message: &str) {
    console_error(message);
    let handler = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str(FATAL_HANDLER));
    if let Some(handler) = handler.ok().and_then(|h| h.dyn_into::<js_sys::Function>().ok()) {
        // What the page's own handler throws is the page's; the console has the message.
        let _ = handler.call1(&JsValue::UNDEFINED, &JsValue::from_str(message));
    }
}
