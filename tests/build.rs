#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Compiles the test-only plugins in `tests/plugins/` to WebAssembly components.

include!("../plugins/build_support.rs");

fn main() {
    for path in ["plugins", "../sdk", "../wit"] {
        println!("cargo:rerun-if-changed={path}");
    }
    let plugins = [
        ("HOSTILE_PLUGIN", "caravan-test-plugin-hostile"),
        ("NOOP_PLUGIN", "caravan-test-plugin-noop"),
        ("BULKY_PLUGIN", "caravan-test-plugin-bulky"),
        ("DUAL_PLUGIN", "caravan-test-plugin-dual"),
        ("BROKEN_PARSER_PLUGIN", "caravan-test-plugin-broken-parser"),
    ];
    let packages: Vec<&str> = plugins.iter().map(|(_, p)| *p).collect();
    let dir = build_wasm(&packages, &[]);
    for (var, package) in plugins {
        let file = dir.join(format!("{}.wasm", package.replace('-', "_")));
        println!("cargo:rustc-env={var}={}", file.display());
    }
}
