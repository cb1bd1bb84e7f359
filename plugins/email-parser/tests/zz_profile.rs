use caravan_plugin_email_parser::*;
use std::time::Instant;
#[test]
fn profile() {
    for unit in [
        "We would love to spend some time on the beach with the family, maybe with some snorkelling and good food. ",
        "1 2 3 4 5 6 7 8 9 10 ",
    ] {
        let text: String = unit.repeat(24 * 1024 / unit.len());
        let n = 20;
        let t0 = Instant::now();
        for _ in 0..n {
            std::hint::black_box(text::normalise(&text));
        }
        println!("normalise {:?}", t0.elapsed() / n);
        let t0 = Instant::now();
        for _ in 0..n {
            std::hint::black_box(text::strip_quoted(&text));
        }
        println!("strip {:?}", t0.elapsed() / n);
        let t0 = Instant::now();
        for _ in 0..n {
            std::hint::black_box(forward::split(&text, true));
        }
        println!("forward {:?}", t0.elapsed() / n);
        let t0 = Instant::now();
        for _ in 0..n {
            std::hint::black_box(tokens::Tokens::new(&text));
        }
        println!("tokens {:?}", t0.elapsed() / n);
        let t = tokens::Tokens::new(&text);
        println!("tokens: {}", t.len());
        let t0 = Instant::now();
        for _ in 0..n {
            std::hint::black_box(dates::find_stay(&t, None, dates::DateOrder::DayFirst));
        }
        println!("dates {:?}", t0.elapsed() / n);
        let t0 = Instant::now();
        for _ in 0..n {
            std::hint::black_box(party::find_party(&t));
        }
        println!("party {:?}", t0.elapsed() / n);
        let t0 = Instant::now();
        for _ in 0..n {
            std::hint::black_box(budget::find_budget(&t, "ZAR"));
        }
        println!("budget {:?}", t0.elapsed() / n);
        let t0 = Instant::now();
        for _ in 0..n {
            std::hint::black_box(destinations::find_destinations(&t, &[]));
        }
        println!("dest {:?}", t0.elapsed() / n);
        let t0 = Instant::now();
        for _ in 0..n {
            std::hint::black_box(wishes::find_preferences(&t, &[]));
        }
        println!("prefs {:?}", t0.elapsed() / n);
        let t0 = Instant::now();
        for _ in 0..n {
            std::hint::black_box(wishes::find_hotel(&t, &[]));
        }
        println!("hotel {:?}", t0.elapsed() / n);
        let t0 = Instant::now();
        for _ in 0..n {
            std::hint::black_box(contact::find_phone(&t, 0, t.len()));
        }
        println!("phone {:?}", t0.elapsed() / n);
        let t0 = Instant::now();
        for _ in 0..n {
            std::hint::black_box(classify::by_body(&text));
        }
        println!("classify {:?}", t0.elapsed() / n);
        let t0 = Instant::now();
        for _ in 0..n {
            std::hint::black_box(contact::signoff_name(&text));
        }
        println!("signoff {:?}", t0.elapsed() / n);
    }
}
