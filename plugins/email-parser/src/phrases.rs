//! Finds known phrases (destination names, hotel names, wishes) in the tokens, by whole
//! words, ignoring case, accents and the hyphens or dots between words.
//!
//! Phrases are kept in a trie of words, so matching at a token costs one ordered-map look-up
//! per word of the longest candidate, however many phrases a tenant has (200 destinations
//! named "Place 1" … "Place 200" cost the same as one).

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::tokens::{Kind, Tokens};

/// One word position of the trie: the phrase ending here (if any) and the words that extend it.
#[derive(Debug, Default)]
struct Node {
    id: Option<usize>,
    next: BTreeMap<String, usize>,
}

/// A set of phrases, each tagged with a caller's id.
#[derive(Debug)]
pub struct Phrases {
    /// `nodes[0]` is the root; a child index always points further into the vector.
    nodes: Vec<Node>,
}

impl Default for Phrases {
    fn default() -> Self {
        Self {
            nodes: vec![Node::default()],
        }
    }
}

/// A phrase found in the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    /// The id given with the phrase.
    pub id: usize,
    /// First token.
    pub start: usize,
    /// Last token (inclusive).
    pub last: usize,
}

impl Phrases {
    /// Adds `phrase` under `id`. Empty phrases are ignored; when two phrases have the same
    /// words, the first added keeps its id.
    pub fn add(&mut self, phrase: &str, id: usize) {
        let words = split_words(phrase);
        if words.is_empty() {
            return;
        }
        let mut node = 0;
        for word in words {
            node = match self.nodes[node].next.get(&word) {
                Some(&child) => child,
                None => {
                    let child = self.nodes.len();
                    self.nodes.push(Node::default());
                    self.nodes[node].next.insert(word, child);
                    child
                }
            };
        }
        self.nodes[node].id.get_or_insert(id);
    }

    fn is_empty(&self) -> bool {
        self.nodes[0].next.is_empty()
    }

    /// Every match, in text order, longest first at each place and never overlapping.
    pub fn find_all(&self, t: &Tokens) -> Vec<Found> {
        self.find_where(t, |_| true)
    }

    /// [`Phrases::find_all`], trying only the tokens `may_start` lets through.
    pub fn find_where(&self, t: &Tokens, may_start: impl Fn(usize) -> bool) -> Vec<Found> {
        let mut found = Vec::new();
        if self.is_empty() {
            return found;
        }
        let mut i = 0;
        while i < t.len() {
            if !may_start(i) {
                i += 1;
                continue;
            }
            if let Some(f) = self.match_at(t, i) {
                found.push(f);
                i = f.last + 1;
            } else {
                i += 1;
            }
        }
        found
    }

    /// The longest phrase starting at token `i`.
    pub fn match_at(&self, t: &Tokens, i: usize) -> Option<Found> {
        if !matches!(t.kind(i), Some(Kind::Word | Kind::Num)) {
            return None;
        }
        let mut node = 0;
        let mut best = None;
        let mut k = i;
        loop {
            if k > i {
                // Hyphens and dots between words are optional: "Maasai-Mara", "St. Lucia".
                while (t.is_sym(k, '-') || t.is_sym(k, '.')) && !t.line_start(k) {
                    k += 1;
                }
                if t.get(k).is_none_or(|tok| tok.blank_before) {
                    break;
                }
            }
            let word: Cow<'_, str> = if t.is_sym(k, '&') {
                Cow::Borrowed("&")
            } else {
                fold(t.lower(k))
            };
            let Some(&child) = self.nodes[node].next.get(word.as_ref()) else {
                break;
            };
            node = child;
            if let Some(id) = self.nodes[node].id {
                best = Some(Found {
                    id,
                    start: i,
                    last: k,
                });
            }
            k += 1;
        }
        best
    }
}

/// A phrase's words as the tokenizer splits them: runs of letters, runs of digits, and
/// `&`, lower-cased and folded; other characters separate words.
fn split_words(phrase: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut digits = false;
    for c in phrase.chars() {
        let letter = c.is_alphabetic() && !c.is_ascii_digit();
        let digit = c.is_ascii_digit();
        if (letter || digit) && (word.is_empty() || digits == digit) {
            word.push(c);
            digits = digit;
            continue;
        }
        if !word.is_empty() {
            words.push(fold(&word.to_lowercase()).into_owned());
            word.clear();
        }
        if letter || digit {
            word.push(c);
            digits = digit;
        } else if c == '&' {
            words.push("&".to_owned());
        }
    }
    if !word.is_empty() {
        words.push(fold(&word.to_lowercase()).into_owned());
    }
    words
}

/// Lower-case `s` without accents (`é` → `e`), so "Réunion" matches "Reunion".
pub fn fold(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let base = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => "a",
            'ç' => "c",
            'è' | 'é' | 'ê' | 'ë' => "e",
            'ì' | 'í' | 'î' | 'ï' => "i",
            'ñ' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => "o",
            'ù' | 'ú' | 'û' | 'ü' => "u",
            'ý' | 'ÿ' => "y",
            'ß' => "ss",
            'æ' => "ae",
            'œ' => "oe",
            _ => {
                out.extend(c.to_lowercase());
                continue;
            }
        };
        out.push_str(base);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(phrases: &[(&str, usize)], text: &str) -> Vec<usize> {
        let mut p = Phrases::default();
        for (s, id) in phrases {
            p.add(s, *id);
        }
        p.find_all(&Tokens::new(text))
            .iter()
            .map(|f| f.id)
            .collect()
    }

    #[test]
    fn phrases_match_whole_words_in_any_case() {
        let p = [("Cape Town", 0), ("Mara", 1)];
        assert_eq!(ids(&p, "CAPE TOWN then the mara"), [0, 1]);
        assert!(ids(&p, "Capetown and Marathon and mara@example.com").is_empty());
    }

    #[test]
    fn the_longest_phrase_wins() {
        let p = [("Kruger", 0), ("Kruger National Park", 1)];
        assert_eq!(ids(&p, "Kruger National Park"), [1]);
        assert_eq!(ids(&p, "Kruger Park"), [0]);
    }

    #[test]
    fn accents_hyphens_and_dots_are_ignored() {
        let p = [("Reunion", 0), ("Maasai Mara", 1), ("St Lucia", 2)];
        assert_eq!(ids(&p, "Réunion, the Maasai-Mara and St. Lucia"), [0, 1, 2]);
    }
}
