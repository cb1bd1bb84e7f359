use caravan_plugin_email_parser::*;
#[test]
fn tok() {
    let unit = "We would love to spend some time on the beach with the family, maybe with some snorkelling and good food. ";
    let text: String = unit.repeat(24 * 1024 / unit.len());
    for _ in 0..400 {
        std::hint::black_box(tokens::Tokens::new(&text));
    }
}
