#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Compiles the default plugins in `plugins/` to WebAssembly components and embeds them.
//! Also rebuilds the host when migrations change (they are embedded with `sqlx::migrate!`).

include!("../plugins/build_support.rs");

/// (slot, package) of every default plugin.
const DEFAULT_PLUGINS: &[(&str, &str)] = &[
    ("email-parser", "caravan-plugin-email-parser"),
    ("quote-rules", "caravan-plugin-quote-rules"),
    ("pricing", "caravan-plugin-pricing"),
    ("pdf-template", "caravan-plugin-pdf-template"),
];

fn main() {
    for path in ["../migrations", "../plugins", "../sdk", "../wit"] {
        println!("cargo:rerun-if-changed={path}");
    }
    let packages: Vec<&str> = DEFAULT_PLUGINS.iter().map(|(_, p)| *p).collect();
    let wasm_dir = build_wasm(&packages, &[]);
    let mut code = String::from("/// Default plugin components by slot name.\n");
    code.push_str("pub const DEFAULT_PLUGINS: &[(&str, &[u8])] = &[\n");
    for (slot, package) in DEFAULT_PLUGINS {
        let file = wasm_dir.join(format!("{}.wasm", package.replace('-', "_")));
        code.push_str(&format!(
            "    ({slot:?}, include_bytes!({:?})),\n",
            file.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out =
        std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap()).join("default_plugins.rs");
    std::fs::write(out, code).expect("writing default_plugins.rs");
}
