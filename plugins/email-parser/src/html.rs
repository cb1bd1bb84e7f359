//! HTML to plain text for HTML-only mail: block elements become line breaks, table cells
//! are separated by spaces, `<blockquote>` lines are marked `> ` like a quoted reply, and
//! scripts, styles and comments disappear. One forward pass, no DOM.

/// Converts `html` to text, stopping once the text reaches `max` bytes.
pub fn to_text(html: &str, max: usize) -> String {
    let bytes = html.as_bytes();
    let mut out = Text::with_capacity((html.len() / 2).min(max.saturating_add(64)));
    let mut p = 0;
    while p < bytes.len() && out.buf.len() < max {
        let b = bytes[p];
        if b == b'<' {
            p = tag(html, p, &mut out);
            continue;
        }
        if b == b'&' {
            p = entity(html, p, &mut out);
            continue;
        }
        // Copy a run of plain text at once.
        let run_end = bytes[p..]
            .iter()
            .position(|&c| c == b'<' || c == b'&')
            .map_or(bytes.len(), |k| p + k);
        out.push_text(&html[p..run_end]);
        p = run_end;
    }
    out.finish()
}

/// The text being built: collapses white space as a browser does and prefixes quoted
/// lines.
struct Text {
    buf: String,
    quote_depth: usize,
    line_start: bool,
    pending_space: bool,
    pre: usize,
    no_gt_after: Option<usize>,
}

impl Text {
    fn with_capacity(n: usize) -> Self {
        Self {
            buf: String::with_capacity(n),
            quote_depth: 0,
            line_start: true,
            pending_space: false,
            pre: 0,
            no_gt_after: None,
        }
    }

    fn push_text(&mut self, s: &str) {
        // Runs of visible ASCII are copied whole; white space and other characters one by one.
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let start = i;
            while i < bytes.len() && bytes[i] > b' ' && bytes[i] < 0x80 {
                i += 1;
            }
            if i > start {
                let first = s[start..].chars().next().unwrap_or(' ');
                self.push_char(first);
                self.buf.push_str(&s[start + 1..i]);
                continue;
            }
            let c = s[i..].chars().next().unwrap_or(' ');
            i += c.len_utf8();
            self.push_one(c);
        }
    }

    fn push_one(&mut self, c: char) {
        if self.pre > 0 && c == '\n' {
            self.newline();
        } else if c.is_whitespace() && c != '\u{a0}' {
            self.pending_space = true;
        } else {
            self.push_char(c);
        }
    }

    fn push_char(&mut self, c: char) {
        if self.line_start {
            for _ in 0..self.quote_depth {
                self.buf.push('>');
            }
            if self.quote_depth > 0 {
                self.buf.push(' ');
            }
            self.line_start = false;
            self.pending_space = false;
        } else if self.pending_space {
            self.buf.push(' ');
            self.pending_space = false;
        }
        self.buf.push(c);
    }

    /// Ends the line (`<br>`, `<tr>`, `<li>`); several in a row make one break.
    fn newline(&mut self) {
        if !self.buf.is_empty() && !self.buf.ends_with('\n') {
            self.buf.push('\n');
        }
        self.line_start = true;
        self.pending_space = false;
    }

    /// Ends the paragraph (`<p>`, `<div>`, `<table>`) with an empty line, so that the
    /// extractors see where sentences without punctuation end.
    fn paragraph(&mut self) {
        self.newline();
        if !self.buf.is_empty() && !self.buf.ends_with("\n\n") {
            self.buf.push('\n');
        }
    }

    fn space(&mut self) {
        if !self.line_start {
            self.pending_space = true;
        }
    }

    fn finish(mut self) -> String {
        let len = self.buf.trim_end().len();
        self.buf.truncate(len);
        self.buf
    }
}

/// Handles the tag at `p` (`<`); returns the index after it.
fn tag(html: &str, p: usize, out: &mut Text) -> usize {
    let bytes = html.as_bytes();
    if html[p..].starts_with("<!--") {
        return html[p + 4..]
            .find("-->")
            .map_or(bytes.len(), |k| p + 4 + k + 3);
    }
    if out.no_gt_after.is_some_and(|n| p >= n) {
        out.push_char('<');
        return p + 1;
    }
    let end = tag_end(bytes, p);
    if end == bytes.len() && bytes.last() != Some(&b'>') {
        // No tag closes after here: remember it, so later "<" are not scanned again.
        out.no_gt_after = Some(p);
        out.push_char('<');
        return p + 1;
    }
    let inner = &html[p + 1..end.saturating_sub(1).max(p + 1)];
    let closing = inner.starts_with('/');
    // The element name, lower-cased into a small buffer (no allocation per tag).
    let mut buf = [0u8; 12];
    let mut len = 0;
    for b in inner.trim_start_matches('/').bytes() {
        if !b.is_ascii_alphanumeric() {
            break;
        }
        if len == buf.len() {
            len = 0; // longer than any element we know
            break;
        }
        buf[len] = b.to_ascii_lowercase();
        len += 1;
    }
    let name = std::str::from_utf8(&buf[..len]).unwrap_or("");
    if name.is_empty() {
        // A stray "<" in text.
        if !inner.starts_with('!') && !inner.starts_with('?') && !closing {
            out.push_char('<');
            return p + 1;
        }
        return end;
    }
    if !closing && skipped(name) {
        // Skip to the matching close tag, case-insensitively, without lower-casing the rest.
        let close = format!("</{name}");
        return find_ascii_ci(html, end, &close).map_or(bytes.len(), |k| tag_end(bytes, k));
    }
    match name {
        "blockquote" => {
            out.paragraph();
            if closing {
                out.quote_depth = out.quote_depth.saturating_sub(1);
            } else {
                out.quote_depth += 1;
            }
        }
        "pre" => {
            out.newline();
            out.pre = if closing {
                out.pre.saturating_sub(1)
            } else {
                out.pre + 1
            };
        }
        "td" | "th" => out.space(),
        "img" => {
            if let Some(alt) = attribute(inner, "alt").filter(|a| !a.trim().is_empty()) {
                out.space();
                out.push_text(alt);
                out.space();
            }
        }
        n => match layout(n) {
            Layout::Line => out.newline(),
            Layout::Paragraph => out.paragraph(),
            Layout::Inline => {}
        },
    }
    end
}

/// How an element affects line breaks.
enum Layout {
    Line,
    Paragraph,
    Inline,
}

/// The layout of an element, by its (lower-case) name. Byte patterns compile to a
/// decision tree on length and letters, so common inline tags cost a few comparisons.
fn layout(name: &str) -> Layout {
    match name.as_bytes() {
        b"br" | b"tr" | b"li" | b"dd" | b"dt" | b"tbody" | b"thead" | b"option" => Layout::Line,
        b"p" | b"div" | b"ul" | b"ol" | b"h1" | b"h2" | b"h3" | b"h4" | b"h5" | b"h6"
        | b"table" | b"hr" | b"section" | b"article" | b"header" | b"footer" | b"center"
        | b"address" | b"title" | b"form" => Layout::Paragraph,
        _ => Layout::Inline,
    }
}

/// Whether an element's content is never text for the reader.
fn skipped(name: &str) -> bool {
    matches!(
        name.as_bytes(),
        b"script" | b"style" | b"head" | b"noscript" | b"template" | b"svg" | b"xml"
    )
}

/// The index after the `>` closing the tag at `p`, skipping quoted attribute values.
///
/// Quotes are honoured for 8 kB only and then a plain search takes over, so that a stray
/// quote cannot make every later tag scan to the end of the message.
fn tag_end(bytes: &[u8], p: usize) -> usize {
    let limit = (p + 8192).min(bytes.len());
    let mut q = p + 1;
    let mut quote = 0u8;
    while q < limit {
        let c = bytes[q];
        if quote != 0 {
            if c == quote {
                quote = 0;
            }
        } else if c == b'"' || c == b'\'' {
            // Only inside attributes: `<p>it's</p>` is closed by its own `>`.
            if q > p + 1 && bytes[q - 1] == b'=' {
                quote = c;
            }
        } else if c == b'>' {
            return q + 1;
        }
        q += 1;
    }
    if limit == bytes.len() && quote == 0 {
        return bytes.len();
    }
    bytes[p + 1..]
        .iter()
        .position(|&c| c == b'>')
        .map_or(bytes.len(), |k| p + 1 + k + 1)
}

/// The value of attribute `name` in a tag's inside.
fn attribute<'a>(inner: &'a str, name: &str) -> Option<&'a str> {
    let at = find_ascii_ci(inner, 0, &format!("{name}="))?;
    let rest = &inner[at + name.len() + 1..];
    let quote = rest.chars().next()?;
    if quote == '"' || quote == '\'' {
        let body = &rest[1..];
        Some(&body[..body.find(quote)?])
    } else {
        Some(rest.split_whitespace().next().unwrap_or(""))
    }
}

/// The byte index of `needle` (ASCII) in `hay` at or after `from`, ignoring ASCII case.
fn find_ascii_ci(hay: &str, from: usize, needle: &str) -> Option<usize> {
    let h = hay.as_bytes();
    let n = needle.as_bytes();
    let first = n.first()?.to_ascii_lowercase();
    let mut i = from;
    while i + n.len() <= h.len() {
        if h[i].to_ascii_lowercase() == first && h[i..i + n.len()].eq_ignore_ascii_case(n) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Decodes the entity at `p` (`&`); returns the index after it.
fn entity(html: &str, p: usize, out: &mut Text) -> usize {
    let rest = &html[p + 1..];
    let semi = rest.bytes().take(10).position(|b| b == b';');
    let Some(semi) = semi else {
        out.push_char('&');
        return p + 1;
    };
    let name = &rest[..semi];
    let c = if let Some(num) = name.strip_prefix('#') {
        let code = if let Some(hex) = num.strip_prefix('x').or_else(|| num.strip_prefix('X')) {
            u32::from_str_radix(hex, 16).ok()
        } else {
            num.parse().ok()
        };
        code.and_then(char::from_u32)
    } else {
        named_entity(name)
    };
    match c {
        Some(' ' | '\u{a0}') => {
            out.space();
            p + 2 + semi
        }
        Some(c) => {
            out.push_char(c);
            p + 2 + semi
        }
        None => {
            out.push_char('&');
            p + 1
        }
    }
}

fn named_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" | "ensp" | "emsp" | "thinsp" => ' ',
        "euro" => '€',
        "pound" => '£',
        "yen" => '¥',
        "cent" => '¢',
        "ndash" => '–',
        "mdash" => '—',
        "lsquo" | "rsquo" => '\'',
        "ldquo" | "rdquo" => '"',
        "hellip" => '…',
        "bull" | "middot" => '·',
        "times" => '×',
        "eacute" => 'é',
        "egrave" => 'è',
        "ecirc" => 'ê',
        "euml" => 'ë',
        "aacute" => 'á',
        "agrave" => 'à',
        "acirc" => 'â',
        "auml" => 'ä',
        "ouml" => 'ö',
        "oacute" => 'ó',
        "uuml" => 'ü',
        "uacute" => 'ú',
        "iacute" => 'í',
        "iuml" => 'ï',
        "ccedil" => 'ç',
        "ntilde" => 'ñ',
        "szlig" => 'ß',
        "zwnj" | "zwj" | "shy" => '\u{200b}',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_and_table_rows_become_lines() {
        let html = "<html><body><p>Hi,</p><p>We are looking at <b>Kruger National Park</b> from <b>2027-07-10</b>.</p><table><tr><td>Adults</td><td>2</td></tr><tr><td>Infant</td><td>1 (11 months)</td></tr></table><p>Kind regards,<br>Anika Visser</p></body></html>";
        assert_eq!(
            to_text(html, usize::MAX),
            "Hi,\n\nWe are looking at Kruger National Park from 2027-07-10.\n\nAdults 2\nInfant 1 (11 months)\n\nKind regards,\nAnika Visser"
        );
    }

    #[test]
    fn scripts_styles_and_comments_are_dropped() {
        let html = "<head><style>p{color:red}</style></head><!-- hidden --><p>Visible</p><SCRIPT>var a='<p>';</SCRIPT>";
        assert_eq!(to_text(html, usize::MAX), "Visible");
    }

    #[test]
    fn entities_are_decoded() {
        assert_eq!(
            to_text("R&nbsp;60&#160;000 &amp; &euro;5k &#x2013; caf&eacute;", 99),
            "R 60 000 & €5k – café"
        );
        assert_eq!(to_text("a & b", 99), "a & b");
    }

    #[test]
    fn blockquotes_are_marked_as_quoted_lines() {
        let html = "<div>Yes please</div><blockquote><div>On Mon, X wrote:</div><div>Old text</div></blockquote>";
        assert_eq!(
            to_text(html, usize::MAX),
            "Yes please\n\n> On Mon, X wrote:\n\n> Old text"
        );
    }

    #[test]
    fn attribute_values_may_contain_angle_brackets() {
        assert_eq!(
            to_text("<a title=\"a > b\" href='x'>link</a> it's <i>fine</i>", 99),
            "link it's fine"
        );
    }
}
