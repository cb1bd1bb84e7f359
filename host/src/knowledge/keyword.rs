//! An in-memory BM25 keyword index over one tenant's chunks, and the tokenizer it shares with queries.
//!
//! Vector search misses exact terms such as hotel names, fee amounts and visa rules; this index
//! catches them. It keeps an inverted index (term to postings) so a query touches only the
//! documents that contain one of its terms, never the whole collection.

use std::collections::HashMap;

/// How quickly repeated occurrences of a term stop adding to the score (the usual BM25 value).
const K1: f32 = 1.2;

/// How strongly a long document is penalised relative to the average length (the usual BM25 value).
const B: f32 = 0.75;

/// Words too common in questions and documents to say anything about which chunk answers.
///
/// The list is short on purpose: words such as "not", "no" or "before" change the meaning of a
/// policy sentence, so they stay searchable.
const STOP_WORDS: &[&str] = &[
    "a", "about", "all", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by", "can",
    "could", "did", "do", "does", "for", "from", "had", "has", "have", "he", "her", "his", "how",
    "i", "if", "in", "into", "is", "it", "its", "me", "my", "of", "on", "or", "our", "she",
    "should", "so", "than", "that", "the", "their", "them", "then", "there", "these", "they",
    "this", "those", "to", "us", "was", "we", "were", "what", "when", "where", "which", "who",
    "will", "with", "would", "you", "your",
];

/// A BM25 index: postings per term, the length of every document, and the total length so the
/// average stays exact as documents come and go.
#[derive(Debug, Clone, Default)]
pub struct KeywordIndex {
    /// For each term, the documents containing it and how often.
    postings: HashMap<String, HashMap<i64, u32>>,
    /// For each document, its distinct terms, so removal touches only its own postings.
    doc_terms: HashMap<i64, Vec<String>>,
    /// For each document, its length in tokens after stop words are dropped.
    doc_lengths: HashMap<i64, u32>,
    /// The sum of all document lengths; the average is derived from it on every search.
    total_length: u64,
}

impl KeywordIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// An index over `(chunk id, text)` pairs; a repeated id keeps its last text.
    pub fn build(docs: impl IntoIterator<Item = (i64, String)>) -> Self {
        let mut index = Self::new();
        for (id, text) in docs {
            index.insert(id, &text);
        }
        index
    }

    /// Adds a document, replacing any document already stored under `id`.
    pub fn insert(&mut self, id: i64, text: &str) {
        self.remove(id);
        let tokens = tokenize(text);
        let mut frequencies: HashMap<String, u32> = HashMap::new();
        for token in &tokens {
            *frequencies.entry(token.clone()).or_insert(0) += 1;
        }
        // A document too long for u32 tokens is not realistic for a chunk; saturating keeps the
        // arithmetic safe rather than panicking on it.
        let length = u32::try_from(tokens.len()).unwrap_or(u32::MAX);
        let mut terms = Vec::with_capacity(frequencies.len());
        for (term, frequency) in frequencies {
            self.postings
                .entry(term.clone())
                .or_default()
                .insert(id, frequency);
            terms.push(term);
        }
        self.doc_terms.insert(id, terms);
        self.doc_lengths.insert(id, length);
        self.total_length += u64::from(length);
    }

    /// Removes the document stored under `id`; false when there was none.
    pub fn remove(&mut self, id: i64) -> bool {
        let Some(terms) = self.doc_terms.remove(&id) else {
            return false;
        };
        for term in terms {
            if let Some(postings) = self.postings.get_mut(&term) {
                postings.remove(&id);
                // Dropping empty postings keeps document frequencies, and so IDF, exact.
                if postings.is_empty() {
                    self.postings.remove(&term);
                }
            }
        }
        if let Some(length) = self.doc_lengths.remove(&id) {
            self.total_length = self.total_length.saturating_sub(u64::from(length));
        }
        true
    }

    /// How many documents the index holds.
    pub fn len(&self) -> usize {
        self.doc_lengths.len()
    }

    /// Whether the index holds no documents.
    pub fn is_empty(&self) -> bool {
        self.doc_lengths.is_empty()
    }

    /// The `k` best documents for `query` as `(id, BM25 score)`, best first, ties broken by the
    /// lower id so results are reproducible. Only documents sharing a term with the query
    /// appear, so every score is above zero.
    pub fn search(&self, query: &str, k: usize) -> Vec<(i64, f32)> {
        if k == 0 || self.is_empty() {
            return Vec::new();
        }
        let mut terms = tokenize(query);
        // A term repeated in the query would otherwise count twice; questions rarely repeat a
        // word on purpose.
        terms.sort_unstable();
        terms.dedup();

        let documents = self.len() as f32;
        let average_length = (self.total_length as f32 / documents).max(f32::MIN_POSITIVE);
        let mut scores: HashMap<i64, f32> = HashMap::new();
        for term in &terms {
            let Some(postings) = self.postings.get(term) else {
                continue;
            };
            let containing = postings.len() as f32;
            // This IDF form never goes negative, so a term found in most documents still adds a
            // little rather than pushing a matching document below non-matching ones.
            let idf = (1.0 + (documents - containing + 0.5) / (containing + 0.5)).ln();
            for (&id, &frequency) in postings {
                let length = self.doc_lengths.get(&id).copied().unwrap_or(0) as f32;
                let frequency = frequency as f32;
                let norm = K1 * (1.0 - B + B * length / average_length);
                *scores.entry(id).or_insert(0.0) +=
                    idf * frequency * (K1 + 1.0) / (frequency + norm);
            }
        }

        let mut ranked: Vec<(i64, f32)> = scores.into_iter().filter(|(_, s)| *s > 0.0).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(k);
        ranked
    }
}

/// Splits text into search terms: lower-cased, accents folded, split on anything that is not a
/// letter or digit, stop words dropped, and plurals and common suffixes reduced.
///
/// Documents and queries go through this same function, so whatever it does to a word it does
/// on both sides. Numbers such as "48" or "2027" are kept, because fees, ages and days are
/// often what a question is about.
pub fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            for lower in c.to_lowercase() {
                match fold_accent(lower) {
                    Some(folded) => word.push_str(folded),
                    None => word.push(lower),
                }
            }
        } else if !word.is_empty() {
            push_term(&mut tokens, &word);
            word.clear();
        }
    }
    if !word.is_empty() {
        push_term(&mut tokens, &word);
    }
    tokens
}

/// Adds `word` to `tokens` unless it is a stop word, after stemming.
fn push_term(tokens: &mut Vec<String>, word: &str) {
    if STOP_WORDS.contains(&word) {
        return;
    }
    tokens.push(stem(word));
}

/// Reduces a lower-case word to a stem shared by its common inflections ("hotels" and "hotel",
/// "bookings" and "booked" and "booking", "policies" and "policy").
///
/// It is deliberately light: a real stemmer would conflate more, but wrong merges in a small
/// collection hurt more than missed ones, and vector search covers the paraphrases. Words of
/// three characters or fewer, and anything containing a digit, are left alone.
fn stem(word: &str) -> String {
    let length = word.chars().count();
    if length <= 3 || word.chars().any(|c| c.is_ascii_digit()) || !word.is_ascii() {
        return word.to_owned();
    }
    let word = if let Some(base) = word.strip_suffix("ies") {
        format!("{base}y")
    } else if word.ends_with("sses")
        || word.ends_with("shes")
        || word.ends_with("ches")
        || word.ends_with("xes")
    {
        // "passes", "dishes", "beaches", "taxes": the "es" is the plural ending.
        word[..word.len() - 2].to_owned()
    } else if word.ends_with("ss") || word.ends_with("us") || word.ends_with("is") {
        // "pass", "bus" and "analysis" end in "s" without being plurals.
        word.to_owned()
    } else if let Some(base) = word.strip_suffix('s') {
        base.to_owned()
    } else {
        word.to_owned()
    };
    strip_verb_suffix(&word)
}

/// Removes "ing" or "ed" when enough of a word remains to still mean something, and evens out
/// doubled consonants so "stopped" and "stop", "cancelled" and "cancel" share a stem.
fn strip_verb_suffix(word: &str) -> String {
    let stripped = word.strip_suffix("ing").or_else(|| word.strip_suffix("ed"));
    let base = match stripped {
        // "ring", "bed", "need", "spring": too little would remain, or the ending belongs to
        // the word itself.
        Some(base) if base.chars().count() >= 3 && base.chars().any(is_vowel) => base,
        _ => return single_final_l(&drop_final_e(word)),
    };
    let bytes = base.as_bytes();
    let n = bytes.len();
    // "stopped" leaves "stopp" and "planned" leaves "plann"; short bases such as "add" keep
    // their double letter, and "passed" keeps its "ss" because "pass" itself has it.
    let doubled = n >= 5
        && bytes[n - 1] == bytes[n - 2]
        && !matches!(bytes[n - 1], b'l' | b's' | b'z')
        && !is_vowel(char::from(bytes[n - 1]));
    if doubled {
        return base[..n - 1].to_owned();
    }
    single_final_l(&drop_final_e(base))
}

/// Reduces a final "ll" to "l" on longer stems, applied to every word alike, so the British
/// "cancelled" and "travelling" meet "cancel" and "travel" while "call" and "called" stay "call".
fn single_final_l(word: &str) -> String {
    match word.strip_suffix("ll") {
        Some(base) if word.len() >= 6 => format!("{base}l"),
        _ => word.to_owned(),
    }
}

/// Drops a final "e" so "change", "changed" and "changing" share the stem "chang".
fn drop_final_e(word: &str) -> String {
    match word.strip_suffix('e') {
        Some(base) if base.chars().count() >= 3 => base.to_owned(),
        _ => word.to_owned(),
    }
}

/// Whether `c` is an ASCII vowel; "y" counts, as in "paying".
fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y')
}

/// The plain letters for a lower-case Latin accented letter, so "séjour" and "sejour" match.
fn fold_accent(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => "a",
        'æ' => "ae",
        'ç' | 'č' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'ī' => "i",
        'ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => "o",
        'œ' => "oe",
        'ß' => "ss",
        'š' => "s",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' => "u",
        'ý' | 'ÿ' => "y",
        'ž' => "z",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(docs: &[(i64, &str)]) -> KeywordIndex {
        KeywordIndex::build(docs.iter().map(|(id, text)| (*id, (*text).to_owned())))
    }

    fn ids(results: &[(i64, f32)]) -> Vec<i64> {
        results.iter().map(|(id, _)| *id).collect()
    }

    mod tokenizer {
        use super::*;

        #[test]
        fn lower_cases_and_splits_on_punctuation() {
            assert_eq!(
                tokenize("Zanzibar—Kruger Park!"),
                ["zanzibar", "kruger", "park"]
            );
        }

        #[test]
        fn drops_stop_words() {
            assert_eq!(
                tokenize("What is the deposit for a booking?"),
                ["deposit", "book"]
            );
        }

        #[test]
        fn keeps_numbers_as_tokens() {
            assert_eq!(
                tokenize("R2 500 within 48 hours in 2027"),
                ["r2", "500", "within", "48", "hour", "2027"]
            );
        }

        #[test]
        fn folds_accents() {
            assert_eq!(tokenize("Séjour À Côté"), tokenize("sejour a cote"));
            assert_eq!(tokenize("Séjour"), ["sejour"]);
        }

        #[test]
        fn reduces_plurals_to_the_singular() {
            assert_eq!(tokenize("hotels"), tokenize("hotel"));
            assert_eq!(tokenize("policies"), tokenize("policy"));
            assert_eq!(tokenize("beaches"), tokenize("beach"));
            assert_eq!(tokenize("fees"), tokenize("fee"));
        }

        #[test]
        fn reduces_verb_forms_to_one_stem() {
            assert_eq!(tokenize("cancelled"), tokenize("cancel"));
            assert_eq!(tokenize("cancelling"), tokenize("cancel"));
            assert_eq!(tokenize("changed"), tokenize("change"));
            assert_eq!(tokenize("changing"), tokenize("change"));
            assert_eq!(tokenize("booked"), tokenize("booking"));
            assert_eq!(tokenize("stopped"), tokenize("stop"));
            assert_eq!(tokenize("passed"), tokenize("pass"));
            assert_eq!(tokenize("called"), tokenize("call"));
            assert_eq!(tokenize("travelling"), tokenize("travel"));
        }

        #[test]
        fn leaves_short_words_and_non_plurals_alone() {
            assert_eq!(
                tokenize("bus gas pass visa"),
                ["bus", "gas", "pass", "visa"]
            );
            assert_eq!(tokenize("need"), ["need"]);
        }

        #[test]
        fn handles_non_latin_text_without_panicking() {
            assert_eq!(tokenize("Ελλάδα 東京"), ["ελλάδα", "東京"]);
        }
    }

    mod ranking {
        use super::*;

        #[test]
        fn an_exact_term_ranks_its_document_first() {
            let idx = index(&[
                (1, "Cancellation fees depend on days before travel."),
                (
                    2,
                    "Yellow fever vaccination is required when arriving from Zambia.",
                ),
                (3, "Transfers from the airport take forty minutes."),
            ]);
            let results = idx.search("yellow fever", 10);
            assert_eq!(ids(&results), [2]);
            assert!(results[0].1 > 0.0);
        }

        #[test]
        fn rarer_terms_weigh_more() {
            // "deposit" is in every document, "malaria" in one: the document with the rare term
            // must win even though both match one query term each.
            let idx = index(&[
                (1, "deposit deposit rules"),
                (2, "deposit malaria"),
                (3, "deposit refunds"),
                (4, "deposit amounts"),
            ]);
            let results = idx.search("deposit malaria", 10);
            assert_eq!(results[0].0, 2);
            let only_common = index(&[(1, "deposit"), (2, "deposit malaria")]).search("malaria", 1);
            assert_eq!(ids(&only_common), [2]);
        }

        #[test]
        fn shorter_documents_win_for_the_same_term_frequency() {
            let idx = index(&[
                (
                    1,
                    "visa rules for Zanzibar travellers arriving by air or ferry from the mainland",
                ),
                (2, "visa rules"),
            ]);
            let results = idx.search("visa", 10);
            assert_eq!(ids(&results), [2, 1]);
            assert!(results[0].1 > results[1].1);
        }

        #[test]
        fn more_occurrences_score_higher_but_saturate() {
            let idx = index(&[
                (1, "cot cot cot cot x"),
                (2, "cot y z w v"),
                (3, "other words here"),
            ]);
            let results = idx.search("cot", 10);
            assert_eq!(ids(&results), [1, 2]);
            // With k1 = 1.2 a term can never contribute more than (k1 + 1) times its IDF.
            let idf = (1.0f32 + (3.0 - 2.0 + 0.5) / (2.0 + 0.5)).ln();
            assert!(results[0].1 < idf * (K1 + 1.0));
        }

        #[test]
        fn scores_follow_the_bm25_formula() {
            let idx = index(&[(1, "lodge"), (2, "camp")]);
            let results = idx.search("lodge", 10);
            // One document of two contains the term and has average length, so the score is
            // exactly the IDF: tf (k1 + 1) / (tf + k1) = 1.
            let idf = (1.0f32 + (2.0 - 1.0 + 0.5) / (1.0 + 0.5)).ln();
            assert_eq!(ids(&results), [1]);
            assert!((results[0].1 - idf).abs() < 1e-6);
        }

        #[test]
        fn ties_are_broken_by_the_lower_id() {
            let idx = index(&[(9, "infant cot"), (3, "infant cot"), (5, "infant cot")]);
            assert_eq!(ids(&idx.search("cot", 10)), [3, 5, 9]);
        }

        #[test]
        fn results_are_truncated_to_k() {
            let idx = index(&[(1, "tip"), (2, "tip"), (3, "tip")]);
            assert_eq!(ids(&idx.search("tip", 2)), [1, 2]);
            assert!(idx.search("tip", 0).is_empty());
        }

        #[test]
        fn plurals_and_accents_match_across_query_and_document() {
            let idx = index(&[
                (1, "Our hotel in Stone Town"),
                (2, "Un sejour a l'ile Maurice"),
                (3, "Flights"),
            ]);
            assert_eq!(ids(&idx.search("hotels", 10)), [1]);
            assert_eq!(ids(&idx.search("Séjour", 10)), [2]);
        }
    }

    mod empty_inputs {
        use super::*;

        #[test]
        fn an_empty_index_returns_nothing() {
            let idx = KeywordIndex::new();
            assert!(idx.is_empty());
            assert_eq!(idx.len(), 0);
            assert!(idx.search("deposit", 10).is_empty());
        }

        #[test]
        fn an_empty_or_stop_word_only_query_returns_nothing() {
            let idx = index(&[(1, "the deposit is what you pay")]);
            assert!(idx.search("", 10).is_empty());
            assert!(idx.search("  ?! ", 10).is_empty());
            assert!(idx.search("what is the", 10).is_empty());
        }

        #[test]
        fn an_unknown_term_returns_nothing() {
            let idx = index(&[(1, "deposit")]);
            assert!(idx.search("snorkelling", 10).is_empty());
        }
    }

    mod changes {
        use super::*;

        #[test]
        fn removing_a_document_takes_it_out_of_results() {
            let mut idx = index(&[(1, "malaria tablets"), (2, "malaria risk in Kruger")]);
            assert!(idx.remove(1));
            assert_eq!(idx.len(), 1);
            assert_eq!(ids(&idx.search("malaria tablets", 10)), [2]);
            assert!(idx.search("tablets", 10).is_empty());
        }

        #[test]
        fn removing_an_unknown_id_reports_false() {
            let mut idx = index(&[(1, "malaria")]);
            assert!(!idx.remove(2));
            assert_eq!(idx.len(), 1);
        }

        #[test]
        fn removing_a_document_updates_idf_and_average_length() {
            let mut idx = index(&[(1, "lodge"), (2, "lodge camp"), (3, "camp")]);
            idx.remove(2);
            let rebuilt = index(&[(1, "lodge"), (3, "camp")]);
            assert_eq!(idx.search("lodge", 10), rebuilt.search("lodge", 10));
            assert_eq!(idx.total_length, rebuilt.total_length);
            assert_eq!(idx.postings.get("lodg").map(HashMap::len), Some(1));
        }

        #[test]
        fn inserting_an_existing_id_replaces_its_text() {
            let mut idx = index(&[(1, "Zanzibar beach"), (2, "Kruger safari")]);
            idx.insert(1, "Mauritius lagoon");
            assert_eq!(idx.len(), 2);
            assert!(idx.search("Zanzibar", 10).is_empty());
            assert_eq!(ids(&idx.search("lagoon", 10)), [1]);
            assert_eq!(
                idx.search("safari", 10),
                index(&[(1, "Mauritius lagoon"), (2, "Kruger safari")]).search("safari", 10)
            );
        }

        #[test]
        fn the_index_can_be_shared_across_threads() {
            fn assert_send_sync<T: Send + Sync>() {}
            assert_send_sync::<KeywordIndex>();
        }
    }
}
