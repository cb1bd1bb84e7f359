//! Matching the form's `Destination` against the tenant's destinations and aliases.

use caravan_sdk::Destination;

/// What the destination field named.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matched {
    /// Canonical names, in the order written, without repeats.
    pub names: Vec<String>,
    /// Parts that name none of the tenant's destinations, as written.
    pub unknown: Vec<String>,
}

/// Matches `value` (e.g. `Mara`, `maasai mara & Zanzibar`) case-insensitively. The whole
/// value is tried first, then each part between `,` `;` `/` `&` `+` or ` and `; a part
/// matches a destination when it is its name or alias, or contains it as whole words
/// (`Maasai Mara National Reserve`).
pub fn find(value: &str, destinations: &[Destination]) -> Matched {
    let mut matched = Matched::default();
    if let Some(name) = exact(value, destinations) {
        matched.names.push(name.to_owned());
        return matched;
    }
    for part in and_as_comma(value).split([',', ';', '/', '&', '+']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        match exact(part, destinations).or_else(|| within(part, destinations)) {
            Some(name) => {
                if !matched.names.iter().any(|n| n == name) {
                    matched.names.push(name.to_owned());
                }
            }
            None => matched.unknown.push(part.to_owned()),
        }
    }
    matched
}

/// `Cape Town and Kruger` → `Cape Town,Kruger`, whatever the case of `and`.
fn and_as_comma(value: &str) -> String {
    // ASCII lower-casing keeps byte offsets, so indices found in `lower` fit `value`.
    let lower = value.to_ascii_lowercase();
    let mut out = String::with_capacity(value.len());
    let mut last = 0;
    for (i, _) in lower.match_indices(" and ") {
        out.push_str(&value[last..i]);
        out.push(',');
        last = i + " and ".len();
    }
    out.push_str(&value[last..]);
    out
}

/// Lower-case words, without a leading `the`.
fn words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    if words.len() > 1 && words[0] == "the" {
        words.remove(0);
    }
    words
}

/// Every name a destination goes by.
fn names(d: &Destination) -> impl Iterator<Item = &String> {
    std::iter::once(&d.name).chain(&d.aliases)
}

fn exact<'a>(text: &str, destinations: &'a [Destination]) -> Option<&'a str> {
    let wanted = words(text);
    if wanted.is_empty() {
        return None;
    }
    destinations
        .iter()
        .find(|d| names(d).any(|n| words(n) == wanted))
        .map(|d| d.name.as_str())
}

/// The destination whose longest name appears in `text` as whole words.
fn within<'a>(text: &str, destinations: &'a [Destination]) -> Option<&'a str> {
    let haystack = words(text);
    destinations
        .iter()
        .flat_map(|d| names(d).map(move |n| (d, words(n))))
        .filter(|(_, needle)| {
            !needle.is_empty()
                && haystack
                    .windows(needle.len())
                    .any(|w| w == needle.as_slice())
        })
        .max_by_key(|(_, needle)| needle.len())
        .map(|(d, _)| d.name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sunbird() -> Vec<Destination> {
        let d = |name: &str, aliases: &[&str]| Destination {
            name: name.to_owned(),
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
        };
        vec![
            d("Zanzibar", &[]),
            d("Cape Town", &[]),
            d("Kruger National Park", &["Kruger", "Kruger Park"]),
            d("Maasai Mara", &["Mara"]),
        ]
    }

    fn names_of(value: &str) -> Vec<String> {
        find(value, &sunbird()).names
    }

    #[test]
    fn an_alias_gives_the_canonical_name() {
        assert_eq!(names_of("mara"), ["Maasai Mara"]);
        assert_eq!(names_of("The Mara"), ["Maasai Mara"]);
        assert_eq!(names_of("KRUGER park"), ["Kruger National Park"]);
    }

    #[test]
    fn several_destinations_keep_their_order_without_repeats() {
        assert_eq!(
            names_of("Maasai Mara, Zanzibar and the Mara"),
            ["Maasai Mara", "Zanzibar"]
        );
        assert_eq!(
            names_of("Cape Town / Kruger"),
            ["Cape Town", "Kruger National Park"]
        );
    }

    #[test]
    fn a_longer_place_name_containing_a_destination_matches_it() {
        assert_eq!(names_of("Maasai Mara National Reserve"), ["Maasai Mara"]);
    }

    #[test]
    fn places_the_tenant_does_not_sell_are_reported_not_matched() {
        let matched = find("Serengeti, Mara", &sunbird());
        assert_eq!(matched.names, ["Maasai Mara"]);
        assert_eq!(matched.unknown, ["Serengeti"]);
    }

    #[test]
    fn words_inside_other_words_do_not_match() {
        let matched = find("Marakesh", &sunbird());
        assert!(matched.names.is_empty());
        assert_eq!(matched.unknown, ["Marakesh"]);
    }
}
