//! The tenant's destinations mentioned in the email, by canonical name, most relevant first.

use caravan_sdk::Destination;

use crate::phrases::Phrases;
use crate::tokens::Tokens;

/// Canonical names of the tenant's destinations mentioned in `t`, in order of first
/// mention. The caller puts the subject first and the customer's own words before any
/// forwarding note, so text order is relevance order.
pub fn find_destinations(t: &Tokens, destinations: &[Destination]) -> Vec<String> {
    let mut phrases = Phrases::default();
    for (id, d) in destinations.iter().enumerate() {
        phrases.add(&d.name, id);
        for alias in &d.aliases {
            phrases.add(alias, id);
        }
    }
    let mut seen = vec![false; destinations.len()];
    let mut names = Vec::new();
    for f in phrases.find_all(t) {
        if !seen[f.id] {
            seen[f.id] = true;
            names.push(destinations[f.id].name.clone());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> Vec<Destination> {
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

    fn found(text: &str) -> Vec<String> {
        find_destinations(&Tokens::new(text), &tenant())
    }

    #[test]
    fn aliases_give_the_canonical_name() {
        assert_eq!(
            found("a week in the kruger park then the Mara"),
            ["Kruger National Park", "Maasai Mara"]
        );
    }

    #[test]
    fn destinations_come_in_order_of_first_mention() {
        assert_eq!(
            found("Zanzibar: or maybe Cape Town, then Zanzibar again"),
            ["Zanzibar", "Cape Town"]
        );
    }

    #[test]
    fn words_inside_other_words_and_addresses_do_not_match() {
        assert!(found("Capetownian marathon zanzibari info@zanzibar.example").is_empty());
    }

    #[test]
    fn a_tenant_without_destinations_matches_nothing() {
        assert!(find_destinations(&Tokens::new("Zanzibar"), &[]).is_empty());
    }
}
