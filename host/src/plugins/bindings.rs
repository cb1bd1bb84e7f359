//! Host-side bindings of the `caravan:plugins@1.0.0` worlds.
//!
//! The shared interfaces are generated once (from the `sdk-types` world) and every slot
//! world reuses them through `with`, so a `Money` is the same Rust type in every slot.

#![allow(missing_docs, missing_debug_implementations, clippy::all)]

wasmtime::component::bindgen!({
    world: "sdk-types",
    path: "../wit",
    additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
});

pub use self::caravan::plugins::{documents, email, host, quoting, types};

pub mod email_parser {
    wasmtime::component::bindgen!({
        world: "email-parser",
        path: "../wit",
        exports: { default: async },
        with: {
            "caravan:plugins/types": super::caravan::plugins::types,
            "caravan:plugins/email": super::caravan::plugins::email,
            "caravan:plugins/host": super::caravan::plugins::host,
        },
    });
}

pub mod quote_rules {
    wasmtime::component::bindgen!({
        world: "quote-rules",
        path: "../wit",
        exports: { default: async },
        with: {
            "caravan:plugins/types": super::caravan::plugins::types,
            "caravan:plugins/quoting": super::caravan::plugins::quoting,
            "caravan:plugins/host": super::caravan::plugins::host,
        },
    });
}

pub mod pricing {
    wasmtime::component::bindgen!({
        world: "pricing",
        path: "../wit",
        exports: { default: async },
        with: {
            "caravan:plugins/types": super::caravan::plugins::types,
            "caravan:plugins/quoting": super::caravan::plugins::quoting,
            "caravan:plugins/host": super::caravan::plugins::host,
        },
    });
}

pub mod pdf_template {
    wasmtime::component::bindgen!({
        world: "pdf-template",
        path: "../wit",
        exports: { default: async },
        with: {
            "caravan:plugins/types": super::caravan::plugins::types,
            "caravan:plugins/quoting": super::caravan::plugins::quoting,
            "caravan:plugins/documents": super::caravan::plugins::documents,
            "caravan:plugins/host": super::caravan::plugins::host,
        },
    });
}
