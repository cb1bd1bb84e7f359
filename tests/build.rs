#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Compiles the test-only plugins in `tests/plugins/` to WebAssembly components.

include!("../plugins/build_support.rs");

fn main() {
    for path in ["plugins", "../sdk", "../wit"] {
        println!("cargo:rerun-if-changed={path}");
    }
    let dir = build_wasm(&["caravan-test-plugin-hostile"], &[]);
    println!(
        "cargo:rustc-env=HOSTILE_PLUGIN={}",
        dir.join("caravan_test_plugin_hostile.wasm").display()
    );
}
