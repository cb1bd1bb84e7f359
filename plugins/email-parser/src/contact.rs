//! Who the customer is: name and address from the `From` header (or a forwarded
//! message's), a name from the sign-off ("Kind regards,\nPriya"), and a phone number
//! normalised to digits with an optional leading `+`.

use crate::encoded_words;
use crate::tokens::{Kind, Tokens};

/// A mailbox: display name and address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mailbox {
    /// The display name, cleaned, when it names a person.
    pub name: Option<String>,
    /// The address, lower-cased.
    pub email: Option<String>,
}

/// Reads a `From` value: `Name <a@b>`, `"Name" <a@b>`, `a@b (Name)`, `Name [mailto:a@b]`,
/// `a@b`, with RFC 2047 encoded words decoded.
pub fn parse_mailbox(value: &str) -> Mailbox {
    let s = encoded_words::decode(value);
    let s = s.trim();
    let (name, email) = if let Some((before, after)) = s.rsplit_once('<') {
        let addr = after.split('>').next().unwrap_or("");
        (before, addr)
    } else if let Some((before, after)) = s.split_once("[mailto:") {
        (before, after.split(']').next().unwrap_or(""))
    } else if let Some((addr, after)) = s.split_once('(') {
        (after.trim_end_matches(')'), addr)
    } else if s.contains('@') {
        ("", s)
    } else {
        (s, "")
    };
    let email = email
        .trim()
        .trim_start_matches("mailto:")
        .trim()
        .to_lowercase();
    Mailbox {
        name: clean_name(name),
        email: (email.contains('@') && !email.contains(' ')).then_some(email),
    }
}

/// Words that make a display name a role or a system rather than a person.
const NOT_A_PERSON: &[&str] = &[
    "noreply",
    "no-reply",
    "donotreply",
    "info",
    "bookings",
    "booking",
    "reservations",
    "enquiries",
    "enquiry",
    "inquiries",
    "sales",
    "admin",
    "support",
    "team",
    "desk",
    "office",
    "website",
    "web",
    "form",
    "forms",
    "wordpress",
    "mailer",
    "daemon",
    "notification",
    "notifications",
    "service",
    "services",
    "customer",
    "postmaster",
    "bot",
    "system",
    "newsletter",
    "marketing",
    "reception",
    "accounts",
];

/// A display name as a person's name: quotes removed, "Last, First" turned round, all-caps
/// or all-lower-case names title-cased; `None` for addresses and role names.
pub fn clean_name(raw: &str) -> Option<String> {
    let s = raw.trim().trim_matches(['"', '\'', ' ']).trim();
    if s.is_empty() || s.contains('@') || s.len() > 80 || !s.chars().any(char::is_alphabetic) {
        return None;
    }
    let lower = s.to_lowercase();
    if lower
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .any(|w| NOT_A_PERSON.contains(&w))
    {
        return None;
    }
    let s = match s.split_once(',') {
        Some((last, first)) if !first.trim().is_empty() && !first.contains(',') => {
            format!("{} {}", first.trim(), last.trim())
        }
        _ => s.to_owned(),
    };
    let has_upper = s.chars().any(char::is_uppercase);
    let has_lower = s.chars().any(char::is_lowercase);
    let s = if has_upper && has_lower {
        s
    } else {
        title_case(&s)
    };
    Some(s.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn title_case(s: &str) -> String {
    s.split_whitespace()
        .map(|w| {
            let mut cs = w.chars();
            cs.next().map_or_else(String::new, |f| {
                f.to_uppercase()
                    .chain(cs.flat_map(char::to_lowercase))
                    .collect()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether an address belongs to a machine rather than a person.
pub fn is_automated_address(email: &str) -> bool {
    let local = email.split('@').next().unwrap_or("");
    [
        "noreply",
        "no-reply",
        "no_reply",
        "donotreply",
        "do-not-reply",
        "mailer-daemon",
        "postmaster",
        "bounce",
        "notifications",
        "notification",
        "wordpress",
        "forms",
        "webform",
        "website",
    ]
    .iter()
    .any(|p| local.contains(p))
}

/// A name guessed from an address such as `priya.naidoo@…` (two words), as a last resort.
pub fn name_from_address(email: &str) -> Option<String> {
    let local = email.split(['@', '+']).next()?;
    let parts: Vec<&str> = local.split(['.', '_']).collect();
    let word = |p: &&str| p.len() >= 2 && p.chars().all(|c| c.is_ascii_alphabetic());
    if parts.len() != 2 || !parts.iter().all(word) {
        return None;
    }
    clean_name(&title_case(&parts.join(" ")))
}

const CLOSINGS: &[&str] = &[
    "regards",
    "kind regards",
    "best regards",
    "warm regards",
    "warmest regards",
    "kindest regards",
    "many thanks",
    "thanks",
    "thank you",
    "thanks so much",
    "thank you very much",
    "thanks in advance",
    "thank you in advance",
    "cheers",
    "best",
    "best wishes",
    "all the best",
    "sincerely",
    "yours sincerely",
    "yours faithfully",
    "yours truly",
    "take care",
    "warmly",
    "with thanks",
    "rgds",
    "kind rgds",
    "groete",
    "mit freundlichen grüßen",
    "mit freundlichen grüssen",
    "viele grüße",
    "cordialement",
    "speak soon",
    "thanks again",
    "much appreciated",
    "with kind regards",
    "with best regards",
    "love",
];

fn closing(line: &str) -> Option<&str> {
    if line.len() > 80 {
        return None;
    }
    let l = line.trim().trim_end_matches([',', '.', '!', ' ', '-']);
    let lower = l.to_lowercase();
    if CLOSINGS.contains(&lower.as_str()) {
        return Some("");
    }
    // "Thanks, Priya" / "Regards - Priya"
    let (head, tail) = l.split_once([',', '-'])?;
    CLOSINGS
        .contains(&head.trim().to_lowercase().as_str())
        .then(|| tail.trim())
}

/// Particles allowed in lower case inside a name ("Anika van der Merwe").
const PARTICLES: &[&str] = &[
    "van", "der", "de", "du", "le", "la", "von", "da", "dos", "bin", "al", "del", "den", "ter",
];

/// Words that are never names though they are capitalised at a line start.
const NOT_NAMES: &[&str] = &[
    "hi",
    "hello",
    "dear",
    "thanks",
    "regards",
    "sent",
    "cell",
    "tel",
    "phone",
    "mobile",
    "email",
    "team",
    "please",
    "we",
    "i",
    "the",
    "our",
    "my",
    "ps",
    "p.s.",
    "kind",
    "best",
    "looking",
    "hope",
    "let",
    "can",
    "could",
    "would",
    "good",
    "morning",
    "evening",
    "afternoon",
];

/// Whether a line reads as a person's name: one to four capitalised words, no digits.
pub fn looks_like_name(line: &str) -> bool {
    let l = line.trim().trim_end_matches([',', '.']);
    if l.len() > 50 {
        return false;
    }
    let words: Vec<&str> = l.split_whitespace().collect();
    if words.is_empty() || words.len() > 4 {
        return false;
    }
    if NOT_NAMES.contains(&words[0].to_lowercase().as_str()) {
        return false;
    }
    words.iter().enumerate().all(|(n, w)| {
        let valid_chars = w
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, '-' | '\'' | '.'));
        let capital = w.chars().next().is_some_and(char::is_uppercase);
        valid_chars && (capital || n > 0 && PARTICLES.contains(w))
    })
}

/// The name under the sign-off: the line after "Kind regards," (or on it, "Thanks,
/// Priya"), or a name-like line at the very end followed only by contact details.
pub fn signoff_name(text: &str) -> Option<String> {
    // Only the last lines hold a sign-off; looking further risks a greeting line.
    let mut lines: Vec<&str> = text
        .lines()
        .rev()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(8)
        .collect();
    lines.reverse();
    let from = 0;
    for i in (from..lines.len()).rev() {
        if let Some(tail) = closing(lines[i]) {
            if !tail.is_empty() {
                return looks_like_name(tail).then(|| tail.trim_end_matches([',', '.']).to_owned());
            }
            return lines
                .get(i + 1)
                .filter(|l| looks_like_name(l))
                .map(|l| l.trim_end_matches([',', '.']).to_owned());
        }
    }
    // No closing: a name on one of the last lines, with only contact details after it.
    for i in (from..lines.len()).rev() {
        let l = lines[i];
        if looks_like_name(l) && closing(l).is_none() {
            return Some(l.trim_end_matches([',', '.']).to_owned());
        }
        if !contact_line(l) {
            return None;
        }
    }
    None
}

/// A sign-off written in lower case ("thabo") is taken only when it is the address's own
/// name (`thabo@…`, `thabo.m@…`): then it is certainly the sender's, and is capitalised.
pub fn signoff_matching_address(text: &str, email: &str) -> Option<String> {
    let local = email.split('@').next()?.to_lowercase();
    let parts: Vec<&str> = local
        .split(['.', '_', '-', '+'])
        .filter(|p| p.len() >= 2)
        .collect();
    for line in text
        .lines()
        .rev()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(4)
    {
        let l = line.trim_end_matches([',', '.', '!']);
        if l.len() <= 30
            && l.chars().all(char::is_alphabetic)
            && parts.contains(&l.to_lowercase().as_str())
        {
            return Some(title_case(l));
        }
        if !contact_line(line) {
            return None;
        }
    }
    None
}

/// A line of contact details (a phone, an address, a URL) rather than prose.
fn contact_line(line: &str) -> bool {
    if line.len() > 200 {
        return false;
    }
    let digits = line.chars().filter(char::is_ascii_digit).count();
    line.contains('@') || line.contains("www.") || line.contains("http") || digits >= 7
}

/// A web form's "Label: value" line, e.g. `Name: Priya Naidoo`.
pub fn labelled_value<'a>(text: &'a str, labels: &[&str]) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        let key = key.trim().trim_matches('*').trim().to_lowercase();
        labels
            .contains(&key.as_str())
            .then(|| value.trim())
            .filter(|v| !v.is_empty())
    })
}

const PHONE_LABELS: &[&str] = &[
    "tel",
    "telephone",
    "phone",
    "ph",
    "cell",
    "cellphone",
    "mobile",
    "mob",
    "whatsapp",
    "call",
    "contact",
    "number",
    "m",
    "t",
    "c",
    "landline",
    "cel",
    "nr",
    "no",
];
const NOT_PHONE_LABELS: &[&str] = &[
    "fax",
    "ref",
    "reference",
    "booking",
    "account",
    "acc",
    "invoice",
    "order",
    "passport",
    "id",
    "vat",
    "reg",
    "quote",
    "iban",
    "swift",
    "policy",
];

/// Reads a phone number at token `i`; returns its normalised form and whether a label
/// ("Cell:", "Tel") stands before it.
fn phone_at(t: &Tokens, i: usize) -> Result<(String, bool, usize), usize> {
    let mut k = i;
    let plus = t.is_sym(k, '+');
    if plus {
        k += 1;
        if !t.glued(k) || t.num(k).is_none() {
            return Err(k);
        }
    }
    let mut digits = String::new();
    let mut first_in_parens = false;
    let mut groups = 0;
    let limit = i + 16;
    while k < limit {
        if k > i && t.line_start(k) {
            break;
        }
        if t.num(k).is_some() {
            // Space-separated groups have two digits or more, except the one after a
            // country code ("+33 6 12 34 56 78").
            let single_ok = plus && groups == 1;
            if groups > 0
                && !t.glued(k)
                && t.kind(k - 1) == Some(Kind::Num)
                && t.digits(k) < 2
                && !single_ok
            {
                break;
            }
            digits.push_str(t.raw(k));
            groups += 1;
            k += 1;
            if digits.len() > 16 {
                return Err(k);
            }
            continue;
        }
        match t.sym(k) {
            // "+27 (0)82 …": the trunk zero is dropped after a country code.
            Some('(') if plus && groups == 1 && t.raw(k + 1) == "0" && t.is_sym(k + 2, ')') => {
                k += 3;
            }
            Some('(') if t.num(k + 1).is_some() && t.is_sym(k + 2, ')') => {
                if groups == 0 {
                    first_in_parens = true;
                }
                k += 1;
            }
            Some(')') if groups > 0 && t.num(k + 1).is_some() => k += 1,
            Some('-' | '.') if groups > 0 && t.num(k + 1).is_some() && t.glued(k + 1) => k += 1,
            Some('-') if groups > 0 && t.num(k + 1).is_some() => k += 1,
            _ => break,
        }
    }
    if groups == 0 {
        return Err(k);
    }
    // Letters or a percent sign glued after: a code or a figure, not a phone.
    if t.glued(k) && (t.word(k).is_some() || t.is_sym(k, '%') || t.is_sym(k, '/')) {
        return Err(k);
    }
    let start = if first_in_parens {
        i.saturating_sub(1)
    } else {
        i
    };
    let label = label_before(t, start).ok_or(k)?;
    let n = digits.len();
    let normalised = if plus {
        (8..=15).contains(&n).then(|| format!("+{digits}"))
    } else if let Some(rest) = digits.strip_prefix("00") {
        (8..=15).contains(&rest.len()).then(|| format!("+{rest}"))
    } else if digits.starts_with('0') {
        (9..=11).contains(&n).then(|| digits.clone())
    } else if label || first_in_parens {
        (7..=12).contains(&n).then(|| digits.clone())
    } else {
        None
    }
    .ok_or(k)?;
    Ok((normalised, label, k))
}

/// `Some(true)` when a phone label stands just before token `i` on its line,
/// `Some(false)` when nothing does, `None` when the number is labelled as something else
/// (a fax, a reference) or follows a currency.
fn label_before(t: &Tokens, i: usize) -> Option<bool> {
    if i >= 1
        && t.glued(i)
        && (t.word(i - 1).is_some() || t.is_sym(i - 1, '-') || t.is_sym(i - 1, '#'))
    {
        return None;
    }
    if i >= 1 && (t.raw(i - 1) == "R" || matches!(t.sym(i - 1), Some('$' | '€' | '£'))) {
        return None;
    }
    let lo = i.saturating_sub(4);
    let mut k = i;
    while k > lo {
        if t.line_start(k) && k != i {
            break;
        }
        k -= 1;
        if let Some(w) = t.word(k) {
            if NOT_PHONE_LABELS.contains(&w) {
                return None;
            }
            if PHONE_LABELS.contains(&w) {
                return Some(true);
            }
            if w.len() > 3 && t.line_start(k) {
                break;
            }
        }
        if t.line_start(k) {
            break;
        }
    }
    Some(false)
}

/// The customer's phone in tokens `from..to`: the first labelled one, else the first.
pub fn find_phone(t: &Tokens, from: usize, to: usize) -> Option<String> {
    let mut first = None;
    let mut i = from;
    while i < to.min(t.len()) {
        if t.num(i).is_some() || t.is_sym(i, '+') || t.is_sym(i, '(') {
            let at = if t.is_sym(i, '(') { i + 1 } else { i };
            match phone_at(t, at) {
                Ok((phone, labelled, end)) => {
                    if labelled {
                        return Some(phone);
                    }
                    first.get_or_insert(phone);
                    i = end;
                    continue;
                }
                // The run read is no phone; none starts inside it either (bounded work).
                Err(end) => {
                    i = end.max(i + 1);
                    continue;
                }
            }
        }
        i += 1;
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(text: &str) -> Option<String> {
        let t = Tokens::new(text);
        find_phone(&t, 0, t.len())
    }

    #[test]
    fn mailboxes_in_every_form_are_read() {
        let m = parse_mailbox("Priya Naidoo <Priya.Naidoo@Example.net>");
        assert_eq!(m.name.as_deref(), Some("Priya Naidoo"));
        assert_eq!(m.email.as_deref(), Some("priya.naidoo@example.net"));
        assert_eq!(
            parse_mailbox("\"Lerato Dube\" <lerato@example.com>")
                .name
                .as_deref(),
            Some("Lerato Dube")
        );
        assert_eq!(
            parse_mailbox("mark@example.org"),
            Mailbox {
                name: None,
                email: Some("mark@example.org".into())
            }
        );
        assert_eq!(
            parse_mailbox("sam@example.com (Sam Okafor)")
                .name
                .as_deref(),
            Some("Sam Okafor")
        );
        assert_eq!(
            parse_mailbox("Sam Okafor [mailto:sam@example.com]")
                .email
                .as_deref(),
            Some("sam@example.com")
        );
        assert_eq!(
            parse_mailbox("=?iso-8859-1?q?Jos=E9_M=FCller?= <jose.mueller@example.de>")
                .name
                .as_deref(),
            Some("José Müller")
        );
    }

    #[test]
    fn display_names_are_cleaned() {
        assert_eq!(
            clean_name("Odendaal, Mark").as_deref(),
            Some("Mark Odendaal")
        );
        assert_eq!(clean_name("PRIYA NAIDOO").as_deref(), Some("Priya Naidoo"));
        assert_eq!(clean_name("Consultant Desk"), None);
        assert_eq!(clean_name("Noreply Bot"), None);
        assert_eq!(clean_name("priya@example.net"), None);
    }

    #[test]
    fn sign_offs_give_the_name() {
        assert_eq!(
            signoff_name("Hi\nWe want Zanzibar.\n\nRegards\nMark Odendaal").as_deref(),
            Some("Mark Odendaal")
        );
        assert_eq!(
            signoff_name("Hi\n\nKind regards,\nAnika van der Merwe").as_deref(),
            Some("Anika van der Merwe")
        );
        assert_eq!(
            signoff_name("Zanzibar please.\nThanks, Priya").as_deref(),
            Some("Priya")
        );
        assert_eq!(
            signoff_name("Trip for two.\nCell: +27 71 234 5678\nLerato").as_deref(),
            Some("Lerato")
        );
        assert_eq!(
            signoff_name("Trip for two.\nSam Okafor\n+234 803 555 0199").as_deref(),
            Some("Sam Okafor")
        );
        assert_eq!(
            signoff_name("We would like Zanzibar in March please."),
            None
        );
        assert_eq!(signoff_name("Thanks!"), None);
        assert_eq!(
            signoff_matching_address("quote pls\nthabo\n0611234567", "thabo@example.co.za")
                .as_deref(),
            Some("Thabo")
        );
        assert_eq!(
            signoff_matching_address("quote pls\nzanzibar", "thabo@example.co.za"),
            None
        );
    }

    #[test]
    fn names_can_come_from_addresses() {
        assert_eq!(
            name_from_address("mark.odendaal@example.org").as_deref(),
            Some("Mark Odendaal")
        );
        assert_eq!(name_from_address("info.desk@example.org"), None);
        assert_eq!(name_from_address("mark@example.org"), None);
    }

    #[test]
    fn phones_are_normalised_to_digits() {
        assert_eq!(
            phone("Thanks,\nPriya Naidoo\n082 555 0147").as_deref(),
            Some("0825550147")
        );
        assert_eq!(
            phone("Cell: +27 71 234 5678").as_deref(),
            Some("+27712345678")
        );
        assert_eq!(phone("Tel (021) 555-1234").as_deref(), Some("0215551234"));
        assert_eq!(
            phone("+234 803 555 0199").as_deref(),
            Some("+2348035550199")
        );
        assert_eq!(
            phone("call +27 (0)82 555 0147").as_deref(),
            Some("+27825550147")
        );
        assert_eq!(phone("0027 82 555 0147").as_deref(), Some("+27825550147"));
        assert_eq!(phone("+44 20 7946 0958").as_deref(), Some("+442079460958"));
        assert_eq!(phone("082-555-0147").as_deref(), Some("0825550147"));
        assert_eq!(phone("+33 6 12 34 56 78").as_deref(), Some("+33612345678"));
    }

    #[test]
    fn labelled_phones_win_and_other_numbers_are_not_phones() {
        assert_eq!(
            phone("Fax 011 555 0000\nMobile: 083 123 4567").as_deref(),
            Some("0831234567")
        );
        assert_eq!(
            phone("from 2027-07-10 to 2027-07-17, R60 000, 10.06.2027 - 20.06.2027"),
            None
        );
        assert_eq!(phone("Ref QT-20261101-A1B2C3 and booking 0123456789"), None);
        assert_eq!(phone("budget 15 000 per person for 2 adults"), None);
    }
}
