//! Text for the built-in Helvetica faces: reducing strings to what WinAnsi can encode,
//! measuring them with the fonts' advance widths, and wrapping or cutting them to a width.
//!
//! The built-in PDF fonts are not embedded, so the viewer supplies Helvetica (or a
//! metric-compatible substitute) and its standard widths. Measuring with the same widths is
//! what keeps wrapped lines inside the margins without shipping a font file.

/// Which of the two faces a run of text is set in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    Regular,
    Bold,
}

/// The ellipsis that ends cut text; WinAnsi has it (0x85), so it survives extraction.
pub const ELLIPSIS: char = '\u{2026}';

/// Advance widths in 1/1000 em of Helvetica for U+0020..=U+007E.
const REGULAR_ASCII: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278,
    278, // ' '..'/'
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // '0'..'9'
    278, 278, 584, 584, 584, 556, 1015, // ':'..'@'
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, // 'A'..'M'
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, // 'N'..'Z'
    278, 278, 278, 469, 556, 333, // '['..'`'
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, // 'a'..'m'
    556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, // 'n'..'z'
    334, 260, 334, 584, // '{'..'~'
];

/// Advance widths of Helvetica-Bold for U+0020..=U+007E.
const BOLD_ASCII: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278,
    278, // ' '..'/'
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // '0'..'9'
    333, 333, 584, 584, 584, 611, 975, // ':'..'@'
    722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, // 'A'..'M'
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, // 'N'..'Z'
    333, 278, 333, 584, 556, 333, // '['..'`'
    556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, // 'a'..'m'
    611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, // 'n'..'z'
    389, 280, 389, 584, // '{'..'~'
];

/// Advance widths of Helvetica for U+00A0..=U+00FF. Where published metrics and common
/// substitutes disagree (`±`, `µ`, `÷`), the larger value is kept: overestimating a width
/// only wraps a little early, underestimating it lets text cross the margin.
const REGULAR_LATIN1: [u16; 96] = [
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333, // A0..AF
    400, 584, 333, 333, 333, 576, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611, // B0..BF
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, // C0..CF
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, // D0..DF
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278, // E0..EF
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500, // F0..FF
];

/// Advance widths of Helvetica-Bold for U+00A0..=U+00FF.
const BOLD_LATIN1: [u16; 96] = [
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333, // A0..AF
    400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611, // B0..BF
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, // C0..CF
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, // D0..DF
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278, // E0..EF
    611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556, // F0..FF
];

/// The WinAnsi characters outside ASCII and Latin-1 (its 0x80..=0x9F row), with their
/// regular and bold widths.
const WIN_ANSI_EXTRA: [(char, u16, u16); 27] = [
    ('\u{20AC}', 744, 744),   // €
    ('\u{201A}', 222, 278),   // ‚
    ('\u{0192}', 556, 556),   // ƒ
    ('\u{201E}', 333, 500),   // „
    ('\u{2026}', 1000, 1000), // …
    ('\u{2020}', 556, 556),   // †
    ('\u{2021}', 556, 556),   // ‡
    ('\u{02C6}', 333, 333),   // ˆ
    ('\u{2030}', 1000, 1000), // ‰
    ('\u{0160}', 667, 667),   // Š
    ('\u{2039}', 333, 333),   // ‹
    ('\u{0152}', 1000, 1000), // Œ
    ('\u{017D}', 611, 611),   // Ž
    ('\u{2018}', 222, 278),   // ‘
    ('\u{2019}', 222, 278),   // ’
    ('\u{201C}', 333, 500),   // “
    ('\u{201D}', 333, 500),   // ”
    ('\u{2022}', 350, 350),   // •
    ('\u{2013}', 556, 556),   // –
    ('\u{2014}', 1000, 1000), // —
    ('\u{02DC}', 333, 333),   // ˜
    ('\u{2122}', 1000, 1000), // ™
    ('\u{0161}', 500, 556),   // š
    ('\u{203A}', 333, 333),   // ›
    ('\u{0153}', 944, 944),   // œ
    ('\u{017E}', 500, 500),   // ž
    ('\u{0178}', 667, 667),   // Ÿ
];

/// Base letters of Latin Extended-A (U+0100..=U+017F), in code point order. `Ĳ`, `ĳ` and
/// `ŉ` need two letters and are handled before this table is consulted.
const LATIN_EXTENDED_A: &[u8; 128] = b"AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIiJjJjKkkLlLlLlLlLlNnNnNnnNnOoOoOoOoRrRrRrSsSsSsSsTtTtTtUuUuUuUuUuUuWwYyYZzZzZzs";

fn is_win_ansi(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{FF}')
        || WIN_ANSI_EXTRA.iter().any(|(x, _, _)| *x == c)
}

/// A close ASCII spelling of a character WinAnsi lacks, or `None` for `?`. Covers the
/// Latin letters of Central European, Baltic, Turkish and Romanian names, typographic
/// spaces and dashes, and a few symbols that travel documents use.
fn transliterate(c: char) -> Option<&'static str> {
    const LETTERS: [&str; 52] = [
        "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q", "R",
        "S", "T", "U", "V", "W", "X", "Y", "Z", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j",
        "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z",
    ];
    let letter = |b: u8| {
        let index = if b.is_ascii_uppercase() {
            b - b'A'
        } else {
            b.wrapping_sub(b'a').saturating_add(26)
        };
        LETTERS.get(usize::from(index)).copied()
    };
    match c {
        '\u{0132}' => Some("IJ"),
        '\u{0133}' => Some("ij"),
        '\u{0149}' => Some("'n"),
        '\u{0100}'..='\u{017F}' => {
            let offset = c as usize - 0x100;
            LATIN_EXTENDED_A.get(offset).and_then(|b| letter(*b))
        }
        // Romanian comma-below letters (their cedilla twins are in Latin Extended-A).
        'Ș' => Some("S"),
        'ș' => Some("s"),
        'Ț' => Some("T"),
        'ț' => Some("t"),
        'ǎ' => Some("a"),
        'ǐ' => Some("i"),
        'ǒ' => Some("o"),
        'ǔ' => Some("u"),
        'ẞ' => Some("SS"),
        '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' | '\t' => Some(" "),
        '\u{2010}'..='\u{2012}' | '\u{2212}' => Some("-"),
        '\u{2015}' => Some("\u{2014}"),
        '\u{2032}' => Some("'"),
        '\u{2033}' => Some("\""),
        '\u{2043}' => Some("-"),
        '\u{2190}' => Some("<-"),
        '\u{2192}' => Some("->"),
        '\u{2194}' => Some("<->"),
        '\u{2264}' => Some("<="),
        '\u{2265}' => Some(">="),
        '\u{2260}' => Some("!="),
        '\u{2248}' => Some("~"),
        '\u{2116}' => Some("No."),
        '\u{2713}' | '\u{2714}' => Some("v"),
        '\u{2605}' | '\u{2606}' => Some("*"),
        '\u{20B9}' => Some("Rs"),
        '\u{20BD}' => Some("RUB"),
        '\u{20A6}' => Some("NGN"),
        '\u{20BA}' => Some("TRY"),
        '\u{20A9}' => Some("KRW"),
        '\u{20AA}' => Some("ILS"),
        _ => None,
    }
}

/// Characters that vanish: combining marks (so a decomposed `é` keeps its `e`), zero-width
/// spaces and joiners, byte order marks, and control characters other than line breaks.
fn is_dropped(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
        || (c.is_control() && c != '\n' && c != '\t')
}

/// `text` reduced to characters the built-in fonts can show. WinAnsi characters pass
/// through; others become a close ASCII spelling where one is obvious and `?` otherwise, so
/// what is measured is exactly what is drawn and extracted. Line breaks become spaces unless
/// `keep_newlines` is set (paragraphs honour them).
pub fn clean(text: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            // A CRLF pair is one break; a lone CR is one too.
            if chars.peek() == Some(&'\n') {
                continue;
            }
            out.push(if keep_newlines { '\n' } else { ' ' });
        } else if c == '\n' {
            out.push(if keep_newlines { '\n' } else { ' ' });
        } else if is_dropped(c) {
            continue;
        } else if is_win_ansi(c) {
            out.push(c);
        } else if let Some(ascii) = transliterate(c) {
            out.push_str(ascii);
        } else {
            out.push('?');
        }
    }
    out
}

/// Advance width of `c` in 1/1000 em. Characters outside WinAnsi (which [`clean`] never
/// lets through) count as a full em, the safe side.
fn advance(c: char, face: Face) -> u16 {
    let (ascii, latin1) = match face {
        Face::Regular => (&REGULAR_ASCII, &REGULAR_LATIN1),
        Face::Bold => (&BOLD_ASCII, &BOLD_LATIN1),
    };
    let cp = c as usize;
    let width = match cp {
        0x20..=0x7E => ascii.get(cp - 0x20).copied(),
        0xA0..=0xFF => latin1.get(cp - 0xA0).copied(),
        _ => WIN_ANSI_EXTRA
            .iter()
            .find(|(x, _, _)| *x == c)
            .map(|(_, regular, bold)| match face {
                Face::Regular => *regular,
                Face::Bold => *bold,
            }),
    };
    width.unwrap_or(1000)
}

/// Width of `text` set at `size` points, in points.
pub fn width(text: &str, face: Face, size: f32) -> f32 {
    let units: u32 = text.chars().map(|c| u32::from(advance(c, face))).sum();
    units as f32 * size / 1000.0
}

/// `text` (already [`clean`]ed) broken into lines no wider than `max_width`. Explicit line
/// breaks are kept, runs of spaces collapse, and a word wider than a line is split between
/// characters. An empty text gives no lines.
pub fn wrap(text: &str, face: Face, size: f32, max_width: f32) -> Vec<String> {
    let space = width(" ", face, size);
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut line_width = 0.0;
        // Only the ASCII space breaks: a no-break space (which `clean` keeps) must hold its
        // neighbours together, and tabs were turned into spaces already.
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let word_width = width(word, face, size);
            if line.is_empty() {
                // Nothing to break before: fall through to placing the word.
            } else if line_width + space + word_width <= max_width {
                line.push(' ');
                line.push_str(word);
                line_width += space + word_width;
                continue;
            } else {
                lines.push(std::mem::take(&mut line));
            }
            if word_width <= max_width {
                line.push_str(word);
                line_width = word_width;
            } else {
                // A word longer than the line (a URL, a reference): split it where it
                // reaches the edge; the last piece starts the next line.
                let mut pieces = split_word(word, face, size, max_width);
                let last = pieces.pop().unwrap_or_default();
                lines.extend(pieces);
                line_width = width(&last, face, size);
                line = last;
            }
        }
        // An empty paragraph between two breaks is a blank line, as the author typed it;
        // an empty text as a whole yields nothing.
        if !line.is_empty() || !text.is_empty() {
            lines.push(line);
        }
    }
    lines
}

/// `word` cut into pieces each no wider than `max_width` (at least one character each, so
/// an absurdly narrow column still makes progress).
fn split_word(word: &str, face: Face, size: f32, max_width: f32) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut piece = String::new();
    let mut piece_width = 0.0;
    for c in word.chars() {
        let w = f32::from(advance(c, face)) * size / 1000.0;
        if !piece.is_empty() && piece_width + w > max_width {
            pieces.push(std::mem::take(&mut piece));
            piece_width = 0.0;
        }
        piece.push(c);
        piece_width += w;
    }
    if !piece.is_empty() {
        pieces.push(piece);
    }
    pieces
}

/// `text` on one line: unchanged when it fits `max_width`, otherwise cut and ended with an
/// ellipsis. Returns an empty string when not even the ellipsis fits.
pub fn fit(text: &str, face: Face, size: f32, max_width: f32) -> String {
    if width(text, face, size) <= max_width {
        return text.to_owned();
    }
    let room = max_width - width(&ELLIPSIS.to_string(), face, size);
    if room < 0.0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0.0;
    for c in text.chars() {
        let w = f32::from(advance(c, face)) * size / 1000.0;
        if used + w > room {
            break;
        }
        out.push(c);
        used += w;
    }
    out.truncate(out.trim_end().len());
    out.push(ELLIPSIS);
    out
}

/// `lines` limited to `max` lines, the last one ending in an ellipsis when some were left
/// off (and cut to `max_width` so the ellipsis fits).
pub fn limit(
    mut lines: Vec<String>,
    max: usize,
    face: Face,
    size: f32,
    max_width: f32,
) -> Vec<String> {
    if lines.len() <= max {
        return lines;
    }
    lines.truncate(max);
    if let Some(last) = lines.last_mut() {
        let mut marked = last.clone();
        marked.push(ELLIPSIS);
        *last = fit(&marked, face, size, max_width);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_and_typographic_characters_pass_through() {
        let text = "Zürich – café “quoted” €";
        assert_eq!(clean(text, false), text);
    }

    #[test]
    fn central_european_letters_become_their_base_letter() {
        // ó and á are Latin-1 and stay; ł, ź, ř, ş, ő are not and lose their marks.
        assert_eq!(clean("Łódź", false), "Lódz");
        assert_eq!(clean("Dvořák, Şişli, Őrség", false), "Dvorák, Sisli, Orség");
        assert_eq!(clean("Ĳsselmeer", false), "IJsselmeer");
        assert_eq!(clean("Brașov, Constanța", false), "Brasov, Constanta");
    }

    #[test]
    fn scripts_without_a_latin_spelling_become_question_marks() {
        assert_eq!(clean("東京 Москва", false), "?? ??????");
        assert_eq!(clean("Dubai 🌴", false), "Dubai ?");
    }

    #[test]
    fn combining_marks_and_controls_vanish_and_breaks_follow_the_caller() {
        assert_eq!(clean("Cafe\u{301}\u{200B}\u{7}", false), "Cafe");
        assert_eq!(clean("a\r\nb\rc\nd", true), "a\nb\nc\nd");
        assert_eq!(clean("a\r\nb\tc", false), "a b c");
    }

    #[test]
    fn widths_follow_the_helvetica_metrics() {
        // "Hello": H 722 + e 556 + l 222 + l 222 + o 556 = 2278 units.
        assert!((width("Hello", Face::Regular, 10.0) - 22.78).abs() < 1e-3);
        // Bold: 722 + 556 + 278 + 278 + 611 = 2445.
        assert!((width("Hello", Face::Bold, 10.0) - 24.45).abs() < 1e-3);
    }

    #[test]
    fn the_width_table_never_underestimates_the_bundled_font_metrics() {
        use printpdf::BuiltinFont;
        for (font, face) in [
            (BuiltinFont::Helvetica, Face::Regular),
            (BuiltinFont::HelveticaBold, Face::Bold),
        ] {
            let parsed = font.get_parsed_font().unwrap();
            let em = f32::from(parsed.units_per_em);
            let chars = ('\u{21}'..='\u{7E}')
                .chain('\u{A1}'..='\u{FF}')
                .chain(WIN_ANSI_EXTRA.iter().map(|(c, _, _)| *c));
            for c in chars {
                let Some(units) = parsed
                    .lookup_glyph_index(c as u32)
                    .and_then(|gid| parsed.get_glyph_width(gid))
                else {
                    continue;
                };
                let theirs = f32::from(units) * 1000.0 / em;
                let ours = f32::from(advance(c, face));
                assert!(ours + 0.5 >= theirs, "{c:?} {face:?}: {ours} < {theirs}");
            }
        }
    }

    #[test]
    fn wrapped_lines_never_exceed_the_width() {
        let text = "Sunset dhow cruise with dinner on the creek, hotel transfers included \
                    and a supercalifragilisticexpialidociousreferencecode-ABCDEFGHIJ to end";
        for max in [40.0, 80.0, 150.0, 400.0] {
            let lines = wrap(text, Face::Regular, 10.0, max);
            assert!(!lines.is_empty());
            for line in &lines {
                assert!(width(line, Face::Regular, 10.0) <= max, "{line:?} > {max}");
            }
            let rejoined: String = lines.concat().split_whitespace().collect();
            let original: String = text.split_whitespace().collect();
            assert_eq!(rejoined, original, "no characters lost at width {max}");
        }
    }

    #[test]
    fn explicit_breaks_and_blank_lines_are_kept() {
        assert_eq!(
            wrap("one\n\ntwo", Face::Regular, 10.0, 500.0),
            ["one", "", "two"]
        );
        assert!(wrap("", Face::Regular, 10.0, 500.0).is_empty());
    }

    #[test]
    fn fitting_cuts_with_an_ellipsis() {
        assert_eq!(fit("Short", Face::Regular, 10.0, 100.0), "Short");
        let cut = fit(
            "A rather long hotel name that will not fit",
            Face::Bold,
            10.0,
            60.0,
        );
        assert!(cut.ends_with(ELLIPSIS));
        assert!(width(&cut, Face::Bold, 10.0) <= 60.0);
        assert_eq!(fit("Anything", Face::Regular, 10.0, 1.0), "");
    }

    #[test]
    fn limiting_marks_the_cut() {
        let lines = vec!["one".to_owned(), "two".to_owned(), "three".to_owned()];
        let kept = limit(lines, 2, Face::Regular, 10.0, 100.0);
        assert_eq!(kept, ["one", "two\u{2026}"]);
    }
}
