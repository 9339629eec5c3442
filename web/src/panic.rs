//! The panic hook: a panic in wasm otherwise surfaces only as an opaque
//! `RuntimeError: unreachable`, so the hook logs the message and its location
//! to the console and shows it in the page's `#fatal` element, if the page
//! has one (a worker has no `document`, and then the console is all there is).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
export function show_fatal(message) {
    if (typeof document === "undefined") return;
    const banner = document.getElementById("fatal");
    if (banner === null) return;
    banner.textContent = message;
    banner.hidden = false;
}
"#)]
extern "C" {
    fn show_fatal(message: &str);
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str);
}

/// Replaces the default hook, which writes to a stderr that wasm does not
/// have. Only on wasm: a native test keeps the standard hook.
pub(crate) fn install_hook() {
    if cfg!(target_arch = "wasm32") {
        std::panic::set_hook(Box::new(|info| {
            let message = format!("tabchain crashed: {info}");
            console_error(&message);
            show_fatal(&message);
        }));
    }
}
