/// What the page cannot start or mine without: the node's and the miners' modules, with and
/// without SIMD. One list for `lib.rs` and `build.rs`, which both `include!` this file.
pub const BUNDLES: [&str; 4] = [
    "pkg/tabchain_web_bg.wasm",
    "pkg-scalar/tabchain_web_bg.wasm",
    "pkg/tabchain_web_miner_bg.wasm",
    "pkg-scalar/tabchain_web_miner_bg.wasm",
];
