//! Splits extracted document text into overlapping chunks that follow its headings and
//! paragraphs, so each chunk retrieved for the helpdesk is about one thing and says which
//! section it came from.
//!
//! The rules, in order:
//!
//! * Markdown headings (`#` to `######`, and `===` / `---` setext underlines below a
//!   one-line paragraph) start a section; `#` lines inside ``` or ~~~ fences are code, not
//!   headings.
//! * Consecutive sections that fit in one chunk together are merged, each keeping its own
//!   heading line in the content; the chunk's [`Chunk::heading`] is the first heading among
//!   them. Otherwise a chunk never spans two sections.
//! * A section too long for one chunk is split: whole paragraphs are packed up to the budget,
//!   a paragraph over the budget is split at sentence ends, and a sentence over the budget at
//!   word boundaries. Consecutive chunks of one section overlap by up to
//!   [`ChunkOptions::overlap_words`] words taken from the end of the previous chunk, whole
//!   sentences when they fit, else its last words.
//! * Every chunk of a sectioned text starts with its heading line (`## Cancellation policy`),
//!   and those words count toward the limit.
//!
//! Word counts are whitespace-separated words of [`Chunk::content`], and every chunk has at
//! most `max_words` of them (there is no slack). To keep that true a heading line longer than
//! half of `max_words` is cut in the content, and a "word" longer than [`MAX_WORD_CHARS`]
//! characters (a URL, a base64 blob, text without spaces) is broken into pieces of that
//! length, each counting as one word. Chunking is deterministic and does no I/O.

use std::borrow::Cow;

/// Longest run of non-whitespace characters kept as one word; longer runs are split so one
/// blob cannot make a chunk arbitrarily large.
pub const MAX_WORD_CHARS: usize = 64;

/// How large chunks are and how much consecutive chunks share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkOptions {
    /// Most words in one chunk, heading line included (at least 1 is used).
    pub max_words: usize,
    /// Words repeated from the end of the previous chunk of the same section. At most half
    /// of the room left after the heading line is used, so every chunk brings new text.
    pub overlap_words: usize,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        Self {
            max_words: 500,
            overlap_words: 50,
        }
    }
}

/// One piece of a document, ready to be embedded and indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Position in the document, from 0, without gaps.
    pub index: u32,
    /// The title of the section the chunk belongs to (without `#` marks), if it has one.
    pub heading: Option<String>,
    /// The text, starting with the section's heading line when there is one.
    pub content: String,
    /// Whitespace-separated words in `content`.
    pub word_count: u32,
}

/// Splits `text` into chunks following the rules in the module documentation. Empty or
/// whitespace-only text gives no chunks.
pub fn chunk(text: &str, options: &ChunkOptions) -> Vec<Chunk> {
    let max_words = options.max_words.max(1);
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let sections = sections(&text);

    let mut out: Vec<(Option<String>, String)> = Vec::new();
    let mut group: Vec<&Section> = Vec::new();
    let mut group_words = 0;
    for section in &sections {
        let words = section.word_count();
        if words == 0 {
            continue;
        }
        if words <= max_words {
            if group_words + words > max_words {
                flush(&mut group, &mut out);
                group_words = 0;
            }
            group.push(section);
            group_words += words;
        } else {
            flush(&mut group, &mut out);
            group_words = 0;
            split_section(section, max_words, options.overlap_words, &mut out);
        }
    }
    flush(&mut group, &mut out);

    out.into_iter()
        .enumerate()
        .map(|(i, (heading, content))| Chunk {
            index: u32::try_from(i).unwrap_or(u32::MAX),
            heading,
            word_count: u32::try_from(word_count(&content)).unwrap_or(u32::MAX),
            content,
        })
        .collect()
}

/// A Markdown heading.
#[derive(Debug)]
struct Heading {
    level: usize,
    title: String,
}

impl Heading {
    /// The heading as an ATX line, whatever its original form.
    fn line(&self) -> String {
        format!("{} {}", "#".repeat(self.level), self.title)
    }
}

/// A heading and the paragraphs under it, up to the next heading.
#[derive(Debug, Default)]
struct Section {
    heading: Option<Heading>,
    paragraphs: Vec<String>,
}

impl Section {
    fn word_count(&self) -> usize {
        self.heading.as_ref().map_or(0, |h| word_count(&h.line()))
            + self.paragraphs.iter().map(|p| word_count(p)).sum::<usize>()
    }

    fn render(&self) -> String {
        let mut parts = Vec::with_capacity(self.paragraphs.len() + 1);
        if let Some(heading) = &self.heading {
            parts.push(heading.line());
        }
        parts.extend(self.paragraphs.iter().cloned());
        parts.join("\n\n")
    }
}

fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// Emits the merged small sections in `group` as one chunk.
fn flush(group: &mut Vec<&Section>, out: &mut Vec<(Option<String>, String)>) {
    if group.is_empty() {
        return;
    }
    let heading = group
        .iter()
        .find_map(|s| s.heading.as_ref().map(|h| h.title.clone()));
    let content = group
        .iter()
        .map(|s| s.render())
        .collect::<Vec<_>>()
        .join("\n\n");
    out.push((heading, content));
    group.clear();
}

/// An ATX heading line (`## Title ##`), or `None`.
fn atx_heading(line: &str) -> Option<Heading> {
    let trimmed = line.trim_start();
    // More than three spaces of indent make an indented code block.
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    let level = trimmed.bytes().take_while(|b| *b == b'#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = trimmed.get(level..)?;
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    let title = rest.trim().trim_end_matches('#').trim();
    if title.is_empty() {
        return None;
    }
    Some(Heading {
        level,
        title: split_long_words(title).into_owned(),
    })
}

/// The level a setext underline gives (1 for `===`, 2 for `---`), or `None`.
fn setext_level(line: &str) -> Option<usize> {
    let t = line.trim();
    if t.len() < 3 {
        return None;
    }
    if t.bytes().all(|b| b == b'=') {
        Some(1)
    } else if t.bytes().all(|b| b == b'-') {
        Some(2)
    } else {
        None
    }
}

fn is_fence(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("```") || t.starts_with("~~~")
}

/// Adds the paragraph made of `lines` to `section`, and empties `lines`.
fn end_paragraph(lines: &mut Vec<&str>, section: &mut Section) {
    if lines.is_empty() {
        return;
    }
    let paragraph = lines.join("\n");
    let paragraph = paragraph.trim();
    if !paragraph.is_empty() {
        section
            .paragraphs
            .push(split_long_words(paragraph).into_owned());
    }
    lines.clear();
}

/// Splits text (with LF line ends) into sections and their paragraphs.
fn sections(text: &str) -> Vec<Section> {
    let mut sections = Vec::new();
    let mut current = Section::default();
    // Lines of the paragraph being read.
    let mut lines: Vec<&str> = Vec::new();
    let mut in_fence = false;

    for line in text.lines() {
        if is_fence(line) {
            in_fence = !in_fence;
            lines.push(line);
            continue;
        }
        if in_fence {
            // Blank lines inside code stay inside its paragraph.
            lines.push(line);
            continue;
        }
        if line.trim().is_empty() {
            end_paragraph(&mut lines, &mut current);
            continue;
        }
        if let Some(heading) = atx_heading(line) {
            end_paragraph(&mut lines, &mut current);
            sections.push(std::mem::replace(
                &mut current,
                Section {
                    heading: Some(heading),
                    paragraphs: Vec::new(),
                },
            ));
            continue;
        }
        // A setext underline makes a heading of a one-line paragraph only; under a longer
        // paragraph `---` is more likely a rule or a table border.
        if let (Some(level), [title]) = (setext_level(line), lines.as_slice()) {
            let heading = Heading {
                level,
                title: split_long_words(title.trim()).into_owned(),
            };
            lines.clear();
            sections.push(std::mem::replace(
                &mut current,
                Section {
                    heading: Some(heading),
                    paragraphs: Vec::new(),
                },
            ));
            continue;
        }
        lines.push(line);
    }
    end_paragraph(&mut lines, &mut current);
    sections.push(current);
    sections
}

/// Breaks every run of more than [`MAX_WORD_CHARS`] non-whitespace characters into pieces
/// of that length. Text without such runs is returned as it is.
fn split_long_words(text: &str) -> Cow<'_, str> {
    if text
        .split_whitespace()
        .all(|w| w.chars().nth(MAX_WORD_CHARS).is_none())
    {
        return Cow::Borrowed(text);
    }
    let mut words: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        let chars: Vec<char> = word.chars().collect();
        words.extend(chars.chunks(MAX_WORD_CHARS).map(|c| c.iter().collect()));
    }
    Cow::Owned(words.join(" "))
}

/// A unit of packing: a whole paragraph, a sentence, or a run of words, with the paragraph
/// it came from so pieces of one paragraph are joined with a space and others with a blank
/// line.
#[derive(Debug, Clone)]
struct Piece {
    text: String,
    words: usize,
    paragraph: usize,
}

/// Words grouped into sentences. A sentence ends at a word ending in `.`, `!`, `?` or `…`
/// (or their CJK forms), before any closing quotes or brackets.
fn sentences(text: &str) -> Vec<Vec<&str>> {
    let mut out = Vec::new();
    let mut sentence = Vec::new();
    for word in text.split_whitespace() {
        sentence.push(word);
        let bare = word.trim_end_matches(['"', '\'', ')', ']', '»', '”', '’', '*', '_']);
        if bare.ends_with(['.', '!', '?', '…', '。', '！', '？']) {
            out.push(std::mem::take(&mut sentence));
        }
    }
    if !sentence.is_empty() {
        out.push(sentence);
    }
    out
}

/// Chunks one section longer than `max_words`.
fn split_section(
    section: &Section,
    max_words: usize,
    overlap_words: usize,
    out: &mut Vec<(Option<String>, String)>,
) {
    let heading_title = section.heading.as_ref().map(|h| h.title.clone());
    let prefix = section.heading.as_ref().and_then(|h| {
        let line = h.line();
        let words: Vec<&str> = line.split_whitespace().collect();
        let keep = words.len().min(max_words / 2);
        (keep > 0).then(|| {
            if keep == words.len() {
                line.clone()
            } else {
                words[..keep].join(" ")
            }
        })
    });
    let prefix_words = prefix.as_deref().map_or(0, word_count);
    let budget = max_words.saturating_sub(prefix_words).max(1);

    let overlap_limit = overlap_words.min(budget / 2);
    // A sentence over the budget is cut into runs that leave room for the overlap.
    let run_len = budget - overlap_limit;
    let mut pieces = Vec::new();
    for (paragraph, text) in section.paragraphs.iter().enumerate() {
        let words = word_count(text);
        if words <= budget {
            pieces.push(Piece {
                text: text.clone(),
                words,
                paragraph,
            });
            continue;
        }
        for sentence in sentences(text) {
            let run_len = if sentence.len() > budget {
                run_len
            } else {
                budget
            };
            for run in sentence.chunks(run_len) {
                pieces.push(Piece {
                    text: run.join(" "),
                    words: run.len(),
                    paragraph,
                });
            }
        }
    }

    if pieces.is_empty() {
        // Only a heading, too long for one chunk: keep what fits rather than lose it.
        if let Some(prefix) = prefix {
            out.push((heading_title, prefix));
        }
        return;
    }
    let mut current: Vec<Piece> = Vec::new();
    let mut current_words = 0;
    for piece in pieces {
        // `current` always ends with at least one piece not carried over, so emitting it
        // here never repeats a chunk.
        if !current.is_empty() && current_words + piece.words > budget {
            out.push((heading_title.clone(), render(prefix.as_deref(), &current)));
            // Pieces are never larger than the budget, so the overlap can always shrink to
            // leave room for the next one.
            current = overlap(&current, overlap_limit.min(budget - piece.words));
            current_words = current.iter().map(|p| p.words).sum();
        }
        current_words += piece.words;
        current.push(piece);
    }
    out.push((heading_title, render(prefix.as_deref(), &current)));
}

/// The end of a chunk to repeat at the start of the next: whole sentences from the end
/// while they fit in `limit` words, or the last `limit` words when not even one does.
fn overlap(pieces: &[Piece], limit: usize) -> Vec<Piece> {
    if limit == 0 {
        return Vec::new();
    }
    let mut taken = Vec::new();
    let mut total = 0;
    'pieces: for piece in pieces.iter().rev() {
        for sentence in sentences(&piece.text).iter().rev() {
            if total + sentence.len() > limit {
                break 'pieces;
            }
            total += sentence.len();
            taken.push(Piece {
                text: sentence.join(" "),
                words: sentence.len(),
                paragraph: piece.paragraph,
            });
        }
    }
    if taken.is_empty()
        && let Some(last) = pieces.last()
    {
        let words: Vec<&str> = last.text.split_whitespace().collect();
        let keep = limit.min(words.len());
        taken.push(Piece {
            text: words[words.len() - keep..].join(" "),
            words: keep,
            paragraph: last.paragraph,
        });
    }
    taken.reverse();
    taken
}

fn render(prefix: Option<&str>, pieces: &[Piece]) -> String {
    let mut content = prefix.unwrap_or_default().to_owned();
    let mut last_paragraph = None;
    for piece in pieces {
        if !content.is_empty() {
            content.push_str(if last_paragraph == Some(piece.paragraph) {
                " "
            } else {
                "\n\n"
            });
        }
        content.push_str(&piece.text);
        last_paragraph = Some(piece.paragraph);
    }
    content
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(max_words: usize, overlap_words: usize) -> ChunkOptions {
        ChunkOptions {
            max_words,
            overlap_words,
        }
    }

    /// `count` sentences of ten words each, the words numbered from `start` with `prefix`.
    fn sentences_of_ten(prefix: &str, start: usize, count: usize) -> String {
        (0..count)
            .map(|s| {
                let words: Vec<String> = (0..10)
                    .map(|w| format!("{prefix}{}", start + s * 10 + w))
                    .collect();
                format!("{}.", words.join(" "))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The content without the heading line, as words.
    fn body_words(chunk: &Chunk) -> Vec<&str> {
        let body = if chunk.content.starts_with('#') {
            chunk
                .content
                .split_once("\n\n")
                .map_or("", |(_, rest)| rest)
        } else {
            &chunk.content
        };
        body.split_whitespace().collect()
    }

    /// How many words at the start of `next` repeat the end of `previous`.
    fn shared_words(previous: &[&str], next: &[&str]) -> usize {
        (1..=previous.len().min(next.len()))
            .rev()
            .find(|n| previous[previous.len() - n..] == next[..*n])
            .unwrap_or(0)
    }

    fn assert_well_formed(chunks: &[Chunk], max_words: usize) {
        for (i, c) in chunks.iter().enumerate() {
            assert_eq!(c.index as usize, i, "indexes are consecutive from 0");
            assert!(!c.content.trim().is_empty(), "chunk {i} is empty");
            assert_eq!(c.word_count as usize, word_count(&c.content));
            assert!(
                c.word_count as usize <= max_words,
                "chunk {i} has {} words: {:?}",
                c.word_count,
                c.content
            );
        }
    }

    #[test]
    fn the_defaults_are_500_words_with_50_of_overlap() {
        assert_eq!(ChunkOptions::default(), options(500, 50));
    }

    #[test]
    fn empty_or_whitespace_text_gives_no_chunks() {
        let opts = ChunkOptions::default();
        assert!(chunk("", &opts).is_empty());
        assert!(chunk(" \n\n\t\r\n ", &opts).is_empty());
    }

    #[test]
    fn text_without_headings_is_one_chunk_without_a_heading() {
        let chunks = chunk(
            "First paragraph.\n\nSecond paragraph here.",
            &options(500, 50),
        );
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].heading, None);
        assert_eq!(
            chunks[0].content,
            "First paragraph.\n\nSecond paragraph here."
        );
        assert_eq!(chunks[0].word_count, 5);
    }

    #[test]
    fn a_chunk_never_spans_two_sections_that_do_not_fit_together() {
        let text = format!(
            "# Visas\n\n{}\n\n# Vaccinations\n\n{}",
            sentences_of_ten("v", 0, 3),
            sentences_of_ten("j", 0, 3)
        );
        let chunks = chunk(&text, &options(40, 5));
        assert_well_formed(&chunks, 40);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].heading.as_deref(), Some("Visas"));
        assert!(chunks[0].content.starts_with("# Visas\n\nv0 v1"));
        assert!(!chunks[0].content.contains("j0"));
        assert_eq!(chunks[1].heading.as_deref(), Some("Vaccinations"));
        assert!(chunks[1].content.starts_with("# Vaccinations\n\nj0 j1"));
        assert!(!chunks[1].content.contains("v29"));
    }

    #[test]
    fn small_consecutive_sections_are_merged_under_the_first_heading() {
        let text =
            "## Check-in\n\nFrom 14:00.\n\n## Check-out\n\nBy 10:00.\n\n## Pets\n\nNot allowed.";
        let chunks = chunk(text, &options(500, 50));
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].heading.as_deref(), Some("Check-in"));
        assert_eq!(chunks[0].content, text);
    }

    #[test]
    fn every_chunk_of_a_long_section_starts_with_its_heading_line() {
        let text = format!("## Cancellation policy\n\n{}", sentences_of_ten("w", 0, 20));
        let chunks = chunk(&text, &options(50, 10));
        assert_well_formed(&chunks, 50);
        assert!(chunks.len() > 3);
        for c in &chunks {
            assert!(
                c.content.starts_with("## Cancellation policy\n\n"),
                "{}",
                c.content
            );
            assert_eq!(c.heading.as_deref(), Some("Cancellation policy"));
        }
    }

    #[test]
    fn consecutive_chunks_overlap_by_whole_sentences_within_the_limit() {
        let text = sentences_of_ten("w", 0, 30);
        let chunks = chunk(&text, &options(60, 25));
        assert_well_formed(&chunks, 60);
        assert!(chunks.len() > 2);
        for pair in chunks.windows(2) {
            let (previous, next) = (body_words(&pair[0]), body_words(&pair[1]));
            let shared = shared_words(&previous, &next);
            assert!(shared > 0, "no overlap between {previous:?} and {next:?}");
            assert!(shared <= 25, "overlap of {shared} words");
            // Whole sentences: the overlap starts a sentence and ends one.
            assert_eq!(
                shared % 10,
                0,
                "overlap of {shared} words is not whole sentences"
            );
        }
    }

    #[test]
    fn no_overlap_is_added_when_overlap_is_zero() {
        let text = sentences_of_ten("w", 0, 10);
        let chunks = chunk(&text, &options(30, 0));
        let all: Vec<&str> = chunks.iter().flat_map(body_words).collect();
        assert_eq!(all, text.split_whitespace().collect::<Vec<_>>());
    }

    #[test]
    fn a_long_paragraph_is_split_at_sentence_ends() {
        let text = format!("Intro line.\n\n{}", sentences_of_ten("w", 0, 12));
        let chunks = chunk(&text, &options(35, 0));
        assert_well_formed(&chunks, 35);
        for c in &chunks {
            assert!(c.content.ends_with('.'), "{:?}", c.content);
        }
    }

    #[test]
    fn a_sentence_longer_than_a_chunk_is_split_at_words() {
        let words: Vec<String> = (0..130).map(|i| format!("w{i}")).collect();
        let text = words.join(" ");
        let chunks = chunk(&text, &options(50, 10));
        assert_well_formed(&chunks, 50);
        // Runs of 40 words leave room for 10 words of overlap: 0-39, 30-79, 70-119, 110-129.
        assert_eq!(chunks.len(), 4);
        assert!(chunks[0].content.starts_with("w0 w1"));
        assert!(chunks[1].content.starts_with("w30 w31"));
        assert!(chunks[3].content.ends_with("w129"));
        let shared = shared_words(&body_words(&chunks[0]), &body_words(&chunks[1]));
        assert_eq!(
            shared, 10,
            "the last words are repeated when no sentence fits"
        );
    }

    #[test]
    fn a_giant_word_is_broken_into_bounded_pieces() {
        let giant = "é".repeat(10_000);
        let text = format!("# Blob\n\nbefore {giant} after");
        let chunks = chunk(&text, &options(20, 0));
        assert_well_formed(&chunks, 20);
        for c in &chunks {
            assert!(
                c.content
                    .split_whitespace()
                    .all(|w| w.chars().count() <= MAX_WORD_CHARS)
            );
        }
        let body: String = chunks
            .iter()
            .flat_map(body_words)
            .collect::<Vec<_>>()
            .concat();
        assert_eq!(body, format!("before{giant}after"));
    }

    #[test]
    fn a_tiny_word_limit_still_makes_progress() {
        let chunks = chunk(
            "# A very long heading line here\n\nOne two three.",
            &options(1, 5),
        );
        assert_well_formed(&chunks, 1);
        let all: Vec<&str> = chunks
            .iter()
            .flat_map(|c| c.content.split_whitespace())
            .collect();
        assert_eq!(all, ["One", "two", "three."]);
    }

    #[test]
    fn crlf_input_is_chunked_like_lf() {
        let crlf = "# Title\r\n\r\nLine one\r\nline two.\r\n\r\nNext paragraph.\r\n";
        let lf = "# Title\n\nLine one\nline two.\n\nNext paragraph.\n";
        let chunks = chunk(crlf, &options(500, 50));
        assert_eq!(chunks, chunk(lf, &options(500, 50)));
        assert_eq!(chunks[0].heading.as_deref(), Some("Title"));
        assert!(!chunks[0].content.contains('\r'));
    }

    #[test]
    fn non_ascii_words_are_counted_and_kept_whole() {
        let text = "## Über uns\n\nWir fahren nach Zürich, 東京 und Αθήνα. Ça coûte 5 €.";
        let chunks = chunk(text, &options(8, 2));
        assert_well_formed(&chunks, 8);
        assert_eq!(chunks[0].heading.as_deref(), Some("Über uns"));
        let words: Vec<&str> = chunks.iter().flat_map(body_words).collect();
        for expected in ["Zürich,", "東京", "Αθήνα.", "€."] {
            assert!(
                words.contains(&expected),
                "{expected} missing from {words:?}"
            );
        }
    }

    #[test]
    fn setext_headings_start_sections_and_rules_do_not() {
        let text = format!(
            "Prices\n======\n\n{}\n\nA paragraph\nof two lines\n---\n\nRefunds\n-------\n\n{}",
            sentences_of_ten("p", 0, 3),
            sentences_of_ten("r", 0, 3)
        );
        let chunks = chunk(&text, &options(45, 0));
        assert_well_formed(&chunks, 45);
        assert_eq!(chunks[0].heading.as_deref(), Some("Prices"));
        assert!(chunks[0].content.starts_with("# Prices\n\n"));
        let last = chunks.last().expect("chunks");
        assert_eq!(last.heading.as_deref(), Some("Refunds"));
        assert!(last.content.starts_with("## Refunds\n\nr0"));
    }

    #[test]
    fn hashes_inside_code_fences_are_not_headings() {
        let text = "# Setup\n\n```\n# not a heading\n\nstill code\n```\n\nDone.";
        let chunks = chunk(text, &options(500, 0));
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].heading.as_deref(), Some("Setup"));
        assert!(
            chunks[0]
                .content
                .contains("```\n# not a heading\n\nstill code\n```")
        );
    }

    #[test]
    fn chunking_is_deterministic() {
        let text = format!(
            "# A\n\n{}\n\n## B\n\n{}",
            sentences_of_ten("a", 0, 17),
            sentences_of_ten("b", 0, 4)
        );
        assert_eq!(chunk(&text, &options(37, 9)), chunk(&text, &options(37, 9)));
    }

    /// A small deterministic generator, so the generated texts are the same on every run.
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % n
        }
    }

    /// A text of headings, paragraphs and sentences of varied lengths whose words are all
    /// distinct (`t<n>` for heading words, `w<n>` for body words).
    fn generated_text(seed: u64) -> String {
        let mut rng = Lcg(seed);
        let mut next_word = 0;
        let mut word = |prefix: &str| {
            next_word += 1;
            format!("{prefix}{next_word}")
        };
        let mut text = String::new();
        for _ in 0..1 + rng.below(8) {
            if rng.below(3) > 0 {
                let level = 1 + rng.below(3) as usize;
                let title: Vec<String> = (0..1 + rng.below(4)).map(|_| word("t")).collect();
                text.push_str(&format!("{} {}\n\n", "#".repeat(level), title.join(" ")));
            }
            for _ in 0..rng.below(6) {
                for _ in 0..1 + rng.below(8) {
                    let words: Vec<String> = (0..1 + rng.below(40)).map(|_| word("w")).collect();
                    let end = [".", "!", "?", ""][rng.below(4) as usize];
                    text.push_str(&format!("{}{end} ", words.join(" ")));
                }
                text.push_str(if rng.below(4) == 0 {
                    "\r\n\r\n"
                } else {
                    "\n\n"
                });
            }
        }
        text
    }

    #[test]
    fn every_word_of_generated_texts_appears_in_order() {
        for seed in 0..40 {
            let text = generated_text(seed);
            let opts = options(10 + (seed as usize * 7) % 90, (seed as usize * 3) % 30);
            let chunks = chunk(&text, &opts);
            assert_well_formed(&chunks, opts.max_words);

            // The first place each word appears, as (chunk, position).
            let mut first_seen = std::collections::HashMap::new();
            for (c, ch) in chunks.iter().enumerate() {
                for (p, w) in ch.content.split_whitespace().enumerate() {
                    let w = w.trim_end_matches(['.', '!', '?']);
                    first_seen.entry(w.to_owned()).or_insert((c, p));
                }
            }
            let mut last = (0, 0);
            for w in text.split_whitespace() {
                if w.starts_with('#') {
                    continue;
                }
                let w = w.trim_end_matches(['.', '!', '?']);
                let seen = *first_seen
                    .get(w)
                    .unwrap_or_else(|| panic!("seed {seed}: `{w}` is in no chunk"));
                assert!(seen >= last, "seed {seed}: `{w}` is out of order");
                last = seen;
            }
        }
    }
}
