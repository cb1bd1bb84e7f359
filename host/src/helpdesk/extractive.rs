//! Answers without a model: the sentences of the best chunks that share the most words with
//! the question, each followed by its source.

use std::collections::HashSet;

use crate::knowledge::SearchHit;
use crate::knowledge::keyword::tokenize;

/// Sources quoted in one answer.
const QUOTED_SOURCES: usize = 3;

/// Sentences quoted from one source.
const SENTENCES_PER_SOURCE: usize = 2;

/// Words quoted from one source at most (a long sentence is cut).
const WORDS_PER_SOURCE: usize = 90;

/// What is said when nothing matched.
pub const NOTHING_FOUND: &str = "I could not find anything about this in your knowledge base. \
    Try other words, or upload a document that covers it.";

/// An extractive answer to `question` from `sources` (best first).
pub fn answer(question: &str, sources: &[SearchHit]) -> String {
    if sources.is_empty() {
        return NOTHING_FOUND.to_owned();
    }
    let wanted: HashSet<String> = tokenize(question).into_iter().collect();
    let mut parts = Vec::new();
    for hit in sources.iter().take(QUOTED_SOURCES) {
        let quote = best_sentences(&hit.chunk.content, &wanted);
        if quote.is_empty() {
            continue;
        }
        parts.push(format!("- {quote} (source: {})", hit.chunk.title));
    }
    if parts.is_empty() {
        return NOTHING_FOUND.to_owned();
    }
    format!("Here is what your documents say:\n\n{}", parts.join("\n"))
}

/// The chunk's sentences that share the most words with the question, in their original
/// order; the opening sentences when none shares a word.
fn best_sentences(content: &str, wanted: &HashSet<String>) -> String {
    let sentences = sentences(content);
    let mut scored: Vec<(usize, usize)> = sentences
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let words: HashSet<String> = tokenize(s).into_iter().collect();
            (i, words.intersection(wanted).count())
        })
        .filter(|(_, score)| *score > 0)
        .collect();
    // Most shared words first; earlier sentences win ties.
    scored.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut chosen: Vec<usize> = scored
        .iter()
        .take(SENTENCES_PER_SOURCE)
        .map(|(i, _)| *i)
        .collect();
    if chosen.is_empty() {
        chosen = (0..sentences.len().min(SENTENCES_PER_SOURCE)).collect();
    }
    chosen.sort_unstable();
    let text = chosen
        .iter()
        .map(|&i| sentences[i].as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() > WORDS_PER_SOURCE {
        format!("{}…", words[..WORDS_PER_SOURCE].join(" "))
    } else {
        words.join(" ")
    }
}

/// Sentences of a chunk: split after `.`, `!` or `?` followed by a space, and at line
/// breaks; heading markers and list bullets are dropped.
fn sentences(content: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in content.lines() {
        let line = line
            .trim()
            .trim_start_matches('#')
            .trim_start_matches(['-', '*', '•'])
            .trim();
        if line.is_empty() {
            continue;
        }
        let mut current = String::new();
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            current.push(c);
            if matches!(c, '.' | '!' | '?') && chars.peek().is_some_and(|n| n.is_whitespace()) {
                out.push(current.trim().to_owned());
                current.clear();
            }
        }
        if !current.trim().is_empty() {
            out.push(current.trim().to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sentence_sharing_the_most_words_with_the_question_is_quoted() {
        let wanted: HashSet<String> = tokenize("How much is the deposit?").into_iter().collect();
        let text = "## Payments\n\nWe accept cards. A deposit of 30% secures the booking. \
                    The balance is due later.";
        let quote = best_sentences(text, &wanted);
        assert!(
            quote.contains("A deposit of 30% secures the booking."),
            "{quote}"
        );
    }

    #[test]
    fn headings_and_bullets_are_not_quoted_as_markup() {
        let s = sentences("# Title\n- first item. Second sentence!\n\n");
        assert_eq!(s, vec!["Title", "first item.", "Second sentence!"]);
    }

    #[test]
    fn without_sources_the_answer_says_nothing_was_found() {
        assert_eq!(answer("visa?", &[]), NOTHING_FOUND);
    }
}
