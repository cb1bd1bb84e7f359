//! Which of the extractors' word lists each word belongs to, looked up once per token.
//!
//! The extractors try a pattern at every token; without this, each try compares the word
//! with dozens of list entries. A token instead carries a bit set, and an extractor skips a
//! token in one instruction when none of its bits is set. The table is built once per
//! instance from the modules' own lists, so a list and its bit cannot drift apart.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

/// "adults" and other adult nouns.
pub const ADULT: u32 = 1;
/// Children nouns.
pub const CHILD: u32 = 1 << 1;
/// Infant nouns.
pub const INFANT: u32 = 1 << 2;
/// "people", "guests" and other head counts.
pub const TOTAL: u32 = 1 << 3;
/// "room", "rooms".
pub const ROOM: u32 = 1 << 4;
/// Number words, "a" and "an".
pub const NUMBER: u32 = 1 << 5;
/// Ordinal words ("third"), and "twenty"/"thirty" that start compound ordinals.
pub const ORDINAL: u32 = 1 << 6;
/// Month names and abbreviations.
pub const MONTH: u32 = 1 << 7;
/// "early", "mid", "late" before a month.
pub const MONTH_QUALIFIER: u32 = 1 << 8;
/// "nights", "weeks", "days", "fortnight".
pub const STAY_UNIT: u32 = 1 << 9;
/// Words that make a preceding number a count, not a day.
pub const COUNTED: u32 = 1 << 10;
/// Words that make dates flexible or approximate.
pub const FLEXIBLE: u32 = 1 << 11;
/// Words that start a party phrase ("couple", "my wife and I", "family of").
pub const PARTY_PHRASE: u32 = 1 << 12;
/// Words that end a hotel's name ("Lodge", "Resort").
pub const HOTEL_KIND: u32 = 1 << 13;

/// ISO codes and currency words ("usd", "rand").
pub const CURRENCY: u32 = 1 << 14;
/// First words of the preferences [`crate::wishes`] reports.
pub const PREFERENCE: u32 = 1 << 15;

/// FNV-1a: far cheaper than the default SipHash for short words, and the keys are ours.
#[derive(Debug, Default, Clone, Copy)]
pub struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// A hash map with the cheap hasher.
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

fn table() -> &'static FastMap<&'static str, u32> {
    static TABLE: OnceLock<FastMap<&'static str, u32>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let lists: &[(&[&str], u32)] = &[
            (crate::party::ADULT, ADULT),
            (crate::party::CHILD, CHILD),
            (crate::party::INFANT, INFANT),
            (crate::party::TOTAL, TOTAL),
            (crate::party::ROOM, ROOM),
            (crate::party::PHRASE_STARTS, PARTY_PHRASE),
            (crate::numbers::NUMBER_WORDS, NUMBER),
            (&["a", "an"], NUMBER),
            (crate::numbers::ORDINAL_WORDS, ORDINAL),
            (&["twenty", "thirty"], ORDINAL),
            (&crate::dates::MONTHS, MONTH),
            (crate::dates::MONTH_ABBREVIATIONS, MONTH),
            (crate::dates::QUALIFIERS, MONTH_QUALIFIER),
            (crate::dates::STAY_UNITS, STAY_UNIT),
            (crate::dates::COUNTED, COUNTED),
            (crate::dates::FLEXIBLE_STARTS, FLEXIBLE),
            (crate::dates::APPROXIMATE, FLEXIBLE),
            (crate::wishes::KINDS, HOTEL_KIND),
            (crate::currency::CODES, CURRENCY),
            (crate::currency::WORDS, CURRENCY),
            (&["rs", "r"], CURRENCY),
        ];
        let mut map = FastMap::default();
        for (words, bit) in lists {
            for w in *words {
                *map.entry(*w).or_insert(0) |= bit;
            }
        }
        for p in crate::wishes::PREFERENCES {
            let first = p.split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or(p);
            if !first.is_empty() {
                *map.entry(first).or_insert(0) |= PREFERENCE;
            }
        }
        map
    })
}

/// The bits of every list `word` (lower case) is in; 0 for most words.
pub fn classes(word: &str) -> u32 {
    // Every listed word is short; longer words need no look-up.
    if word.len() > 12 {
        return 0;
    }
    table().get(word).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_carry_the_bits_of_every_list_they_are_in() {
        assert_ne!(classes("adults") & ADULT, 0);
        assert_eq!(classes("march"), MONTH);
        assert_ne!(classes("nights") & STAY_UNIT, 0);
        assert_ne!(classes("nights") & COUNTED, 0);
        assert_eq!(classes("zanzibar"), 0);
    }

    #[test]
    fn number_and_ordinal_lists_agree_with_their_readers() {
        for w in crate::numbers::NUMBER_WORDS {
            assert!(crate::numbers::number_word(w).is_some(), "{w}");
        }
        for w in crate::numbers::ORDINAL_WORDS {
            assert!(crate::numbers::ordinal_word(w).is_some(), "{w}");
        }
        for w in crate::dates::MONTHS.iter().chain(crate::dates::MONTH_ABBREVIATIONS) {
            assert!(crate::dates::month_word(w).is_some(), "{w}");
        }
    }
}
