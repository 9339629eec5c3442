//! The page (`www/`: HTML, CSS, modules, both wasm bundles and the development pages) as the
//! relay's binary holds it, so that `tabchain serve` works from any folder and
//! `cargo install --path relay` gives a whole relay. The relay's `page` module serves it over
//! HTTP. A crate of its own because embedding compresses the page while compiling, a few
//! seconds of work that should run when `www/` changes (`build.rs`), not on every build of the
//! relay.
//!
//! The embedding is `rust-embed-for-web`'s derive: a fork of `rust-embed` (the most used
//! embedding crate) made for web servers, released since 2022 and still (11.3 in November 2025,
//! 11.4 since), with an `allow_missing` that a clone without bundles needs. It makes each
//! file's gzip and brotli forms and its SHA-256 while compiling, so the relay serves them as
//! they are, spending no time or memory at start. The others weighed: `rust-embed` makes no
//! compressed forms (the relay would compress at every start, or by hand in a build script);
//! `memory-serve`, made for axum, compresses only brotli at build time and makes gzip at every
//! start into leaked buffers (per router, and the tests start many), reads the files from disk
//! in debug builds unless forced, and panics in its build script when the folder is missing.
//! None of the three answers as the relay needs (an `ETag` per coding, `no-cache` everywhere),
//! so the HTTP part is the relay's own: the cost is the page three times over in the binary
//! (as it is, gzipped, brotli), about 4.7 MB.

use rust_embed_for_web::RustEmbed;
pub use rust_embed_for_web::{EmbedableFile, EmbeddedFile};

#[derive(RustEmbed)]
#[folder = "../../www/"]
// TypeScript declarations wasm-bindgen writes beside the glue: no browser asks for them.
#[exclude = "*.d.ts"]
// A source tree without `www/` still builds, and has no page.
#[allow_missing = true]
struct Www;

include!("bundles.rs");

/// The file `name` (a path under `www/`, such as `pkg/tabchain_web.js`), if it was built in.
pub fn file(name: &str) -> Option<EmbeddedFile> {
    Www::get(name)
}

/// Whether the whole page was built in, wasm bundles included.
pub fn is_built() -> bool {
    BUNDLES.iter().all(|bundle| file(bundle).is_some())
}
