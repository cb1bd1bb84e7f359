//! Hotels the customer asked for by name, matched loosely against the rates' hotel names.
//!
//! Customers write "the 5* Coral Cove Resort & Spa" or just "Coral Cove"; both should find
//! "Coral Cove Resort". Each requested name is reduced to its first distinctive word, which
//! must appear somewhere in a rate's hotel name.

use caravan_sdk::Rate;

/// Words that say what kind of place it is rather than which one.
const GENERIC: &[&str] = &[
    "the", "hotel", "hotels", "resort", "resorts", "beach", "spa", "lodge", "suites", "inn",
    "club", "star", "stars",
];

/// The first distinctive word of a requested hotel name, lower-case; the whole name when
/// every word is generic; `None` for a blank name.
pub fn keyword(name: &str) -> Option<String> {
    let lower = name.trim().to_lowercase();
    let distinctive = lower
        .split(|c: char| c.is_whitespace() || c == '/' || c == ',')
        .filter(|raw| !is_star_rating(raw))
        .map(|raw| raw.trim_matches(|c: char| !c.is_alphanumeric()))
        .find(|word| !word.is_empty() && !GENERIC.contains(word));
    match distinctive {
        Some(word) => Some(word.to_owned()),
        None if !lower.is_empty() => Some(lower),
        None => None,
    }
}

/// `5*`, `★★★★`, `5-star`, `4star`, or a lone digit as in "5 star Coral Cove".
fn is_star_rating(raw: &str) -> bool {
    if raw.contains(['*', '★', '☆']) {
        return true;
    }
    let word = raw.trim_matches(|c: char| !c.is_alphanumeric());
    let digits = word.trim_start_matches(|c: char| c.is_ascii_digit());
    match word.len() - digits.len() {
        0 => false,
        // A lone 1–7 before "star"; longer numbers belong to names ("Hotel 1898").
        _ if digits.is_empty() => word.len() == 1,
        _ => matches!(digits.trim_start_matches('-'), "star" | "stars"),
    }
}

/// The rates for the requested hotels, and the requested names no rate matched.
#[derive(Debug)]
pub struct Selection<'a> {
    pub rates: Vec<&'a Rate>,
    pub missing: Vec<String>,
}

/// Keeps the rates whose hotel name contains a requested keyword.
pub fn select<'a>(rates: &[&'a Rate], requested: &[String]) -> Selection<'a> {
    let wanted: Vec<(&String, String)> = requested
        .iter()
        .filter_map(|name| keyword(name).map(|k| (name, k)))
        .collect();
    let names: Vec<String> = rates.iter().map(|r| r.hotel_name.to_lowercase()).collect();
    let chosen = rates
        .iter()
        .zip(&names)
        .filter(|(_, name)| wanted.iter().any(|(_, k)| name.contains(k.as_str())))
        .map(|(rate, _)| *rate)
        .collect();
    let missing = wanted
        .iter()
        .filter(|(_, k)| !names.iter().any(|name| name.contains(k.as_str())))
        .map(|(name, _)| name.trim().to_owned())
        .collect();
    Selection {
        rates: chosen,
        missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::rate;

    #[test]
    fn star_ratings_and_generic_words_are_skipped() {
        assert_eq!(keyword("5* Coral Cove Resort").as_deref(), Some("coral"));
        assert_eq!(
            keyword("★★★★★ The Baraka Beach Lodge").as_deref(),
            Some("baraka")
        );
        assert_eq!(keyword("5-star Lagoon Pearl").as_deref(), Some("lagoon"));
        assert_eq!(keyword("4 star hotel Stone Town").as_deref(), Some("stone"));
        assert_eq!(keyword("The Spa & Resort Azure").as_deref(), Some("azure"));
    }

    #[test]
    fn a_name_of_only_generic_words_is_kept_whole() {
        assert_eq!(
            keyword("The Beach Hotel").as_deref(),
            Some("the beach hotel")
        );
        assert_eq!(keyword("   "), None);
    }

    #[test]
    fn a_number_in_a_name_is_not_a_star_rating() {
        assert_eq!(keyword("Hotel 1898").as_deref(), Some("1898"));
    }

    #[test]
    fn requested_names_find_hotels_by_keyword_without_regard_to_case() {
        let rates = [
            rate("A", "Coral Cove Resort", "Zanzibar"),
            rate("B", "Baraka Beach Lodge", "Zanzibar"),
            rate("C", "Stone Town Courtyard Inn", "Zanzibar"),
        ];
        let refs: Vec<&Rate> = rates.iter().collect();
        let selection = select(&refs, &["the CORAL COVE".into(), "Baraka".into()]);
        let ids: Vec<&str> = selection.rates.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["A", "B"]);
        assert!(selection.missing.is_empty());
    }

    #[test]
    fn requested_names_without_a_rate_are_reported() {
        let rates = [rate("A", "Coral Cove Resort", "Zanzibar")];
        let refs: Vec<&Rate> = rates.iter().collect();
        let selection = select(&refs, &["Coral Cove".into(), " Zuri Zanzibar ".into()]);
        assert_eq!(selection.rates.len(), 1);
        assert_eq!(selection.missing, ["Zuri Zanzibar"]);
    }
}
