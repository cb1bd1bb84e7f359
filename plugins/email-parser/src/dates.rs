//! Travel dates and lengths of stay: "12–19 March 2027", "March 12-19", "14/02/2027",
//! "2027-07-10", "7 nights from 5 January", "check in 3 April, check out 13 April".
//!
//! Dates are read in one left-to-right pass over the tokens into "atoms" (a day and a
//! month, maybe a year); a second pass pairs atoms into stays, using range words ("to",
//! "-", "until") and labels ("check in", "arriving", "departing"). A date without a year is
//! the next such date on or after the email's date.

use crate::civil::{Date, days_in_month};
use crate::lexicon::{FLEXIBLE, MONTH, MONTH_QUALIFIER, ORDINAL, STAY_UNIT};
use crate::numbers::{count_before, is_ordinal_suffix, ordinal_word};
use crate::tokens::Tokens;

/// How to read an all-numeric date such as `04/05/2027` when both readings are valid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DateOrder {
    /// Day first (`04/05` is 4 May): South Africa, Britain, most of the world.
    #[default]
    DayFirst,
    /// Month first (`04/05` is 5 April): the United States.
    MonthFirst,
}

/// What the email says about when and how long.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stay {
    /// First night.
    pub check_in: Option<Date>,
    /// Departure day, after `check_in`.
    pub check_out: Option<Date>,
    /// Nights, stated or derived.
    pub nights: Option<u32>,
    /// The customer says the dates can move.
    pub flexible: bool,
    /// A month without a day ("mid-August 2027"), as written, when no exact date was found.
    pub month_only: Option<String>,
    /// The stay was given in days ("10 days"), which was read as one night fewer.
    pub nights_from_days: bool,
}

/// A day and month, with the year when written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Partial {
    day: u32,
    month: u32,
    year: Option<i32>,
}

/// A date as written, and the tokens it covers (`start..end`).
#[derive(Clone, Copy, Debug)]
struct Atom {
    date: Partial,
    start: usize,
    end: usize,
    /// Written month first ("March 12"), so a bare day may follow it ("March 12-19").
    month_first: bool,
}

/// A pair of dates written as a range.
#[derive(Clone, Copy, Debug)]
struct Range {
    from: Partial,
    to: Partial,
}

/// Which end of a stay a label puts a date at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Label {
    In,
    Out,
}

pub(crate) const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Abbreviated month names [`month_word`] reads.
pub(crate) const MONTH_ABBREVIATIONS: &[&str] = &[
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
];

/// Words before a month that make it approximate ("mid-August").
pub(crate) const QUALIFIERS: &[&str] = &[
    "early",
    "mid",
    "middle",
    "late",
    "end",
    "beginning",
    "start",
];

/// Units of a stay's length.
pub(crate) const STAY_UNITS: &[&str] = &[
    "night",
    "nights",
    "nts",
    "nite",
    "nites",
    "nighter",
    "week",
    "weeks",
    "wk",
    "wks",
    "fortnight",
    "day",
    "days",
];

/// First words of flexible-date wording.
pub(crate) const FLEXIBLE_STARTS: &[&str] =
    &["flexible", "flexibility", "flexi", "flex", "give", "plus"];

/// The month (1–12) a word names: full names and the usual abbreviations.
pub fn month_word(w: &str) -> Option<u32> {
    if let Some(i) = MONTHS.iter().position(|m| *m == w) {
        return Some(i as u32 + 1);
    }
    let m = match w {
        "jan" => 1,
        "feb" => 2,
        "mar" => 3,
        "apr" => 4,
        "jun" => 6,
        "jul" => 7,
        "aug" => 8,
        "sep" | "sept" => 9,
        "oct" => 10,
        "nov" => 11,
        "dec" => 12,
        _ => return None,
    };
    Some(m)
}

/// Words that, right after a number, show it counts something rather than being a day.
pub(crate) const COUNTED: &[&str] = &[
    "adult", "adults", "night", "nights", "nts", "day", "days", "week", "weeks", "people",
    "persons", "person", "pax", "guests", "kids", "kid", "children", "child", "of", "year",
    "years", "yrs", "yr", "month", "months", "rooms", "room", "infant", "infants", "baby",
    "babies", "x", "pm", "am", "h", "hrs", "hours", "star", "stars", "percent", "k",
];

/// Reads a month name at `i` (with an optional "." after an abbreviation).
fn month_at(t: &Tokens, i: usize) -> Option<(u32, usize)> {
    if !t.has(i, MONTH) {
        return None;
    }
    let m = t.word(i).and_then(month_word)?;
    let next = if t.is_sym(i + 1, '.') && t.glued(i + 1) && t.word(i).is_some_and(|w| w.len() <= 4)
    {
        i + 2
    } else {
        i + 1
    };
    Some((m, next))
}

/// Reads a day of the month at `i`: `12`, `12th`, `twelfth`.
fn day_at(t: &Tokens, i: usize) -> Option<(u32, usize)> {
    if let Some(v) = t.num(i) {
        if t.digits(i) > 2 || !(1..=31).contains(&v) {
            return None;
        }
        let day = u32::try_from(v).ok()?;
        if t.glued(i + 1) && t.word(i + 1).is_some_and(is_ordinal_suffix) {
            return Some((day, i + 2));
        }
        // A number glued to letters ("12k") or to digits ("12:30") is not a day.
        if t.glued(i + 1) && (t.word(i + 1).is_some() || t.is_sym(i + 1, ':')) {
            return None;
        }
        return Some((day, i + 1));
    }
    if !t.has(i, ORDINAL) {
        return None;
    }
    let w = t.word(i)?;
    if let Some(d) = ordinal_word(w) {
        return Some((d, i + 1));
    }
    if matches!(w, "twenty" | "thirty") {
        let j = if t.is_sym(i + 1, '-') { i + 2 } else { i + 1 };
        let unit = t
            .word(j)
            .and_then(ordinal_word)
            .filter(|u| (1..10).contains(u))?;
        let tens = if w == "twenty" { 20 } else { 30 };
        return Some((tens + unit, j + 1)).filter(|(d, _)| *d <= 31);
    }
    None
}

/// Reads a year at `i`, optionally after a comma: four digits, 1900–2199.
fn year_at(t: &Tokens, i: usize) -> Option<(i32, usize)> {
    let j = if t.is_sym(i, ',') { i + 1 } else { i };
    if t.digits(j) != 4 || t.line_start(j) {
        return None;
    }
    let y = i32::try_from(t.num(j)?).ok()?;
    (1900..=2199).contains(&y).then_some((y, j + 1))
}

/// An all-numeric date at `i`: `2027-07-10`, `14/02/2027`, `10.06.2027`, `14/02/27`.
fn numeric_at(t: &Tokens, i: usize, order: DateOrder) -> Option<Atom> {
    let sep = t.sym(i + 1)?;
    if !(matches!(sep, '/' | '.' | '-') && t.glued(i + 1) && t.glued(i + 2)) {
        return None;
    }
    if !(t.is_sym(i + 3, sep) && t.glued(i + 3) && t.glued(i + 4)) {
        return None;
    }
    let (a, b, c) = (t.num(i)?, t.num(i + 2)?, t.num(i + 4)?);
    // A fourth group ("1.2.3.4", "082-555-0147-1") is not a date.
    if t.glued(i + 5) && (t.is_sym(i + 5, sep) || t.num(i + 5).is_some()) {
        return None;
    }
    let small = |v: u64| u32::try_from(v).ok();
    let date = if t.digits(i) == 4 {
        if t.digits(i + 2) > 2 || t.digits(i + 4) > 2 {
            return None;
        }
        let year = i32::try_from(a).ok()?;
        Partial {
            day: small(c)?,
            month: small(b)?,
            year: Some(year),
        }
    } else {
        if t.digits(i) > 2 || t.digits(i + 2) > 2 {
            return None;
        }
        let year = match t.digits(i + 4) {
            4 => i32::try_from(c).ok()?,
            2 => 2000 + i32::try_from(c).ok()?,
            _ => return None,
        };
        let (x, y) = (small(a)?, small(b)?);
        let day_first = Partial {
            day: x,
            month: y,
            year: Some(year),
        };
        let month_first = Partial {
            day: y,
            month: x,
            year: Some(year),
        };
        let (preferred, other) = match order {
            DateOrder::DayFirst => (day_first, month_first),
            DateOrder::MonthFirst => (month_first, day_first),
        };
        if valid(preferred) { preferred } else { other }
    };
    valid(date).then_some(Atom {
        date,
        start: i,
        end: i + 5,
        month_first: false,
    })
}

fn valid(p: Partial) -> bool {
    (1..=12).contains(&p.month)
        && p.day >= 1
        && p.day <= days_in_month(p.year.unwrap_or(2000), p.month)
}

/// A date at `i`, in any of the supported spellings.
fn atom_at(t: &Tokens, i: usize, order: DateOrder) -> Option<Atom> {
    if t.num(i).is_some()
        && let Some(a) = numeric_at(t, i, order)
    {
        return Some(a);
    }
    // [the] DAY [of] MONTH [YEAR], also 12-Mar-2027.
    let j = if t.is_word(i, "the") { i + 1 } else { i };
    if let Some((day, mut k)) = day_at(t, j) {
        let dashed = (t.is_sym(k, '-') || t.is_sym(k, '/')) && t.glued(k) && t.glued(k + 1);
        if t.is_word(k, "of") || dashed {
            k += 1;
        }
        if !t.line_start(k)
            && let Some((month, mut k)) = month_at(t, k)
        {
            if t.is_sym(k, '-') && t.glued(k) && t.glued(k + 1) && t.digits(k + 1) == 4 {
                k += 1;
            }
            let (year, end) = match year_at(t, k) {
                Some((y, e)) => (Some(y), e),
                None => (None, k),
            };
            let date = Partial { day, month, year };
            if valid(date) {
                return Some(Atom {
                    date,
                    start: i,
                    end,
                    month_first: false,
                });
            }
        }
    }
    // MONTH [the] DAY [YEAR]
    let (month, mut k) = month_at(t, i)?;
    if t.is_word(k, "the") {
        k += 1;
    }
    if t.line_start(k) {
        return None;
    }
    let (day, k) = day_at(t, k)?;
    if t.is_any(k, COUNTED) || (t.glued(k) && matches!(t.sym(k), Some('/' | '.' | ':'))) {
        return None;
    }
    let (year, end) = match year_at(t, k) {
        Some((y, e)) => (Some(y), e),
        None => (None, k),
    };
    let date = Partial { day, month, year };
    valid(date).then_some(Atom {
        date,
        start: i,
        end,
        month_first: true,
    })
}

/// A range word at `i` ("-", "to", "until", …; "and" only after "between"). Returns the
/// index after it.
fn connector_at(t: &Tokens, i: usize, between: bool) -> Option<usize> {
    let mut k = i;
    if t.is_sym(k, ',') {
        k += 1;
    }
    if matches!(t.sym(k), Some('-' | '~' | '–' | '—')) {
        while t.is_sym(k + 1, '-') {
            k += 1;
        }
        return Some(k + 1);
    }
    if t.is_any(
        k,
        &["to", "till", "til", "until", "through", "thru", "till"],
    ) {
        return Some(k + 1);
    }
    if between && (t.is_word(k, "and") || t.is_sym(k, '&')) {
        return Some(k + 1);
    }
    None
}

/// Whether "between" comes just before token `i` (skipping "the").
fn between_before(t: &Tokens, i: usize) -> bool {
    let k = if i >= 1 && t.is_word(i - 1, "the") {
        i.saturating_sub(2)
    } else {
        i.saturating_sub(1)
    };
    i >= 1 && t.is_word(k, "between")
}

/// Reads a bare day that ends just before `end` ("12" or "12th", maybe after "the"),
/// returning the day and its first token.
fn bare_day_before(t: &Tokens, end: usize) -> Option<(u32, usize)> {
    let last = end.checked_sub(1)?;
    let first = if t.word(last).is_some_and(is_ordinal_suffix) && t.glued(last) {
        last.checked_sub(1)?
    } else {
        last
    };
    let (day, next) = day_at(t, first)?;
    if next != end || t.num(first).is_none() {
        return None;
    }
    // "14/02-…" or "1.5-…" are not days.
    if first >= 1 && t.glued(first) && matches!(t.sym(first - 1), Some('/' | '.' | ',' | ':')) {
        return None;
    }
    Some((day, first))
}

/// Finds ranges written around atoms: "12 to 19 March", "March 12-19", "3 April - 13 April".
fn find_ranges(t: &Tokens, atoms: &[Atom]) -> Vec<(Range, usize)> {
    let mut ranges = Vec::new();
    let mut prev_end = 0;
    for (n, a) in atoms.iter().enumerate() {
        // A bare day before the atom: "12 to 19 March", "between the 5th and 12th of May".
        if !a.month_first {
            let mut s = a.start;
            let end_of_connector = s;
            let mut found = None;
            for con_len in 1..=2 {
                let Some(c_start) = end_of_connector.checked_sub(con_len) else {
                    break;
                };
                if c_start <= prev_end {
                    break;
                }
                let Some(after) = connector_at(t, c_start, true) else {
                    continue;
                };
                if after != end_of_connector {
                    continue;
                }
                let mut day_end = c_start;
                if day_end >= 1 && t.is_word(day_end - 1, "the") {
                    day_end -= 1;
                }
                if let Some((day, first)) = bare_day_before(t, day_end) {
                    let is_and = t.is_word(c_start, "and") || t.is_sym(c_start, '&');
                    if first >= prev_end && (!is_and || between_before(t, first)) {
                        found = Some((day, first));
                    }
                }
                break;
            }
            if let Some((day, first)) = found {
                let to = a.date;
                let (month, year) = if day > to.day {
                    if to.month == 1 {
                        (12, to.year.map(|y| y - 1))
                    } else {
                        (to.month - 1, to.year)
                    }
                } else {
                    (to.month, to.year)
                };
                let from = Partial { day, month, year };
                if valid(from) && day != to.day {
                    ranges.push((Range { from, to }, first));
                    s = first;
                }
            }
            let _ = s;
        }
        // Atom to atom: "3 April - 13 April 2027", "from 2027-07-10 to 2027-07-17".
        if let Some(b) = atoms.get(n + 1) {
            let between = between_before(t, a.start);
            if let Some(mut after) = connector_at(t, a.end, between) {
                if t.is_word(after, "the") {
                    after += 1;
                }
                if after == b.start
                    || (b.start > 0 && after == b.start + 1 && t.is_word(b.start, "the"))
                {
                    ranges.push((
                        Range {
                            from: a.date,
                            to: b.date,
                        },
                        a.start,
                    ));
                }
            }
        }
        // A bare day after a month-first atom: "March 12-19", "March 12 to 19, 2027".
        if a.month_first {
            let between = between_before(t, a.start);
            if let Some(mut k) = connector_at(t, a.end, between) {
                if t.is_word(k, "the") {
                    k += 1;
                }
                if let Some((day, next)) = day_at(t, k).filter(|_| t.num(k).is_some()) {
                    let is_atom = atoms.get(n + 1).is_some_and(|b| b.start <= k + 1);
                    let counted =
                        t.is_any(next, COUNTED) || t.word(next).and_then(month_word).is_some();
                    if !is_atom && !counted && day > a.date.day {
                        let year = year_at(t, next).map(|(y, _)| y).or(a.date.year);
                        let from = Partial {
                            year: year.or(a.date.year),
                            ..a.date
                        };
                        let to = Partial {
                            day,
                            month: a.date.month,
                            year,
                        };
                        if valid(to) {
                            ranges.push((Range { from, to }, a.start));
                        }
                    }
                }
            }
        }
        prev_end = a.end;
    }
    ranges.sort_by_key(|(_, pos)| *pos);
    ranges
}

/// Resolves a partial date: its own year, else the next such date on or after `reference`.
fn resolve(p: Partial, reference: Option<Date>) -> Option<Date> {
    match p.year {
        Some(y) => Date::new(y, p.month, p.day),
        None => Date::next_on_or_after(reference?, p.month, p.day),
    }
}

/// Resolves both ends of a range, a year written on one end applying to the other.
fn resolve_range(r: Range, reference: Option<Date>) -> Option<(Date, Date)> {
    let (from, to) = match (r.from.year, r.to.year) {
        (Some(_), Some(_)) => (resolve(r.from, None)?, resolve(r.to, None)?),
        (None, Some(y)) => {
            let to = resolve(r.to, None)?;
            let from = Date::new(y, r.from.month, r.from.day)
                .filter(|f| *f < to)
                .or_else(|| Date::new(y - 1, r.from.month, r.from.day))?;
            (from, to)
        }
        (Some(y), None) => {
            let from = resolve(r.from, None)?;
            let to = Date::new(y, r.to.month, r.to.day)
                .filter(|d| *d > from)
                .or_else(|| Date::new(y + 1, r.to.month, r.to.day))?;
            (from, to)
        }
        (None, None) => {
            let from = resolve(r.from, reference)?;
            let next = from.add_days(1)?;
            let to = Date::next_on_or_after(next, r.to.month, r.to.day)?;
            (from, to)
        }
    };
    let nights = from.days_until(to);
    (1..=365).contains(&nights).then_some((from, to))
}

/// The label before an atom, looking back a few tokens within its sentence.
fn label_before(t: &Tokens, start: usize) -> Option<Label> {
    let lo = start.saturating_sub(6);
    let mut k = start;
    while k > lo {
        k -= 1;
        if t.ends_sentence(k) {
            return None;
        }
        let Some(w) = t.word(k) else { continue };
        let prev_check = k >= 1 && t.is_word(k - 1, "check")
            || k >= 2 && t.is_sym(k - 1, '-') && t.is_word(k - 2, "check");
        match w {
            "in" if prev_check => return Some(Label::In),
            "out" if prev_check => return Some(Label::Out),
            "checkin" | "arrive" | "arriving" | "arrival" | "arrivals" | "from" | "starting"
            | "start" | "landing" | "commencing" => return Some(Label::In),
            "checkout" | "depart" | "departing" | "departure" | "leave" | "leaving" | "return"
            | "returning" | "until" | "till" | "back" | "home" => return Some(Label::Out),
            _ => {}
        }
    }
    None
}

/// Words that say the dates are not fixed.
fn flexible_words(t: &Tokens, i: usize) -> bool {
    match t.word(i) {
        Some("flexible" | "flexibility" | "flexi" | "flex") => {
            let negated = (i.saturating_sub(3)..i)
                .any(|k| t.is_any(k, &["not", "t", "no", "never", "little"]));
            let other = (i + 1..i + 4).any(|k| {
                t.is_any(
                    k,
                    &[
                        "budget",
                        "price",
                        "prices",
                        "hotel",
                        "hotels",
                        "accommodation",
                        "destination",
                        "destinations",
                        "room",
                        "rooms",
                    ],
                )
            });
            let budget_before = (i.saturating_sub(4)..i).any(|k| t.is_any(k, &["budget", "price"]));
            !negated && !other && !budget_before
        }
        Some("give") => t.is_word(i + 1, "or") && t.is_word(i + 2, "take"),
        Some("plus") => t.is_word(i + 1, "or") && t.is_word(i + 2, "minus"),
        _ => t.is_sym(i, '+') && t.is_sym(i + 1, '/') && t.is_sym(i + 2, '-'),
    }
}

/// Words that make a nearby date or length approximate.
pub(crate) const APPROXIMATE: &[&str] = &[
    "around",
    "about",
    "approximately",
    "approx",
    "roughly",
    "circa",
    "ish",
];

/// A month without a day at `i` ("mid-August 2027", "early July", "in March"), as written.
fn month_only_at(t: &Tokens, i: usize) -> Option<(String, usize)> {
    let mut k = i;
    let qualified = t.is_any(k, QUALIFIERS);
    if qualified {
        k += 1;
        if t.is_word(k, "of") || t.is_sym(k, '-') {
            k += 1;
        }
    }
    let (month, mut end) = month_at(t, k)?;
    let w = t.word(k).unwrap_or("");
    let year = year_at(t, end);
    if let Some((_, e)) = year {
        end = e;
    }
    let after_in = k >= 1
        && t.is_any(
            k - 1,
            &["in", "during", "over", "for", "of", "this", "next"],
        );
    // "may" and "march" are also verbs: only take them with a qualifier, a year or "in".
    let ambiguous = matches!(w, "may" | "march" | "mar");
    if ambiguous && !(qualified || year.is_some() || after_in) {
        return None;
    }
    if !(t.capitalised(k) || qualified || year.is_some()) {
        return None;
    }
    let _ = month;
    Some((t.span(i, end - 1).to_owned(), end))
}

/// Nights stated directly ("7 nights", "a week", "10 days"): value, whether approximate,
/// whether it came from days.
fn find_nights(t: &Tokens, atoms: &[Atom]) -> Option<(u32, bool, bool)> {
    let mut nights: Vec<(u32, usize, bool)> = Vec::new(); // value, token, followed by in/at
    let mut weeks = None;
    let mut days = None;
    let mut approx = false;
    // Atoms are in text order, so a binary search keeps this check cheap.
    let in_atom = |i: usize| {
        let k = atoms.partition_point(|a| a.end <= i);
        atoms.get(k).is_some_and(|a| a.start <= i)
    };
    for i in 0..t.len() {
        if !t.has(i, STAY_UNIT) {
            continue;
        }
        let Some(w) = t.word(i) else { continue };
        let unit = match w {
            "night" | "nights" | "nts" | "nite" | "nites" | "nighter" => 1,
            "week" | "weeks" | "wk" | "wks" => 7,
            "fortnight" => 14,
            "day" | "days" => 0,
            _ => continue,
        };
        let mut end = i;
        if end >= 1 && t.is_sym(end - 1, '-') {
            end -= 1;
        }
        let Some((count, first)) = count_before(t, end, true) else {
            continue;
        };
        if in_atom(first) || count == 0 || t.num(first).is_some_and(|_| t.digits(first) > 3) {
            continue;
        }
        let before = first.checked_sub(1);
        let prev = before.and_then(|b| t.word(b)).unwrap_or("");
        let next = t.word(i + 1).unwrap_or("");
        if matches!(
            prev,
            "per" | "within" | "next" | "last" | "every" | "each" | "once" | "twice" | "than"
        ) || matches!(
            next,
            "ago"
                | "before"
                | "after"
                | "later"
                | "notice"
                | "prior"
                | "earlier"
                | "time"
                | "advance"
        ) || next == "from" && t.is_any(i + 2, &["now", "today"])
        {
            continue;
        }
        if t.word(first).is_some_and(|w| matches!(w, "a" | "an")) && unit == 1 {
            continue; // "R3 000 a night"
        }
        // "5-7 nights", "5 or 7 nights": the first figure, approximately.
        let mut value = count;
        if let Some(b) = before {
            if (t.is_sym(b, '-') || t.is_any(b, &["to", "or"]))
                && b >= 1
                && let Some((lower, _)) = count_before(t, b, false)
            {
                value = lower;
                approx = true;
            }
            if t.is_any(b, APPROXIMATE)
                || b >= 1 && t.is_any(b - 1, APPROXIMATE) && t.is_word(b, "for")
            {
                approx = true;
            }
        }
        match unit {
            1 => {
                let at = t.is_any(i + 1, &["in", "at"]);
                nights.push((value, i, at));
            }
            0 => {
                if days.is_none() && prev != "in" && value >= 2 {
                    days = Some(value - 1);
                }
            }
            u => {
                if weeks.is_none() {
                    weeks = Some(value * u);
                }
            }
        }
    }
    if let Some(&(first, pos, at)) = nights.first() {
        // "3 nights in Cape Town and 4 nights in Kruger": the stay is the sum.
        let mut total = first;
        if at {
            for &(v, p, at2) in &nights[1..] {
                if at2 && !t.sentence_between(pos, p) {
                    total += v;
                }
            }
        }
        return Some((total, approx, false)).filter(|(n, _, _)| (1..=365).contains(n));
    }
    if let Some(w) = weeks {
        return Some((w, approx, false)).filter(|(n, _, _)| (1..=365).contains(n));
    }
    days.map(|d| (d, approx, true))
        .filter(|(n, _, _)| (1..=365).contains(n))
}

/// Finds the stay in `t`. `reference` is the email's date (yearless dates are read
/// relative to it, and dates before it are taken as past trips, not travel dates).
pub fn find_stay(t: &Tokens, reference: Option<Date>, order: DateOrder) -> Stay {
    let mut atoms = Vec::new();
    let mut month_only = None;
    let mut approx_date = false;
    let mut flexible = false;
    let mut i = 0;
    while i < t.len() {
        if (t.has(i, FLEXIBLE) || t.is_sym(i, '+')) && flexible_words(t, i) {
            flexible = true;
        }
        if let Some(a) = atom_at(t, i, order) {
            if (i.saturating_sub(2)..i).any(|k| t.is_any(k, APPROXIMATE)) {
                approx_date = true;
            }
            atoms.push(a);
            i = a.end;
            continue;
        }
        if month_only.is_none()
            && t.has(i, MONTH | MONTH_QUALIFIER)
            && let Some((text, end)) = month_only_at(t, i)
        {
            month_only = Some(text);
            i = end;
            continue;
        }
        i += 1;
    }
    let not_past = |d: &Date| reference.is_none_or(|r| *d >= r);

    let mut stay = Stay::default();
    let ranges = find_ranges(t, &atoms);
    let stated = find_nights(t, &atoms);
    if let Some((from, to)) = ranges
        .iter()
        .filter_map(|(r, _)| resolve_range(*r, reference))
        .find(|(from, _)| not_past(from))
    {
        stay.check_in = Some(from);
        stay.check_out = Some(to);
    } else {
        let labelled: Vec<(Date, Option<Label>)> = atoms
            .iter()
            .filter_map(|a| Some((resolve(a.date, reference)?, label_before(t, a.start))))
            .filter(|(d, _)| not_past(d))
            .collect();
        let check_in = labelled
            .iter()
            .find(|(_, l)| *l == Some(Label::In))
            .or_else(|| labelled.iter().find(|(_, l)| *l != Some(Label::Out)))
            .map(|(d, _)| *d);
        let check_out = check_in.and_then(|cin| {
            labelled
                .iter()
                .find(|(d, l)| *l == Some(Label::Out) && *d > cin && cin.days_until(*d) <= 365)
                .map(|(d, _)| *d)
        });
        match (check_in, check_out) {
            (Some(a), Some(b)) => {
                stay.check_in = Some(a);
                stay.check_out = Some(b);
            }
            (Some(a), None) => stay.check_in = Some(a),
            (None, _) => {
                // Only a departure date: with a stated length it still fixes the stay;
                // without one it is more likely the start ("departing 3 April").
                if let Some((d, _)) = labelled.first() {
                    match stated {
                        Some((n, _, _))
                            if labelled[0].1 == Some(Label::Out) && labelled.len() == 1 =>
                        {
                            stay.check_out = Some(*d);
                            stay.check_in = d.add_days(-i64::from(n));
                        }
                        _ => stay.check_in = Some(*d),
                    }
                }
            }
        }
    }
    match (stay.check_in, stay.check_out) {
        (Some(a), Some(b)) => stay.nights = u32::try_from(a.days_until(b)).ok(),
        (Some(a), None) => {
            if let Some((n, _, from_days)) = stated {
                stay.nights = Some(n);
                stay.check_out = a.add_days(i64::from(n));
                stay.nights_from_days = from_days;
            }
        }
        _ => {
            if let Some((n, _, from_days)) = stated {
                stay.nights = Some(n);
                stay.nights_from_days = from_days;
            }
        }
    }
    let approx_nights = stated.is_some_and(|(_, a, _)| a);
    stay.flexible = flexible || approx_date || approx_nights;
    if stay.check_in.is_none() {
        stay.month_only = month_only;
    }
    stay
}

/// The first full date (with its year) in a short text such as a forwarded message's
/// `Date:` line ("Thu, 26 Nov 2026 at 19:02").
pub fn date_in_text(s: &str) -> Option<Date> {
    let t = Tokens::new(crate::text::truncate(s, 200));
    (0..t.len())
        .filter_map(|i| atom_at(&t, i, DateOrder::DayFirst))
        .find_map(|a| {
            a.date
                .year
                .and_then(|y| Date::new(y, a.date.month, a.date.day))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stay_at(text: &str, reference: &str) -> Stay {
        let t = Tokens::new(text);
        find_stay(&t, Date::parse_iso_prefix(reference), DateOrder::DayFirst)
    }

    fn stay(text: &str) -> Stay {
        stay_at(text, "2026-11-20")
    }

    fn dates(text: &str) -> (String, String, u32) {
        let s = stay(text);
        (
            s.check_in.map(|d| d.to_string()).unwrap_or_default(),
            s.check_out.map(|d| d.to_string()).unwrap_or_default(),
            s.nights.unwrap_or(0),
        )
    }

    fn expect(text: &str, check_in: &str, check_out: &str, nights: u32) {
        assert_eq!(
            dates(text),
            (check_in.to_owned(), check_out.to_owned(), nights),
            "{text}"
        );
    }

    #[test]
    fn a_day_range_with_one_month_and_year_is_read() {
        expect(
            "Zanzibar from 12 to 19 March 2027 for 2 adults",
            "2027-03-12",
            "2027-03-19",
            7,
        );
        expect("12–19 March 2027", "2027-03-12", "2027-03-19", 7);
        expect("12-19 March", "2027-03-12", "2027-03-19", 7);
        expect(
            "the 12th to the 19th of March",
            "2027-03-12",
            "2027-03-19",
            7,
        );
        expect("between 5 and 12 May please", "2027-05-05", "2027-05-12", 7);
    }

    #[test]
    fn month_first_ranges_are_read() {
        expect("March 12-19", "2027-03-12", "2027-03-19", 7);
        expect("March 12 to 19, 2028", "2028-03-12", "2028-03-19", 7);
        expect("April 3rd - April 13th", "2027-04-03", "2027-04-13", 10);
    }

    #[test]
    fn ranges_of_two_full_dates_are_read() {
        expect(
            "Mauritius, 3 April - 13 April 2027.",
            "2027-04-03",
            "2027-04-13",
            10,
        );
        expect(
            "from 2027-07-10 to 2027-07-17.",
            "2027-07-10",
            "2027-07-17",
            7,
        );
        expect(
            "10.06.2027 - 20.06.2027, two adults",
            "2027-06-10",
            "2027-06-20",
            10,
        );
        expect("14/02/2027 to 21/02/2027", "2027-02-14", "2027-02-21", 7);
        expect(
            "28 December 2026 until 4 January 2027",
            "2026-12-28",
            "2027-01-04",
            7,
        );
    }

    #[test]
    fn a_range_across_new_year_moves_the_end_into_the_next_year() {
        expect("28 Dec - 4 Jan", "2026-12-28", "2027-01-04", 7);
        expect("28 Dec - 4 Jan 2028", "2027-12-28", "2028-01-04", 7);
        expect("30 - 2 April 2027", "2027-03-30", "2027-04-02", 3);
    }

    #[test]
    fn a_start_date_and_a_length_give_the_stay() {
        expect("7 nights from 5 January", "2027-01-05", "2027-01-12", 7);
        expect(
            "from the 3rd of April for 10 nights",
            "2027-04-03",
            "2027-04-13",
            10,
        );
        expect(
            "9 nights from 25 October 2027, 2 adults",
            "2027-10-25",
            "2027-11-03",
            9,
        );
        expect(
            "arriving 10 July 2027 for a week",
            "2027-07-10",
            "2027-07-17",
            7,
        );
        expect("two weeks starting 1 Feb", "2027-02-01", "2027-02-15", 14);
        expect(
            "a 5-night stay from 2027-07-10",
            "2027-07-10",
            "2027-07-15",
            5,
        );
    }

    #[test]
    fn check_in_and_check_out_labels_pair_dates() {
        expect(
            "check in 3 April, check out 13 April",
            "2027-04-03",
            "2027-04-13",
            10,
        );
        expect(
            "Check-in: 3 April 2027\nCheck-out: 13 April 2027",
            "2027-04-03",
            "2027-04-13",
            10,
        );
        expect(
            "arriving on the 3rd of April and leaving on the 13th of April",
            "2027-04-03",
            "2027-04-13",
            10,
        );
        expect(
            "returning 13 April after 10 nights",
            "2027-04-03",
            "2027-04-13",
            10,
        );
    }

    #[test]
    fn numeric_dates_are_day_first_unless_impossible() {
        expect("on 04/05/2027 for 3 nights", "2027-05-04", "2027-05-07", 3);
        expect("on 12/25/2027 for 3 nights", "2027-12-25", "2027-12-28", 3);
        expect("on 14/02/27 for 2 nights", "2027-02-14", "2027-02-16", 2);
        let t = Tokens::new("on 04/05/2027 for 3 nights");
        let s = find_stay(&t, None, DateOrder::MonthFirst);
        assert_eq!(s.check_in.unwrap().to_string(), "2027-04-05");
    }

    #[test]
    fn yearless_dates_are_the_next_occurrence_after_the_email() {
        expect("10 July for 3 nights", "2027-07-10", "2027-07-13", 3);
        let s = stay_at("from 5 December for 3 nights", "2026-11-20");
        assert_eq!(s.check_in.unwrap().to_string(), "2026-12-05");
    }

    #[test]
    fn lengths_alone_give_nights_without_dates() {
        let s = stay(
            "my wife and I want to see Victoria Falls in mid-August 2027, about 5 nights, dates flexible.",
        );
        assert_eq!((s.check_in, s.nights, s.flexible), (None, Some(5), true));
        assert_eq!(s.month_only.as_deref(), Some("mid-August 2027"));
        assert_eq!(stay("a fortnight in Mauritius").nights, Some(14));
        assert_eq!(
            stay("3 nights in Cape Town and 4 nights in Kruger").nights,
            Some(7)
        );
        let s = stay("10 days in Zanzibar");
        assert_eq!((s.nights, s.nights_from_days), (Some(9), true));
    }

    #[test]
    fn counts_and_prices_are_not_mistaken_for_dates_or_lengths() {
        let s = stay("In March 2 adults want R3000 a night, reply within 2 days");
        assert_eq!((s.check_in, s.nights), (None, None));
        let s = stay("Ref 082-555-0147 and 1.5.2.3");
        assert_eq!(s.check_in, None);
        assert!(!stay("we may travel, budget is flexible").flexible);
    }

    #[test]
    fn past_dates_are_not_travel_dates() {
        let s = stay(
            "We loved our stay in March 2025 (12-19 March 2025). Now 5 nights from 3 May 2027.",
        );
        assert_eq!(s.check_in.unwrap().to_string(), "2027-05-03");
        assert_eq!(s.nights, Some(5));
    }

    #[test]
    fn flexible_wording_sets_flexible_dates() {
        assert!(stay("around 12 March for a week").flexible);
        assert!(stay("12-19 March, give or take a day").flexible);
        assert!(stay("we are flexible with dates").flexible);
        assert!(!stay("12-19 March, dates are not flexible").flexible);
        assert!(!stay("12-19 March").flexible);
    }
}
