//! The built-in plugins embedded in the host behave exactly as their source does natively:
//! the build really compiles and embeds the current `plugins/`.

use caravan::plugins::{CallSpec, PluginRuntime, Slot, defaults, fixtures};
use caravan_sdk::{EmailParser, PdfTemplate, Pricing, QuoteRules};
use serde::Serialize;
use serde::de::DeserializeOwned;

fn convert<A: Serialize, B: DeserializeOwned>(a: &A) -> B {
    serde_json::from_value(serde_json::to_value(a).unwrap()).unwrap()
}

fn json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap()
}

#[tokio::test]
async fn each_embedded_default_plugin_matches_its_native_build() {
    let runtime = PluginRuntime::new().unwrap();
    let spec = CallSpec::new("sample", "default");
    let tenant = fixtures::tenant();
    let compiled = |slot| runtime.compile(slot, defaults::component(slot)).unwrap();

    let email = fixtures::email();
    let (wasm, _) = runtime
        .parse_email(&compiled(Slot::EmailParser), &spec, &email, &tenant)
        .await
        .unwrap();
    let native =
        caravan_plugin_email_parser::DefaultParser::parse(convert(&email), convert(&tenant))
            .unwrap();
    assert_eq!(json(&wasm), json(&native));
    assert!(
        matches!(
            wasm,
            caravan::plugins::bindings::email::ParseOutcome::Enquiry(_)
        ),
        "{wasm:?}"
    );

    let (trip, rates) = (fixtures::trip(), fixtures::rates());
    let (wasm, _) = runtime
        .propose(&compiled(Slot::QuoteRules), &spec, &trip, &rates, &tenant)
        .await
        .unwrap();
    let native = caravan_plugin_quote_rules::DefaultRules::propose(
        convert(&trip),
        convert(&rates),
        convert(&tenant),
    )
    .unwrap();
    assert_eq!(json(&wasm), json(&native));
    assert!(!wasm.options.is_empty());

    let request = fixtures::pricing_request();
    let (wasm, _) = runtime
        .price(&compiled(Slot::Pricing), &spec, &request, &tenant)
        .await
        .unwrap();
    let native =
        caravan_plugin_pricing::DefaultPricing::price(convert(&request), convert(&tenant)).unwrap();
    assert_eq!(json(&wasm), json(&native));
    assert_eq!(wasm.options.len(), 3);

    for request in [fixtures::quote_document(), fixtures::invoice_document()] {
        let (wasm, _) = runtime
            .render(&compiled(Slot::PdfTemplate), &spec, &request)
            .await
            .unwrap();
        let native =
            caravan_plugin_pdf_template::DefaultTemplate::render(convert(&request)).unwrap();
        assert_eq!(json(&wasm), json(&native));
        assert!(!wasm.blocks.is_empty());
    }
}
