//! Splits text once into words, numbers, symbols, email addresses and URLs.
//!
//! Every extractor walks this token list instead of the raw text, so each email is scanned
//! a fixed number of times whatever its length, and phrase matching compares short
//! lower-cased slices rather than re-searching the text.

/// The most tokens read from one text: enough for any enquiry, and a bound on the work
/// of every extractor whatever the text holds.
pub const MAX_TOKENS: usize = 1200;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A run of letters.
    Word,
    /// A run of ASCII digits.
    Num,
    /// Any other single non-space character.
    Sym,
    /// An email address.
    Email,
    /// A URL (`http://…`, `https://…`, `www.…`).
    Url,
}

/// One token: its kind and where it is in the text.
#[derive(Clone, Copy, Debug)]
pub struct Token {
    /// What it is.
    pub kind: Kind,
    /// Byte offset of its first byte.
    pub start: u32,
    /// Byte offset just past its last byte.
    pub end: u32,
    /// The value of a number (saturating), or the code point of a symbol.
    pub value: u64,
    /// Whether white space separates it from the previous token.
    pub space_before: bool,
    /// Whether a line break separates it from the previous token.
    pub newline_before: bool,
    /// Whether an empty line separates it from the previous token.
    pub blank_before: bool,
    /// The word lists its word is in ([`crate::lexicon`] bits).
    pub class: u32,
    /// [`crate::lexicon::fnv`] of the lower-cased, accent-folded word or digits.
    pub hash: u64,
}

/// The tokens of a text, with a lower-cased copy of the text for matching.
#[derive(Debug)]
pub struct Tokens<'a> {
    text: &'a str,
    lower: String,
    toks: Vec<Token>,
}

impl<'a> Tokens<'a> {
    /// Tokenises `text`.
    pub fn new(text: &'a str) -> Self {
        let lower = lower_aligned(text);
        let toks = tokenize(text, &lower);
        Self { text, lower, toks }
    }

    /// The text the tokens come from.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// Number of tokens.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.toks.len()
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.toks.is_empty()
    }

    /// Token `i`.
    #[inline(always)]
    pub fn get(&self, i: usize) -> Option<&Token> {
        self.toks.get(i)
    }

    /// The kind of token `i`.
    #[inline(always)]
    pub fn kind(&self, i: usize) -> Option<Kind> {
        self.toks.get(i).map(|t| t.kind)
    }

    /// Token `i` as written.
    #[inline(always)]
    pub fn raw(&self, i: usize) -> &'a str {
        self.toks
            .get(i)
            .and_then(|t| self.text.get(t.start as usize..t.end as usize))
            .unwrap_or("")
    }

    /// Token `i` lower-cased (any kind).
    #[inline(always)]
    pub fn lower(&self, i: usize) -> &str {
        self.toks
            .get(i)
            .and_then(|t| self.lower.get(t.start as usize..t.end as usize))
            .unwrap_or("")
    }

    /// Token `i` lower-cased, when it is a word.
    #[inline(always)]
    pub fn word(&self, i: usize) -> Option<&str> {
        (self.kind(i)? == Kind::Word).then(|| self.lower(i))
    }

    /// Whether token `i` is the (lower-case) word `w`.
    #[inline(always)]
    pub fn is_word(&self, i: usize, w: &str) -> bool {
        self.word(i) == Some(w)
    }

    /// Whether token `i`'s word is in any of the lists `bits` ([`crate::lexicon`]).
    #[inline(always)]
    pub fn has(&self, i: usize, bits: u32) -> bool {
        self.toks.get(i).is_some_and(|t| t.class & bits != 0)
    }

    /// Whether token `i` is one of the (lower-case) words `ws`.
    #[inline(always)]
    pub fn is_any(&self, i: usize, ws: &[&str]) -> bool {
        self.word(i).is_some_and(|w| ws.contains(&w))
    }

    /// The hash of token `i`'s folded word or digits (0 for other tokens).
    #[inline(always)]
    pub fn hash(&self, i: usize) -> u64 {
        self.toks.get(i).map_or(0, |t| t.hash)
    }

    /// The value of token `i`, when it is a number.
    #[inline(always)]
    pub fn num(&self, i: usize) -> Option<u64> {
        let t = self.toks.get(i)?;
        (t.kind == Kind::Num).then_some(t.value)
    }

    /// How many digits number token `i` has (0 when it is not a number).
    #[inline(always)]
    pub fn digits(&self, i: usize) -> usize {
        match self.toks.get(i) {
            Some(t) if t.kind == Kind::Num => (t.end - t.start) as usize,
            _ => 0,
        }
    }

    /// The character of token `i`, when it is a symbol.
    #[inline(always)]
    pub fn sym(&self, i: usize) -> Option<char> {
        let t = self.toks.get(i)?;
        if t.kind == Kind::Sym {
            char::from_u32(u32::try_from(t.value).ok()?)
        } else {
            None
        }
    }

    /// Whether token `i` is the symbol `c`.
    #[inline(always)]
    pub fn is_sym(&self, i: usize, c: char) -> bool {
        self.sym(i) == Some(c)
    }

    /// Whether token `i` directly follows the previous one, with no space between.
    #[inline(always)]
    pub fn glued(&self, i: usize) -> bool {
        i > 0 && self.toks.get(i).is_some_and(|t| !t.space_before)
    }

    /// Whether a line break comes before token `i`.
    #[inline(always)]
    pub fn line_start(&self, i: usize) -> bool {
        self.toks.get(i).is_some_and(|t| t.newline_before)
    }

    /// Whether token `i` starts with an upper-case letter.
    #[inline(always)]
    pub fn capitalised(&self, i: usize) -> bool {
        self.raw(i).chars().next().is_some_and(char::is_uppercase)
    }

    /// Whether token `i` ends a sentence: `.`, `!`, `?` or `;` followed by space, or it is
    /// followed by an empty line.
    #[inline(always)]
    pub fn ends_sentence(&self, i: usize) -> bool {
        let next_spaced = self.toks.get(i + 1).is_none_or(|t| t.space_before);
        let next_blank = self.toks.get(i + 1).is_some_and(|t| t.blank_before);
        next_blank || (matches!(self.sym(i), Some('.' | '!' | '?' | ';')) && next_spaced)
    }

    /// Whether a sentence ends anywhere between tokens `a` and `b` (`a < b`), so that
    /// words there do not describe each other.
    pub fn sentence_between(&self, a: usize, b: usize) -> bool {
        (a..b).any(|k| self.ends_sentence(k))
    }

    /// The index of the first token starting at or after byte `offset`.
    pub fn index_at(&self, offset: usize) -> usize {
        self.toks.partition_point(|t| (t.start as usize) < offset)
    }

    /// The text from the start of token `a` to the end of token `b` (inclusive).
    pub fn span(&self, a: usize, b: usize) -> &'a str {
        match (self.toks.get(a), self.toks.get(b)) {
            (Some(x), Some(y)) if x.start <= y.end => self
                .text
                .get(x.start as usize..y.end as usize)
                .unwrap_or(""),
            _ => "",
        }
    }
}

/// A lower-cased copy of `text` with the same byte offsets: characters whose lower case
/// has another length are kept as they are (none of them matter for matching).
fn lower_aligned(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        let mut lower = c.to_lowercase();
        match (lower.next(), lower.next()) {
            (Some(l), None) if l.len_utf8() == c.len_utf8() => out.push(l),
            _ => out.push(c),
        }
    }
    out
}

fn is_local_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_domain_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

/// The end of an email address starting at `p`, if one does. `no_email_before` remembers
/// runs already known not to be followed by `@`, so that a long dotted run is not
/// re-scanned from each of its words.
fn email_end(bytes: &[u8], p: usize, no_email_before: &mut usize) -> Option<usize> {
    if p < *no_email_before {
        return None;
    }
    let mut q = p;
    while q < bytes.len() && is_local_byte(bytes[q]) {
        q += 1;
    }
    if q >= bytes.len() || bytes[q] != b'@' || q == p {
        *no_email_before = q.max(p + 1);
        return None;
    }
    let domain_start = q + 1;
    let mut r = domain_start;
    while r < bytes.len() && is_domain_byte(bytes[r]) {
        r += 1;
    }
    while r > domain_start && matches!(bytes[r - 1], b'.' | b'-') {
        r -= 1;
    }
    let domain = &bytes[domain_start..r];
    if domain.len() < 3 || !domain.contains(&b'.') || domain[0] == b'.' {
        *no_email_before = q + 1;
        return None;
    }
    Some(r)
}

fn url_end(bytes: &[u8], lower: &[u8], p: usize) -> Option<usize> {
    let rest = &lower[p..];
    if !(rest.starts_with(b"http://") || rest.starts_with(b"https://") || rest.starts_with(b"www."))
    {
        return None;
    }
    let mut q = p;
    while q < bytes.len()
        && !bytes[q].is_ascii_whitespace()
        && !matches!(
            bytes[q],
            b'<' | b'>' | b'"' | b'\'' | b'(' | b')' | b'[' | b']'
        )
    {
        q += 1;
    }
    while q > p && matches!(bytes[q - 1], b'.' | b',' | b';' | b':' | b'!' | b'?') {
        q -= 1;
    }
    Some(q)
}

fn tokenize(text: &str, lower: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let lbytes = lower.as_bytes();
    let mut toks: Vec<Token> = Vec::with_capacity((text.len() / 4).min(MAX_TOKENS));
    let mut p = 0;
    let mut space = false;
    let mut newlines = 0u32;
    let mut no_email_before = 0;
    // Plain byte loops throughout: plugins are built for size, where iterator adaptors
    // are not always inlined, and this loop sees every byte of the email.
    while p < bytes.len() && toks.len() < MAX_TOKENS {
        let b = bytes[p];
        if b == b' ' || b == b'\n' || b.is_ascii_whitespace() {
            space = true;
            if b == b'\n' {
                newlines += 1;
            }
            p += 1;
            continue;
        }
        let (kind, end, value) = if b.is_ascii_alphanumeric() {
            // The letters or digits of the token.
            let digit = b.is_ascii_digit();
            let mut q = p;
            let mut value: u64 = 0;
            while q < bytes.len() {
                let c = bytes[q];
                if digit && c.is_ascii_digit() {
                    value = value.saturating_mul(10).saturating_add(u64::from(c - b'0'));
                } else if digit || !c.is_ascii_alphabetic() {
                    break;
                }
                q += 1;
            }
            let next = bytes.get(q).copied().unwrap_or(b' ');
            // Only a run followed by an address or URL character can be one.
            let maybe_url = !digit && (next == b':' || next == b'.') && q - p <= 5;
            let maybe_email = next == b'@' || (is_local_byte(next) && next != b' ');
            if let Some(e) = maybe_url.then(|| url_end(bytes, lbytes, p)).flatten() {
                (Kind::Url, e, 0)
            } else if let Some(e) = maybe_email
                .then(|| email_end(bytes, p, &mut no_email_before))
                .flatten()
            {
                (Kind::Email, e, 0)
            } else if digit {
                (Kind::Num, q, value)
            } else if next >= 0x80 {
                // Letters continue beyond ASCII ("José").
                (Kind::Word, word_end(text, p), 0)
            } else {
                (Kind::Word, q, 0)
            }
        } else if b.is_ascii() {
            (Kind::Sym, p + 1, u64::from(b))
        } else {
            let Some(c) = text.get(p..).and_then(|s| s.chars().next()) else {
                p += 1;
                continue;
            };
            if c.is_whitespace() {
                space = true;
                p += c.len_utf8();
                continue;
            }
            if c.is_alphabetic() {
                (Kind::Word, word_end(text, p), 0)
            } else {
                (Kind::Sym, p + c.len_utf8(), u64::from(u32::from(c)))
            }
        };
        let mut token = Token {
            kind,
            start: p as u32,
            end: end as u32,
            value,
            space_before: space || toks.is_empty(),
            newline_before: newlines > 0,
            blank_before: newlines > 1,
            class: 0,
            hash: 0,
        };
        if matches!(kind, Kind::Word | Kind::Num) {
            classify(&mut token, lower);
        }
        toks.push(token);
        p = end;
        space = false;
        newlines = 0;
    }
    toks
}

/// Hashes a word or number and looks up its lists.
fn classify(t: &mut Token, lower: &str) {
    let word = lower.get(t.start as usize..t.end as usize).unwrap_or("");
    if word.is_ascii() {
        t.hash = crate::lexicon::fnv(word.as_bytes());
        if t.kind == Kind::Word {
            t.class = crate::lexicon::classes(t.hash, word);
        }
    } else {
        let folded = crate::phrases::fold(word);
        t.hash = crate::lexicon::fnv(folded.as_bytes());
        t.class = crate::lexicon::classes(t.hash, &folded);
    }
}

fn word_end(text: &str, p: usize) -> usize {
    let rest = text.get(p..).unwrap_or("");
    let len = rest
        .char_indices()
        .find(|&(_, c)| !c.is_alphabetic() || c.is_ascii_digit())
        .map_or(rest.len(), |(i, _)| i);
    p + len.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, String)> {
        let t = Tokens::new(text);
        (0..t.len())
            .map(|i| (t.kind(i).unwrap(), t.raw(i).to_owned()))
            .collect()
    }

    #[test]
    fn letters_digits_and_symbols_split_apart() {
        let k = kinds("R60,000 for 3rd-April");
        let raws: Vec<&str> = k.iter().map(|(_, r)| r.as_str()).collect();
        assert_eq!(
            raws,
            ["R", "60", ",", "000", "for", "3", "rd", "-", "April"]
        );
        assert_eq!(k[1].0, Kind::Num);
        assert_eq!(k[2].0, Kind::Sym);
    }

    #[test]
    fn email_addresses_and_urls_are_single_tokens() {
        let k = kinds("Mail priya.naidoo@example.net or see https://x.test/a?b=1. Thanks");
        assert_eq!(k[1], (Kind::Email, "priya.naidoo@example.net".to_owned()));
        assert_eq!(k[4], (Kind::Url, "https://x.test/a?b=1".to_owned()));
    }

    #[test]
    fn words_are_matched_lower_case_with_original_offsets() {
        let t = Tokens::new("José MÜLLER in Zanzibar");
        assert_eq!(t.word(1), Some("müller"));
        assert_eq!(t.raw(1), "MÜLLER");
        assert!(t.is_word(3, "zanzibar"));
        assert!(t.capitalised(0));
    }

    #[test]
    fn spacing_and_line_breaks_are_recorded() {
        let t = Tokens::new("a b\nc\n\nd.e");
        assert!(!t.line_start(1));
        assert!(t.line_start(2));
        assert!(t.get(3).unwrap().blank_before);
        assert!(t.glued(5));
        assert!(t.ends_sentence(2));
    }

    #[test]
    fn long_dotted_runs_without_at_signs_stay_linear() {
        let text = "a.".repeat(50_000);
        let t = Tokens::new(&text);
        assert_eq!(t.len(), MAX_TOKENS);
    }
}
