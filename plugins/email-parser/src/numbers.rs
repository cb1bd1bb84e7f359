//! Counts written as digits or words ("2", "two", "a couple of"), and ordinal days.

use crate::lexicon::NUMBER;
use crate::tokens::Tokens;

/// The number words [`number_word`] reads.
pub const NUMBER_WORDS: &[&str] = &[
    "zero",
    "none",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "dozen",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
];

/// The ordinal words [`ordinal_word`] reads.
pub const ORDINAL_WORDS: &[&str] = &[
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
    "thirtieth",
];

/// The value of a number word from zero to fifty (`"four"` → 4).
pub fn number_word(w: &str) -> Option<u32> {
    Some(match w {
        "zero" | "none" => 0,
        "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "eleven" => 11,
        "twelve" | "dozen" => 12,
        "thirteen" => 13,
        "fourteen" => 14,
        "fifteen" => 15,
        "sixteen" => 16,
        "seventeen" => 17,
        "eighteen" => 18,
        "nineteen" => 19,
        "twenty" => 20,
        "thirty" => 30,
        "forty" => 40,
        "fifty" => 50,
        _ => return None,
    })
}

/// The value of an ordinal word (`"third"` → 3), for days of the month.
pub fn ordinal_word(w: &str) -> Option<u32> {
    Some(match w {
        "first" => 1,
        "second" => 2,
        "third" => 3,
        "fourth" => 4,
        "fifth" => 5,
        "sixth" => 6,
        "seventh" => 7,
        "eighth" => 8,
        "ninth" => 9,
        "tenth" => 10,
        "eleventh" => 11,
        "twelfth" => 12,
        "thirteenth" => 13,
        "fourteenth" => 14,
        "fifteenth" => 15,
        "sixteenth" => 16,
        "seventeenth" => 17,
        "eighteenth" => 18,
        "nineteenth" => 19,
        "twentieth" => 20,
        "thirtieth" => 30,
        _ => return None,
    })
}

/// Whether `w` is an English ordinal suffix written after digits (`3rd`).
pub fn is_ordinal_suffix(w: &str) -> bool {
    matches!(w, "st" | "nd" | "rd" | "th")
}

/// Reads a count at token `i`: digits (up to three), a number word ("twenty-one" too),
/// and, when `articles` is set, "a"/"an" (1) and "a couple of"/"a pair of" (2).
/// Returns the count and the index after it.
pub fn read_count(t: &Tokens, i: usize, articles: bool) -> Option<(u32, usize)> {
    if let Some(v) = t.num(i) {
        if t.digits(i) > 3 || t.glued(i) && t.is_sym(i.wrapping_sub(1), '.') {
            return None;
        }
        // "1.5" or "2,000" are not counts of people.
        let separator = t.is_sym(i + 1, '.') || t.is_sym(i + 1, ',');
        if separator && t.glued(i + 1) && t.glued(i + 2) && t.digits(i + 2) == 3 {
            return None;
        }
        return Some((u32::try_from(v).ok()?, i + 1));
    }
    if !t.has(i, NUMBER) {
        return None;
    }
    let w = t.word(i)?;
    if articles && matches!(w, "a" | "an") {
        if t.is_any(i + 1, &["couple", "pair"]) && t.is_word(i + 2, "of") {
            return Some((2, i + 3));
        }
        return Some((1, i + 1));
    }
    let v = number_word(w)?;
    if (20..=50).contains(&v) {
        let j = if t.is_sym(i + 1, '-') { i + 2 } else { i + 1 };
        if let Some(u) = t
            .word(j)
            .and_then(number_word)
            .filter(|u| (1..10).contains(u))
        {
            return Some((v + u, j + 1));
        }
    }
    Some((v, i + 1))
}

/// Reads a count that ends just before token `end` (the token before a noun such as
/// "adults"): a single number or number word, or a hyphenated "twenty-one".
pub fn count_before(t: &Tokens, end: usize, articles: bool) -> Option<(u32, usize)> {
    let last = end.checked_sub(1)?;
    // "twenty-one" / "twenty one"
    if let Some(u) = t
        .word(last)
        .filter(|_| t.has(last, NUMBER))
        .and_then(number_word)
        .filter(|u| (1..10).contains(u))
    {
        let mut j = last;
        if j >= 1 && t.is_sym(j - 1, '-') {
            j -= 1;
        }
        if let Some(tens) = j
            .checked_sub(1)
            .and_then(|k| t.word(k))
            .and_then(number_word)
            .filter(|v| (20..=50).contains(v))
        {
            return Some((tens + u, j - 1));
        }
    }
    if articles
        && t.is_word(last, "of")
        && last >= 2
        && t.is_any(last - 1, &["couple", "pair"])
        && t.is_word(last - 2, "a")
    {
        return Some((2, last - 2));
    }
    let (v, next) = read_count(t, last, articles)?;
    (next == end).then_some((v, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(text: &str) -> Option<u32> {
        let t = Tokens::new(text);
        read_count(&t, 0, true).map(|(v, _)| v)
    }

    #[test]
    fn counts_are_read_from_digits_and_words() {
        assert_eq!(count("2 adults"), Some(2));
        assert_eq!(count("four of us"), Some(4));
        assert_eq!(count("twenty-two guests"), Some(22));
        assert_eq!(count("a baby"), Some(1));
        assert_eq!(count("a couple of kids"), Some(2));
        assert_eq!(count("1,500"), None);
        assert_eq!(count("2027"), None);
    }

    #[test]
    fn counts_are_read_backwards_from_a_noun() {
        let t = Tokens::new("we are twenty one adults");
        assert_eq!(count_before(&t, 4, false), Some((21, 2)));
        let t = Tokens::new("with a couple of kids");
        assert_eq!(count_before(&t, 4, true), Some((2, 1)));
    }
}
