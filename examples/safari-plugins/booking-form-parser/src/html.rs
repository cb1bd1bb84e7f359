//! Just enough HTML to text for form emails sent as HTML only: block tags and table rows
//! become line breaks, cells a space, entities are decoded, styles and scripts dropped.

/// The text of `html`, one block per line.
pub fn to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len() / 2);
    let mut rest = html;
    let mut skip_until: Option<&str> = None;
    while let Some(open) = rest.find('<') {
        if skip_until.is_none() {
            text.push_str(&decode(&rest[..open]));
        }
        let Some(close) = rest[open..].find('>') else {
            rest = &rest[open..];
            break;
        };
        let tag = rest[open + 1..open + close].trim().to_ascii_lowercase();
        rest = &rest[open + close + 1..];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        if let Some(end) = skip_until {
            if tag.starts_with('/') && name == end {
                skip_until = None;
            }
            continue;
        }
        match name.as_str() {
            "style" | "script" | "head" if !tag.starts_with('/') => {
                skip_until = Some(match name.as_str() {
                    "style" => "style",
                    "script" => "script",
                    _ => "head",
                });
            }
            "br" | "p" | "div" | "tr" | "li" | "table" | "h1" | "h2" | "h3" | "h4" | "h5"
            | "h6" => text.push('\n'),
            "td" | "th" if tag.starts_with('/') => text.push(' '),
            _ => {}
        }
    }
    if skip_until.is_none() {
        text.push_str(&decode(rest));
    }
    text
}

/// Decodes the entities a form mailer writes: named basics and numeric references.
fn decode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let entity = rest[1..]
            .find(';')
            .filter(|&end| end <= 10)
            .map(|end| &rest[1..=end]);
        let decoded = entity.and_then(|e| match e {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            _ => {
                let number = e.strip_prefix('#')?;
                let code = match number.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => number.parse().ok()?,
                };
                char::from_u32(code)
            }
        });
        match (entity, decoded) {
            (Some(e), Some(c)) => {
                out.push(c);
                rest = &rest[e.len() + 2..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_and_breaks_become_lines() {
        assert_eq!(
            to_text("<p>Name: Amina</p><p>Adults: 2<br/>Notes: hi</p>"),
            "\nName: Amina\n\nAdults: 2\nNotes: hi\n"
        );
    }

    #[test]
    fn table_cells_of_a_row_share_a_line() {
        let html = "<table><tr><th>Name:</th><td>Amina</td></tr>\
                    <tr><td>Adults:</td><td>2</td></tr></table>";
        let text = to_text(html);
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(lines, ["Name: Amina", "Adults: 2"]);
    }

    #[test]
    fn entities_are_decoded_and_unknown_ones_left_alone() {
        assert_eq!(
            to_text("Notes: B&amp;B &#8211; &#x41;&nbsp;&unknown; & more"),
            "Notes: B&B \u{2013} A &unknown; & more"
        );
    }

    #[test]
    fn styles_and_scripts_are_not_text() {
        assert_eq!(
            to_text("<head><title>x</title></head><style>p{}</style>Name: A<script>x()</script>"),
            "Name: A"
        );
    }
}
