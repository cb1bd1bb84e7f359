//! What the customer would like beyond dates and people: preferences ("honeymoon", "sea
//! view", "all inclusive") and a hotel asked for by name.

use crate::lexicon::{HOTEL_KIND, PREFERENCE};
use crate::phrases::Phrases;
use crate::tokens::Tokens;

/// Wishes worth a consultant's attention, matched as whole words.
pub(crate) const PREFERENCES: &[&str] = &[
    "honeymoon",
    "anniversary",
    "birthday",
    "sea view",
    "ocean view",
    "sea facing",
    "beachfront",
    "beach front",
    "on the beach",
    "all inclusive",
    "half board",
    "full board",
    "bed and breakfast",
    "b&b",
    "self catering",
    "room only",
    "private pool",
    "plunge pool",
    "pool villa",
    "water villa",
    "overwater",
    "over water",
    "beach villa",
    "family room",
    "family suite",
    "interleading",
    "connecting rooms",
    "adults only",
    "child friendly",
    "kid friendly",
    "family friendly",
    "game drives",
    "game drive",
    "safari",
    "scuba",
    "diving",
    "snorkelling",
    "snorkeling",
    "spa",
    "golf",
    "fishing",
    "wheelchair",
    "accessible",
    "vegetarian",
    "vegan",
    "halal",
    "kosher",
    "gluten free",
    "airport transfers",
    "transfers",
    "flights",
    "car hire",
    "luxury",
    "5 star",
    "five star",
    "4 star",
    "four star",
    "quiet",
    "romantic",
    "malaria free",
    "non smoking",
    "king bed",
    "twin beds",
    "balcony",
    "sunset cruise",
    "boat cruise",
    "tented camp",
    "treehouse",
    "walking safari",
    "gorilla trekking",
    "hot air balloon",
    "balloon safari",
    "kids club",
    "babysitting",
    "cot",
    "sea-view",
];

/// Words that end a hotel's name.
pub(crate) const KINDS: &[&str] = &[
    "hotel",
    "lodge",
    "resort",
    "camp",
    "villas",
    "villa",
    "inn",
    "suites",
    "retreat",
    "reserve",
    "guesthouse",
    "manor",
    "palace",
    "boutique",
    "sanctuary",
    "island",
    "spa",
    "house",
    "cottages",
    "apartments",
    "residence",
    "collection",
];

/// Capitalised words that do not begin a hotel's name.
const NOT_NAME: &[&str] = &[
    "a",
    "an",
    "the",
    "any",
    "some",
    "nice",
    "good",
    "our",
    "your",
    "we",
    "i",
    "this",
    "that",
    "which",
    "what",
    "luxury",
    "family",
    "beach",
    "small",
    "big",
    "cheap",
    "budget",
    "great",
    "lovely",
    "best",
    "safari",
    "game",
    "private",
    "national",
    "star",
    "one",
    "another",
    "hi",
    "hello",
    "dear",
    "please",
    "also",
    "and",
    "or",
    "in",
    "at",
    "of",
    "to",
    "for",
    "from",
    "is",
    "are",
    "can",
    "could",
    "would",
    "will",
    "do",
    "does",
    "did",
    "has",
    "have",
    "was",
    "were",
    "stay",
    "staying",
    "book",
    "booked",
    "love",
    "loved",
    "like",
    "liked",
    "want",
    "prefer",
    "maybe",
    "perhaps",
    "how",
    "about",
    "when",
    "where",
    "why",
    "who",
    "my",
    "me",
    "us",
    "it",
    "if",
    "yes",
    "no",
    "thanks",
    "thank",
    "ideally",
    "preferably",
    "either",
];

/// The customer's preferences, as written (lower case), in order of mention.
pub fn find_preferences(t: &Tokens, extra: &[String]) -> Vec<String> {
    // Most emails mention none: skip building the phrase table then.
    let may_start = |i: usize| {
        t.has(i, PREFERENCE) || t.num(i).is_some() && t.is_any(i + 1, &["star", "stars"])
    };
    if extra.is_empty() && !(0..t.len()).any(may_start) {
        return Vec::new();
    }
    let mut phrases = Phrases::default();
    for (id, p) in PREFERENCES.iter().enumerate() {
        phrases.add(p, id);
    }
    for (n, p) in extra.iter().enumerate() {
        phrases.add(p, PREFERENCES.len() + n);
    }
    let mut out: Vec<String> = Vec::new();
    let found = if extra.is_empty() {
        phrases.find_where(t, may_start)
    } else {
        phrases.find_all(t)
    };
    for f in found {
        let text = t.span(f.start, f.last).to_lowercase();
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if !out.contains(&text) {
            out.push(text);
        }
        if out.len() >= 10 {
            break;
        }
    }
    out
}

/// A hotel asked for by name: one of the tenant's `known` hotels, else capitalised words
/// ending in a kind of place ("Coral Cove Resort", "Baraka Beach Lodge") or starting with
/// one ("Hotel Verde").
pub fn find_hotel(t: &Tokens, known: &[String]) -> Option<String> {
    if !known.is_empty() {
        let mut phrases = Phrases::default();
        for (id, h) in known.iter().enumerate() {
            phrases.add(h, id);
        }
        if let Some(f) = phrases.find_all(t).first() {
            return known.get(f.id).cloned();
        }
    }
    for i in 0..t.len() {
        if !t.has(i, HOTEL_KIND) || !t.capitalised(i) {
            continue;
        }
        // Capitalised words before the kind: "Coral Cove Resort".
        let mut start = i;
        while start > 0 && i - start < 5 && !t.line_start(start) {
            let k = start - 1;
            let joins = t.is_sym(k, '&') || t.is_any(k, &["of", "de", "la", "le"]);
            if !(t.word(k).is_some() && t.capitalised(k) || joins) {
                break;
            }
            start = k;
        }
        while start < i && (t.is_any(start, NOT_NAME) || t.sym(start).is_some()) {
            start += 1;
        }
        if start < i {
            return Some(t.span(start, i).to_owned());
        }
        // "Hotel Verde", "Lodge Kwa Zulu"
        let mut end = i;
        while end + 1 < t.len()
            && end - i < 4
            && t.word(end + 1).is_some()
            && t.capitalised(end + 1)
            && !t.line_start(end + 1)
        {
            end += 1;
        }
        if end > i && !t.is_any(i + 1, NOT_NAME) {
            return Some(t.span(i, end).to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hotel(text: &str) -> Option<String> {
        find_hotel(&Tokens::new(text), &[])
    }

    #[test]
    fn preferences_are_found_in_the_customers_words() {
        let t =
            Tokens::new("Our honeymoon! Sea-view room, all-inclusive or Half Board, and a spa.");
        assert_eq!(
            find_preferences(&t, &[]),
            [
                "honeymoon",
                "sea-view",
                "all-inclusive",
                "half board",
                "spa"
            ]
        );
    }

    #[test]
    fn configured_preferences_are_matched_too() {
        let t = Tokens::new("We need a dive centre nearby");
        assert_eq!(
            find_preferences(&t, &["dive centre".to_owned()]),
            ["dive centre"]
        );
    }

    #[test]
    fn named_hotels_are_found() {
        assert_eq!(
            hotel("Could we stay at the Coral Cove Resort?").as_deref(),
            Some("Coral Cove Resort")
        );
        assert_eq!(
            hotel("We loved Baraka Beach Lodge last time").as_deref(),
            Some("Baraka Beach Lodge")
        );
        assert_eq!(
            hotel("Is Hotel Verde available?").as_deref(),
            Some("Hotel Verde")
        );
        assert_eq!(hotel("Any Lodge in the Kruger is fine").as_deref(), None);
        assert_eq!(hotel("a nice hotel near the beach"), None);
    }

    #[test]
    fn known_hotels_match_in_any_case() {
        let t = Tokens::new("is the baraka beach lodge free?");
        assert_eq!(
            find_hotel(&t, &["Baraka Beach Lodge".to_owned()]).as_deref(),
            Some("Baraka Beach Lodge")
        );
    }
}
