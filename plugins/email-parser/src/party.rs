//! Who travels: adults, children with and without ages, infants, and rooms.
//!
//! One pass collects mentions ("2 adults", "kids aged 6 and 9", "a 7-year-old", "my wife
//! and I", "family of four", table cells such as "Adults | 2"); a second step reconciles
//! them, so that the same children mentioned twice are counted once.

use crate::lexicon::{
    ADULT as L_ADULT, CHILD as L_CHILD, INFANT as L_INFANT, NUMBER, PARTY_PHRASE, ROOM as L_ROOM,
    TOTAL as L_TOTAL,
};
use crate::numbers::read_count;
use crate::tokens::Tokens;

/// The travelling party as far as the email states it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Party {
    /// Adults, when stated or safely implied.
    pub adults: Option<u32>,
    /// Ages 2–17 of children whose ages were given.
    pub children_ages: Vec<u32>,
    /// Children mentioned without an age.
    pub children_without_age: u32,
    /// Infants under 2.
    pub infants: u32,
    /// Rooms, when stated.
    pub rooms: Option<u32>,
    /// An assumption the consultant should check, e.g. "family of 4: 2 adults assumed".
    pub note: Option<String>,
}

pub(crate) const ADULT: &[&str] = &[
    "adult",
    "adults",
    "adt",
    "adts",
    "ad",
    "grownups",
    "seniors",
    "senior",
    "pensioners",
];
pub(crate) const TOTAL: &[&str] = &[
    "people",
    "persons",
    "person",
    "pax",
    "guests",
    "guest",
    "travellers",
    "travelers",
    "traveller",
    "traveler",
    "passengers",
    "pax",
    "ppl",
];
pub(crate) const CHILD: &[&str] = &[
    "child",
    "children",
    "kid",
    "kids",
    "kiddies",
    "boy",
    "boys",
    "girl",
    "girls",
    "son",
    "sons",
    "daughter",
    "daughters",
    "teen",
    "teens",
    "teenager",
    "teenagers",
    "toddler",
    "toddlers",
    "grandchild",
    "grandchildren",
    "grandkids",
    "grandson",
    "grandsons",
    "granddaughter",
    "granddaughters",
    "minors",
    "chd",
    "chld",
    "twins",
];
pub(crate) const INFANT: &[&str] = &[
    "infant", "infants", "baby", "babies", "newborn", "newborns", "inf",
];
pub(crate) const ROOM: &[&str] = &["room", "rooms"];
/// Words allowed between a count and its noun ("2 young kids", "2 separate rooms").
pub(crate) const BETWEEN: &[&str] = &[
    "young",
    "little",
    "small",
    "teenage",
    "older",
    "younger",
    "lovely",
    "adult",
    "double",
    "twin",
    "single",
    "triple",
    "separate",
    "family",
    "interleading",
    "connecting",
    "adjoining",
    "standard",
    "deluxe",
    "luxury",
    "superior",
    "hotel",
    "x",
    "more",
    "other",
    "sharing",
];
/// Adults that "my … and I" adds.
pub(crate) const RELATION: &[&str] = &[
    "wife",
    "husband",
    "partner",
    "fiance",
    "fiancee",
    "fiancé",
    "fiancée",
    "girlfriend",
    "boyfriend",
    "spouse",
    "hubby",
    "friend",
    "mother",
    "mom",
    "mum",
    "father",
    "dad",
    "sister",
    "brother",
    "colleague",
    "wifey",
    "parents",
];

/// Words at which [`phrase_at`] looks for a party phrase.
pub(crate) const PHRASE_STARTS: &[&str] = &[
    "couple",
    "honeymoon",
    "honeymooners",
    "honeymooning",
    "newlyweds",
    "anniversary",
    "family",
    "party",
    "group",
    "all",
    "we",
    "there",
    "solo",
    "alone",
    "just",
    "my",
    "myself",
    "me",
    "i",
    "with",
];

/// A child's gender as the noun gives it, so that "a son and a daughter" are two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gender {
    Boy,
    Girl,
    Any,
}

fn gender(noun: &str) -> Gender {
    match noun {
        "boy" | "boys" | "son" | "sons" | "grandson" | "grandsons" => Gender::Boy,
        "girl" | "girls" | "daughter" | "daughters" | "granddaughter" | "granddaughters" => {
            Gender::Girl
        }
        _ => Gender::Any,
    }
}

/// An age as written: years, or months for babies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Age {
    value: u32,
    months: bool,
}

impl Age {
    fn years(self) -> u32 {
        if self.months {
            self.value / 12
        } else {
            self.value
        }
    }
}

#[derive(Clone, Debug)]
struct Children {
    count: Option<u32>,
    ages: Vec<Age>,
    gender: Gender,
}

#[derive(Clone, Debug, Default)]
struct Mentions {
    adults: Option<u32>,
    total: Option<u32>,
    family: Option<u32>,
    all_adults: bool,
    relations: Option<u32>,
    couple: bool,
    solo: bool,
    children: Vec<Children>,
    infants: Option<u32>,
    rooms: Option<u32>,
}

fn is_age_unit(w: &str) -> Option<bool> {
    match w {
        "year" | "years" | "yr" | "yrs" | "y" | "yo" | "yrs." => Some(false),
        "month" | "months" | "mo" | "mos" | "mth" | "mths" | "mnths" => Some(true),
        _ => None,
    }
}

/// Reads a list of ages at `j`: "aged 6 and 9", "(6 & 9)", "(ages 6, 9)", "of 10 months",
/// ": 6 and 9 years old". Returns the ages and the index after the list.
fn read_ages(t: &Tokens, j: usize, allow_bare: bool) -> Option<(Vec<Age>, usize)> {
    let mut k = j;
    let mut paren = false;
    if t.is_sym(k, ',') || t.is_sym(k, ':') || t.is_sym(k, '-') {
        k += 1;
    }
    if t.is_sym(k, '(') {
        paren = true;
        k += 1;
    }
    let mut triggered = paren;
    if t.is_word(k, "who") {
        // "our son who is 4", "who's 4", "who turns 7"
        if t.is_any(k + 1, &["is", "turns", "will"]) {
            k += 2;
            if t.is_word(k, "be") {
                k += 1;
            }
        } else if t.is_sym(k + 1, '\'') && t.is_word(k + 2, "s") {
            k += 3;
        }
        triggered = t.num(k).is_some();
    } else if t.is_any(k, &["aged", "ages", "age", "of", "are", "is"]) {
        triggered = true;
        k += 1;
        if t.is_sym(k, ':') {
            k += 1;
        }
    }
    let mut ages: Vec<Age> = Vec::new();
    let mut unit_given = false;
    let mut list_end = k;
    while let Some(v) = t.num(k).filter(|v| *v <= 30 && t.digits(k) <= 2) {
        // "aged 4, 2 adults": the list ends before a number that counts something else.
        if !ages.is_empty() && counts_something(t, k + 1) {
            k = list_end;
            break;
        }
        let mut months = false;
        let mut next = k + 1;
        if t.is_sym(next, '-') && t.glued(next) {
            next += 1;
        }
        if let Some(m) = t.word(next).and_then(is_age_unit) {
            months = m;
            unit_given = true;
            next += 1;
            if t.is_sym(next, '-') {
                next += 1;
            }
            if t.is_any(next, &["old", "olds"]) {
                next += 1;
            }
        }
        ages.push(Age {
            value: u32::try_from(v).ok()?,
            months,
        });
        k = next;
        list_end = k;
        if t.is_sym(k, ',') || t.is_sym(k, '&') || t.is_sym(k, '+') || t.is_sym(k, '/') {
            k += 1;
            if t.is_word(k, "and") {
                k += 1;
            }
        } else if t.is_word(k, "and") && t.num(k + 1).is_some() {
            k += 1;
        } else {
            break;
        }
    }
    if ages.is_empty() {
        return None;
    }
    // A unit at the end ("6 and 9 months") applies to the whole list.
    if let Some(last) = ages.last().copied()
        && last.months
        && ages.iter().all(|a| a.months || !unit_given || a.value < 24)
    {
        for a in &mut ages {
            a.months = true;
        }
    }
    if paren && t.is_sym(k, ')') {
        k += 1;
    }
    // "2 kids 3 rooms": a number followed by another noun is not an age.
    if counts_something(t, k) {
        return None;
    }
    // Two or more numbers after a children noun are ages: "kids 8 and 11".
    (triggered || unit_given || allow_bare || ages.len() >= 2).then_some((ages, k))
}

/// Whether the word at `k` is a noun that a number before it counts ("2 adults").
fn counts_something(t: &Tokens, k: usize) -> bool {
    let k = if t.is_sym(k, '-') { k + 1 } else { k };
    t.is_any(k, ADULT)
        || t.is_any(k, CHILD)
        || t.is_any(k, TOTAL)
        || t.is_any(k, ROOM)
        || t.is_any(k, INFANT)
        || t.is_any(
            k,
            &["nights", "night", "days", "weeks", "of", "x", "couples"],
        )
}

/// Skips words allowed between a count and its noun.
fn skip_between(t: &Tokens, mut j: usize) -> usize {
    for _ in 0..2 {
        if t.is_any(j, BETWEEN) || t.is_sym(j, '×') || t.is_sym(j, '*') {
            j += 1;
        }
    }
    j
}

/// A count followed by a noun: "2 adults", "two young kids aged 6 and 9", "a baby".
fn counted_at(t: &Tokens, i: usize, m: &mut Mentions) -> Option<usize> {
    let (count, j) = read_count(t, i, true)?;
    let article = t.is_any(i, &["a", "an"]);
    let j = skip_between(t, j);
    let noun = t.word(j)?;
    if t.line_start(j) && !t.line_start(i) && t.num(i).is_some() {
        return None;
    }
    let plural = noun.ends_with('s') || matches!(noun, "children" | "kiddies" | "people");
    if article && plural && count == 1 {
        return None; // "a kids' club"
    }
    if t.has(j, L_ADULT) {
        m.adults.get_or_insert(count);
        // "(all adults)" or "(aged 30 and 35)" adds nothing.
        return Some(j + 1);
    }
    if noun == "couples" && !article {
        m.adults.get_or_insert(count * 2);
        return Some(j + 1);
    }
    if t.has(j, L_TOTAL) && !article {
        m.total.get_or_insert(count);
        return Some(j + 1);
    }
    if noun == "of" && t.is_word(j + 1, "us") && !article {
        m.total.get_or_insert(count);
        return Some(j + 2);
    }
    if t.has(j, L_CHILD) {
        let count = if noun == "twins" && article { 2 } else { count };
        let (ages, end) = read_ages(t, j + 1, !article).unwrap_or((Vec::new(), j + 1));
        m.children.push(Children {
            count: Some(count),
            ages,
            gender: gender(noun),
        });
        return Some(end);
    }
    if t.has(j, L_INFANT) {
        if t.is_sym(j + 1, '-') && t.glued(j + 1) {
            return None; // "baby-friendly"
        }
        let end = read_ages(t, j + 1, false).map_or(j + 1, |(_, e)| e);
        let infants = m.infants.get_or_insert(0);
        *infants = (*infants).max(count);
        return Some(end);
    }
    if t.has(j, L_ROOM) && !article && !t.is_word(j + 1, "only") {
        m.rooms.get_or_insert(count);
        return Some(j + 1);
    }
    None
}

/// "a 7-year-old", "10-month-old", "7yo": one child or infant of that age.
fn age_noun_at(t: &Tokens, i: usize, m: &mut Mentions) -> Option<usize> {
    let v = t.num(i).filter(|_| t.digits(i) <= 2)?;
    let mut k = i + 1;
    if t.is_sym(k, '-') {
        k += 1;
    }
    let unit = t.word(k)?;
    let months = is_age_unit(unit)?;
    k += 1;
    if unit != "yo" {
        if t.is_sym(k, '-') {
            k += 1;
        }
        if !t.is_any(k, &["old", "olds"]) {
            return None;
        }
        k += 1;
    }
    let age = Age {
        value: u32::try_from(v).ok()?,
        months,
    };
    let mut g = Gender::Any;
    if let Some(w) = t.word(k)
        && (CHILD.contains(&w) || INFANT.contains(&w))
    {
        g = gender(w);
        k += 1;
    }
    if age.years() >= 18 {
        return Some(k);
    }
    m.children.push(Children {
        count: Some(1),
        ages: vec![age],
        gender: g,
    });
    Some(k)
}

/// A noun then its count, as in forms and tables: "Adults: 2", "Infant | 1 (11 months)",
/// "Children 2 (ages 6, 9)"; or a children noun followed by ages: "kids aged 6 and 9".
fn labelled_at(t: &Tokens, i: usize, m: &mut Mentions) -> Option<usize> {
    let noun = t.word(i)?;
    let is_adult = ADULT.contains(&noun) || noun == "adults";
    let is_child = CHILD.contains(&noun);
    let is_infant = INFANT.contains(&noun);
    let is_total = TOTAL.contains(&noun) || noun == "guests";
    let is_room = ROOM.contains(&noun);
    if !(is_adult || is_child || is_infant || is_total || is_room) {
        return None;
    }
    if is_child {
        // "kids aged 6 and 9", "our son (7)"
        if let Some((ages, end)) = read_ages(t, i + 1, false) {
            m.children.push(Children {
                count: None,
                ages,
                gender: gender(noun),
            });
            return Some(end);
        }
    }
    let mut k = i + 1;
    if matches!(t.sym(k), Some(':' | '-' | '|' | '=' | '#')) {
        k += 1;
    }
    let count = t.num(k).filter(|v| *v <= 60 && t.digits(k) <= 2)?;
    let count = u32::try_from(count).ok()?;
    if t.word(k + 1).is_some_and(|w| !matches!(w, "and" | "x")) && !t.line_start(k + 1) {
        return None;
    }
    if t.is_sym(k + 1, '/') || t.is_sym(k + 1, '.') && t.glued(k + 1) {
        return None;
    }
    let mut end = k + 1;
    if is_adult {
        m.adults.get_or_insert(count);
    } else if is_total {
        m.total.get_or_insert(count);
    } else if is_room {
        m.rooms.get_or_insert(count);
    } else if is_infant {
        end = read_ages(t, end, false).map_or(end, |(_, e)| e);
        let infants = m.infants.get_or_insert(0);
        *infants = (*infants).max(count);
    } else {
        let (ages, e) = read_ages(t, end, false).unwrap_or((Vec::new(), end));
        end = e;
        m.children.push(Children {
            count: Some(count),
            ages,
            gender: Gender::Any,
        });
    }
    Some(end)
}

/// Phrases: "a couple", "my wife and I", "family of four", "we are 4", "honeymoon",
/// "all adults", "just me".
fn phrase_at(t: &Tokens, i: usize, m: &mut Mentions) -> Option<usize> {
    let w = t.word(i)?;
    match w {
        "couple" if !t.is_word(i + 1, "of") && !t.is_word(i + 1, "more") => {
            m.couple = true;
            Some(i + 1)
        }
        "honeymoon" | "honeymooners" | "honeymooning" | "newlyweds" | "anniversary" => {
            m.couple = true;
            Some(i + 1)
        }
        "family" | "party" | "group" if t.is_word(i + 1, "of") => {
            let (n, end) = read_count(t, i + 2, false)?;
            if t.is_any(end, ADULT) {
                m.adults.get_or_insert(n);
                return Some(end + 1);
            }
            if w == "family" {
                m.family.get_or_insert(n);
            } else {
                m.total.get_or_insert(n);
            }
            Some(end)
        }
        "all" if t.is_any(i + 1, &["adults", "adult", "grownups"]) => {
            m.all_adults = true;
            Some(i + 2)
        }
        "we" | "there" => {
            // "we are 4", "there will be 6 of us"
            let mut k = i + 1;
            if t.is_word(k, "are")
                || t.is_word(k, "re")
                || t.is_sym(k, '\'') && t.is_word(k + 1, "re")
            {
                k += if t.is_sym(k, '\'') { 2 } else { 1 };
            } else if t.is_word(k, "will") && t.is_word(k + 1, "be") {
                k += 2;
            } else {
                return None;
            }
            let (n, end) = read_count(t, k, false)?;
            if t.word(end).is_some()
                && !t.is_any(
                    end,
                    &["of", "and", "in", "travelling", "traveling", "people"],
                )
            {
                return None;
            }
            if t.is_word(end, "of") && !t.is_word(end + 1, "us") {
                return None;
            }
            if t.is_sym(end, '/') || t.is_sym(end, '.') && t.glued(end) {
                return None;
            }
            m.total.get_or_insert(n);
            Some(end)
        }
        "solo" | "alone" => {
            m.solo = true;
            Some(i + 1)
        }
        "just" if t.is_any(i + 1, &["me", "myself"]) => {
            m.solo = true;
            Some(i + 2)
        }
        "my" | "myself" | "me" | "i" | "with" => relation_at(t, i, m),
        _ => None,
    }
}

/// "my wife and I", "me and my husband", "myself, my wife and my mother", "with my partner".
fn relation_at(t: &Tokens, i: usize, m: &mut Mentions) -> Option<usize> {
    if m.relations.is_some() {
        return None;
    }
    let lo = i;
    let hi = (i + 12).min(t.len());
    let mut rels = 0;
    let mut self_seen = false;
    let mut with = false;
    let mut k = lo;
    let mut last = lo;
    while k < hi {
        if k > lo && t.ends_sentence(k - 1) {
            break;
        }
        match t.word(k) {
            Some("my" | "our") => {
                if let Some(r) = t.word(k + 1).filter(|r| RELATION.contains(r)) {
                    rels += if r == "parents" { 2 } else { 1 };
                    last = k + 2;
                    k += 2;
                    continue;
                }
                if t.word(k + 1).is_some_and(|r| CHILD.contains(&r)) && rels > 0 {
                    // "my wife and my son and I": the son is a child, keep going.
                    k += 2;
                    continue;
                }
                if k > lo {
                    break;
                }
            }
            Some("i" | "me" | "myself") => {
                self_seen = true;
                last = k + 1;
            }
            Some("with") if k == lo => with = true,
            Some("and" | "plus") => {}
            Some(_) => {
                if k > lo {
                    break;
                }
            }
            None if t.is_sym(k, ',') || t.is_sym(k, '&') || t.is_sym(k, '\'') => {}
            None => break,
        }
        k += 1;
    }
    if rels == 0 || !(self_seen || with) {
        return None;
    }
    m.relations = Some(1 + rels);
    Some(last.max(i + 1))
}

/// Merges children mentions, counting the same children once.
fn reconcile_children(mentions: &[Children]) -> (u32, Vec<Age>) {
    let mut count = 0u32;
    let mut ages: Vec<Age> = Vec::new();
    let mut genders: Vec<Gender> = Vec::new();
    for c in mentions {
        let n = c.count.unwrap_or(0).max(c.ages.len() as u32);
        if n == 0 {
            continue;
        }
        if count == 0 {
            count = n;
            ages.clone_from(&c.ages);
            genders.push(c.gender);
            continue;
        }
        let mut pool = ages.clone();
        let subset = c.ages.iter().all(|a| {
            pool.iter()
                .position(|b| b == a)
                .map(|p| pool.swap_remove(p))
                .is_some()
        });
        let new_gender = c.gender != Gender::Any
            && !genders.contains(&c.gender)
            && genders.iter().all(|g| *g != Gender::Any);
        if subset && n <= count && !new_gender {
            continue; // the same children again
        }
        if ages.is_empty() && c.count.is_none() && c.ages.len() as u32 == count {
            ages.clone_from(&c.ages); // "2 kids … ages 6 and 9"
            continue;
        }
        count += n;
        ages.extend(c.ages.iter().copied());
        genders.push(c.gender);
    }
    (count, ages)
}

/// Finds the party in `t`.
pub fn find_party(t: &Tokens) -> Party {
    let mut m = Mentions::default();
    let mut i = 0;
    while i < t.len() {
        // Most tokens are none of these; the list bits say so without comparing words.
        let number = t.num(i).is_some();
        let mut next = None;
        if number || t.has(i, NUMBER) {
            next = counted_at(t, i, &mut m);
        }
        if next.is_none() && number {
            next = age_noun_at(t, i, &mut m);
        }
        if next.is_none() && t.has(i, L_ADULT | L_CHILD | L_INFANT | L_TOTAL | L_ROOM) {
            next = labelled_at(t, i, &mut m);
        }
        if next.is_none() && t.has(i, PARTY_PHRASE) {
            next = phrase_at(t, i, &mut m);
        }
        i = next.filter(|n| *n > i).unwrap_or(i + 1);
    }
    let (child_count, ages) = reconcile_children(&m.children);
    let mut party = Party::default();
    let mut infants = m.infants.unwrap_or(0);
    let mut with_age = 0;
    for a in &ages {
        match a.years() {
            0 | 1 => infants += 1,
            y @ 2..=17 => {
                party.children_ages.push(y);
                with_age += 1;
            }
            _ => with_age += 1, // an adult "child" is not a child to price
        }
    }
    let under_two = ages.iter().filter(|a| a.years() < 2).count() as u32;
    party.children_without_age = child_count.saturating_sub(with_age + under_two);
    party.infants = infants;
    let kids = party.children_ages.len() as u32 + party.children_without_age + infants;
    party.adults = if let Some(a) = m.adults {
        Some(a)
    } else if let Some(total) = m.total {
        if m.all_adults || kids == 0 || kids >= total {
            Some(total)
        } else {
            Some(total - kids)
        }
    } else if let Some(n) = m.family {
        if kids > 0 && kids < n {
            Some(n - kids)
        } else if kids == 0 && n >= 3 {
            party.children_without_age = n - 2;
            party.note = Some(format!(
                "family of {n}: 2 adults and {} children assumed",
                n - 2
            ));
            Some(2)
        } else {
            None
        }
    } else if let Some(r) = m.relations {
        Some(r)
    } else if m.couple {
        Some(2)
    } else if m.solo {
        Some(1)
    } else {
        None
    };
    party.adults = party.adults.filter(|a| (1..=50).contains(a));
    party.rooms = m.rooms.filter(|r| (1..=20).contains(r));
    party
}

#[cfg(test)]
mod tests {
    use super::*;

    fn party(text: &str) -> Party {
        find_party(&Tokens::new(text))
    }

    fn summary(text: &str) -> (Option<u32>, Vec<u32>, u32, u32) {
        let p = party(text);
        (p.adults, p.children_ages, p.children_without_age, p.infants)
    }

    #[test]
    fn adults_and_children_with_ages_are_counted() {
        assert_eq!(
            summary("We are 2 adults and 2 kids aged 6 and 9."),
            (Some(2), vec![6, 9], 0, 0)
        );
        assert_eq!(
            summary("two adults, two children (6 & 9)"),
            (Some(2), vec![6, 9], 0, 0)
        );
        assert_eq!(
            summary("2 adults + 3 children (ages 4, 7 and 12)"),
            (Some(2), vec![4, 7, 12], 0, 0)
        );
        assert_eq!(
            summary("2 adults and 2 kids, 6 and 9 years old"),
            (Some(2), vec![6, 9], 0, 0)
        );
    }

    #[test]
    fn children_ages_in_other_phrasings_are_read() {
        assert_eq!(
            summary("2 adults and a 7-year-old"),
            (Some(2), vec![7], 0, 0)
        );
        assert_eq!(
            summary("my husband and I with our son (7)"),
            (Some(2), vec![7], 0, 0)
        );
        assert_eq!(
            summary("2 adults, kids aged 4 and 11"),
            (Some(2), vec![4, 11], 0, 0)
        );
        assert_eq!(
            summary("two adults with a 10 year old daughter and a 5yo son"),
            (Some(2), vec![10, 5], 0, 0)
        );
        assert_eq!(
            summary("a son and a daughter, 2 adults"),
            (Some(2), vec![], 2, 0)
        );
        assert_eq!(
            summary("two adults, our son who is 4"),
            (Some(2), vec![4], 0, 0)
        );
        assert_eq!(
            summary("A family of four (kids 8 and 11)"),
            (Some(2), vec![8, 11], 0, 0)
        );
    }

    #[test]
    fn children_mentioned_twice_are_counted_once() {
        assert_eq!(
            summary("2 adults and 2 kids. The kids are 6 and 9."),
            (Some(2), vec![6, 9], 0, 0)
        );
        assert_eq!(
            summary("2 adults, 2 kids aged 6 and 9. The 2 kids love snorkelling."),
            (Some(2), vec![6, 9], 0, 0)
        );
        assert_eq!(
            summary("2 boys aged 6 and 9 and a girl aged 4, 2 adults"),
            (Some(2), vec![6, 9, 4], 0, 0)
        );
    }

    #[test]
    fn infants_come_from_many_phrasings() {
        assert_eq!(summary("2 adults and a baby"), (Some(2), vec![], 0, 1));
        assert_eq!(
            summary("two adults and an infant of 10 months"),
            (Some(2), vec![], 0, 1)
        );
        assert_eq!(summary("2 adults, 1 infant"), (Some(2), vec![], 0, 1));
        assert_eq!(
            summary("Adults 2\nInfant 1 (11 months)"),
            (Some(2), vec![], 0, 1)
        );
        assert_eq!(
            summary("2 adults with an 18-month-old"),
            (Some(2), vec![], 0, 1)
        );
        assert_eq!(
            summary("2 adults, 2 kids aged 1 and 5"),
            (Some(2), vec![5], 0, 1)
        );
    }

    #[test]
    fn couples_and_relations_imply_adults() {
        assert_eq!(party("We are a couple looking for a break").adults, Some(2));
        assert_eq!(party("me and my wife would love to go").adults, Some(2));
        assert_eq!(
            party("Hi, my wife and I want to see Victoria Falls").adults,
            Some(2)
        );
        assert_eq!(party("My husband, my mother and I").adults, Some(3));
        assert_eq!(party("It's our honeymoon!").adults, Some(2));
        assert_eq!(party("two couples").adults, Some(4));
        assert_eq!(party("a couple of nights in Cape Town").adults, None);
        assert_eq!(party("My friend recommended you").adults, None);
    }

    #[test]
    fn totals_subtract_the_children() {
        assert_eq!(
            party("Four of us (all adults) want 7 nights").adults,
            Some(4)
        );
        assert_eq!(
            summary("6 people: 2 kids aged 3 and 5"),
            (Some(4), vec![3, 5], 0, 0)
        );
        assert_eq!(party("we are 4 travelling in July").adults, Some(4));
        assert_eq!(party("there will be 5 of us").adults, Some(5));
        assert_eq!(party("No. of guests: 3").adults, Some(3));
    }

    #[test]
    fn a_family_of_n_is_read_carefully() {
        assert_eq!(
            summary("family of four, kids aged 6 and 9"),
            (Some(2), vec![6, 9], 0, 0)
        );
        let p = party("we are a family of four");
        assert_eq!((p.adults, p.children_without_age), (Some(2), 2));
        assert!(p.note.is_some());
        assert_eq!(party("a family of 5 adults").adults, Some(5));
    }

    #[test]
    fn rooms_are_read_when_stated() {
        assert_eq!(party("2 adults, 2 rooms please").rooms, Some(2));
        assert_eq!(party("two separate rooms").rooms, Some(2));
        assert_eq!(party("Rooms: 3").rooms, Some(3));
        assert_eq!(party("room only is fine").rooms, None);
    }

    #[test]
    fn dates_and_money_are_not_people() {
        assert_eq!(
            summary("from 12 to 19 March 2027, R60,000"),
            (None, vec![], 0, 0)
        );
        assert_eq!(party("Room 12 is lovely, 2027 visit").rooms, None);
    }
}
