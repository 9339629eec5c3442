//! Builds this crate again whenever the page (`www/`) changes, so that the page built into the
//! relay is the one on disk: the derive macro that embeds it reads the folder while compiling,
//! and cargo sees no file of it otherwise. Says so, in one sentence, when the wasm bundles are
//! missing (a fresh clone before `cargo xtask build`).

use std::path::Path;

include!("src/bundles.rs");

fn main() {
    println!("cargo::rerun-if-changed=../../www");
    let www = Path::new("../../www");
    if BUNDLES.iter().any(|bundle| !www.join(bundle).is_file()) {
        println!(
            "cargo::warning=www/pkg and www/pkg-scalar are not built, so this relay serves a page saying to run `cargo xtask build` (which builds them and the relay again)"
        );
    }
}
