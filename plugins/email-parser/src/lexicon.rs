//! Which of the extractors' word lists each word belongs to, looked up once per token.
//!
//! The extractors try a pattern at every token; without this, each try compares the word
//! with dozens of list entries. A token instead carries a bit set, and an extractor skips a
//! token in one instruction when none of its bits is set. The table is built once per
//! instance from the modules' own lists, so a list and its bit cannot drift apart.

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

/// FNV-1a of a word's bytes: far cheaper than SipHash for short words. The tokenizer
/// computes it once per word; every table here is keyed by it.
pub fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A small open-addressing table from words to values, keyed by [`fnv`] hashes that the
/// caller already has, so a look-up is one probe and one short comparison.
#[derive(Debug, Clone)]
pub struct WordTable<K, V> {
    slots: Vec<Option<(u64, K, V)>>,
    len: usize,
}

impl<K: AsRef<str>, V> Default for WordTable<K, V> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            len: 0,
        }
    }
}

impl<K: AsRef<str>, V> WordTable<K, V> {
    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn slot(&self, hash: u64, word: &str) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = (hash as usize) & mask;
        loop {
            match &self.slots[i] {
                None => return None,
                Some((h, k, _)) if *h == hash && k.as_ref() == word => return Some(i),
                Some(_) => i = (i + 1) & mask,
            }
        }
    }

    /// The value for `word`, whose hash is `hash`.
    pub fn get(&self, hash: u64, word: &str) -> Option<&V> {
        let i = self.slot(hash, word)?;
        self.slots[i].as_ref().map(|(_, _, v)| v)
    }

    /// The value for `key`, inserted with `make` when missing.
    pub fn entry(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let hash = fnv(key.as_ref().as_bytes());
        let mask = self.slots.len() - 1;
        let mut i = (hash as usize) & mask;
        while let Some((h, k, _)) = &self.slots[i] {
            if *h == hash && k.as_ref() == key.as_ref() {
                break;
            }
            i = (i + 1) & mask;
        }
        if self.slots[i].is_none() {
            self.len += 1;
        }
        let (_, _, v) = self.slots[i].get_or_insert_with(|| (hash, key, make()));
        v
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, (0..size).map(|_| None).collect());
        let mask = size - 1;
        for (h, k, v) in old.into_iter().flatten() {
            let mut i = (h as usize) & mask;
            while self.slots[i].is_some() {
                i = (i + 1) & mask;
            }
            self.slots[i] = Some((h, k, v));
        }
    }
}

fn table() -> &'static WordTable<&'static str, u32> {
    static TABLE: OnceLock<WordTable<&'static str, u32>> = OnceLock::new();
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
        let mut map = WordTable::default();
        for (words, bit) in lists {
            for w in *words {
                *map.entry(*w, || 0) |= bit;
            }
        }
        for p in crate::wishes::PREFERENCES {
            let first = p
                .split(|c: char| !c.is_ascii_alphabetic())
                .next()
                .unwrap_or(p);
            if !first.is_empty() {
                *map.entry(first, || 0) |= PREFERENCE;
            }
        }
        map
    })
}

/// The bits of every list `word` (lower case, hash `hash`) is in; 0 for most words.
pub fn classes(hash: u64, word: &str) -> u32 {
    // Every listed word is short; longer words need no look-up.
    if word.len() > 12 {
        return 0;
    }
    table().get(hash, word).copied().unwrap_or(0)
}

/// [`classes`] for a word whose hash is not at hand.
pub fn classes_of(word: &str) -> u32 {
    classes(fnv(word.as_bytes()), word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_carry_the_bits_of_every_list_they_are_in() {
        assert_ne!(classes_of("adults") & ADULT, 0);
        assert_eq!(classes_of("march"), MONTH);
        assert_ne!(classes_of("nights") & STAY_UNIT, 0);
        assert_ne!(classes_of("nights") & COUNTED, 0);
        assert_eq!(classes_of("zanzibar"), 0);
    }

    #[test]
    fn number_and_ordinal_lists_agree_with_their_readers() {
        for w in crate::numbers::NUMBER_WORDS {
            assert!(crate::numbers::number_word(w).is_some(), "{w}");
        }
        for w in crate::numbers::ORDINAL_WORDS {
            assert!(crate::numbers::ordinal_word(w).is_some(), "{w}");
        }
        for w in crate::dates::MONTHS
            .iter()
            .chain(crate::dates::MONTH_ABBREVIATIONS)
        {
            assert!(crate::dates::month_word(w).is_some(), "{w}");
        }
    }
}
