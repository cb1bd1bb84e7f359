//! The customer's budget: "R60 000", "USD 8,000", "€5k pp", "£4,500 per person",
//! "budget of about 12k", converted to integer minor units of the currency written.

use crate::currency::{self, Written};
use crate::lexicon::CURRENCY;
use crate::tokens::Tokens;

/// A budget found in the email.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundBudget {
    /// Minor units of `currency`.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// Stated per person.
    pub per_person: bool,
    /// Stated per night (the caller multiplies by the nights when it knows them).
    pub per_night: bool,
}

/// An amount as written: digits without the decimal point, and how many decimals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Amount {
    mantissa: u128,
    decimals: u32,
    multiplier: u128,
}

impl Amount {
    /// The amount in minor units of a currency with `exponent` decimals, rounded.
    fn minor(self, exponent: u32) -> Option<i64> {
        let scaled = self
            .mantissa
            .checked_mul(self.multiplier)?
            .checked_mul(10u128.checked_pow(exponent)?)?;
        let div = 10u128.checked_pow(self.decimals)?;
        let v = (scaled + div / 2) / div;
        i64::try_from(v).ok().filter(|v| *v < 1_000_000_000_000_000)
    }

    /// Whole major units, for sanity checks.
    fn major(self) -> u128 {
        self.mantissa.saturating_mul(self.multiplier) / 10u128.pow(self.decimals.min(30))
    }
}

/// Reads an amount at `i`: "60000", "60,000", "60 000", "6.500", "8,000.50", "12k", "1.2m",
/// "15 thousand". Returns it and the index after it.
fn amount_at(t: &Tokens, i: usize) -> Option<(Amount, usize)> {
    let first = t.num(i)?;
    let first_digits = t.digits(i);
    if first_digits > 12 {
        return None;
    }
    let mut mantissa = u128::from(first);
    let mut k = i + 1;
    let mut group_sep: Option<char> = None;
    loop {
        let sep = t.sym(k);
        let glued_group = matches!(sep, Some(',' | '.' | '\''))
            && t.glued(k)
            && t.glued(k + 1)
            && t.digits(k + 1) == 3
            && group_sep.is_none_or(|g| Some(g) == sep);
        if glued_group {
            // "1.5.2027" or "10.06.2027" is a date, not an amount.
            if t.glued(k + 2) && t.num(k + 3).is_some() && t.sym(k + 2) == sep && sep == Some('.') {
                return None;
            }
            mantissa = mantissa * 1000 + u128::from(t.num(k + 1)?);
            group_sep = sep;
            k += 2;
            continue;
        }
        let spaced_group = t.digits(k) == 3
            && !t.glued(k)
            && !t.line_start(k)
            && first_digits <= 3
            && group_sep.is_none_or(|g| g == ' ');
        let date_like = t.glued(k + 1) && matches!(t.sym(k + 1), Some('/' | ':'));
        if spaced_group && !date_like {
            mantissa = mantissa * 1000 + u128::from(t.num(k)?);
            group_sep = Some(' ');
            k += 1;
            continue;
        }
        break;
    }
    let mut decimals = 0;
    if let Some(sep @ ('.' | ',')) = t.sym(k) {
        let d = t.digits(k + 1);
        let fits = (1..=2).contains(&d) || d == 3 && group_sep.is_some();
        if t.glued(k) && t.glued(k + 1) && fits && group_sep != Some(sep) {
            mantissa = mantissa * 10u128.pow(d as u32) + u128::from(t.num(k + 1)?);
            decimals = d as u32;
            k += 2;
        }
    }
    let mut multiplier = 1;
    match t.word(k) {
        Some("k") => {
            multiplier = 1000;
            k += 1;
        }
        Some("thousand" | "grand") if !t.glued(k) => {
            multiplier = 1000;
            k += 1;
        }
        Some("m" | "mil" | "mill" | "mn") if t.glued(k) => {
            multiplier = 1_000_000;
            k += 1;
        }
        Some("million") => {
            multiplier = 1_000_000;
            k += 1;
        }
        _ => {}
    }
    Some((
        Amount {
            mantissa,
            decimals,
            multiplier,
        },
        k,
    ))
}

/// A currency written before an amount at `i`; returns it and the index of the amount.
fn currency_before(t: &Tokens, i: usize) -> Option<(Written, usize)> {
    if let Some(c) = t.sym(i).and_then(currency::symbol) {
        return Some((c, i + 1));
    }
    let w = t.word(i)?;
    // "US$", "N$", "R$"
    if t.is_sym(i + 1, '$')
        && t.glued(i + 1)
        && let Some(c) = currency::dollar_prefix(w)
    {
        return Some((c, i + 2));
    }
    if !t.has(i, CURRENCY) {
        return None;
    }
    let c = currency::code(t.raw(i), w)?;
    let mut j = i + 1;
    if t.is_sym(j, '.') && t.glued(j) && w == "rs" {
        j += 1;
    }
    // A lone "R" must be followed closely by its amount ("R60 000", "R 60,000").
    if t.raw(i) == "R" && (t.line_start(j) || i >= 1 && t.glued(i) && t.word(i - 1).is_some()) {
        return None;
    }
    Some((c, j))
}

/// A currency written after an amount ending at `k`.
fn currency_after(t: &Tokens, k: usize) -> Option<(Written, usize)> {
    if t.line_start(k) {
        return None;
    }
    if let Some(c) = t.sym(k).and_then(currency::symbol) {
        return Some((c, k + 1));
    }
    if !t.has(k, CURRENCY) {
        return None;
    }
    let w = t.word(k)?;
    if let Some(c) = currency::word(w) {
        return Some((c, k + 1));
    }
    let c = currency::code(t.raw(k), w)?;
    if t.raw(k) == "R" {
        return None;
    }
    Some((c, k + 1))
}

/// A sum of money at `i`, with or without a currency.
#[derive(Clone, Copy, Debug)]
struct Mention {
    amount: Amount,
    currency: Option<Written>,
    start: usize,
    end: usize,
}

fn money_at(t: &Tokens, i: usize) -> Option<Mention> {
    money_at_guarded(t, i, true)
}

/// `money_at`; without `guard`, a number glued after `-` or `/` is read too (the second
/// end of "R50-60k").
fn money_at_guarded(t: &Tokens, i: usize, guard: bool) -> Option<Mention> {
    if let Some((c, j)) = currency_before(t, i) {
        let (amount, end) = amount_at(t, j)?;
        return Some(Mention {
            amount,
            currency: Some(c),
            start: i,
            end,
        });
    }
    let (amount, end) = amount_at(t, i)?;
    if guard && i >= 1 && t.glued(i) && matches!(t.sym(i - 1), Some('/' | '.' | '-' | ':' | '+')) {
        return None;
    }
    if let Some((c, e)) = currency_after(t, end) {
        return Some(Mention {
            amount,
            currency: Some(c),
            start: i,
            end: e,
        });
    }
    Some(Mention {
        amount,
        currency: None,
        start: i,
        end,
    })
}

const BUDGET_WORDS: &[&str] = &["budget", "spend", "afford", "budgeted", "budgeting"];
const SOFT_WORDS: &[&str] = &[
    "max",
    "maximum",
    "up",
    "under",
    "below",
    "around",
    "about",
    "roughly",
    "approximately",
    "approx",
    "have",
    "pay",
    "total",
    "range",
    "between",
    "than",
];
const NOT_BUDGET: &[&str] = &[
    "deposit",
    "paid",
    "cost",
    "costs",
    "flight",
    "flights",
    "refund",
    "invoice",
    "balance",
    "fee",
    "fees",
    "ref",
    "reference",
    "quote",
    "quoted",
    "account",
    "no",
    "number",
];

/// Which of per person / per night / in total the words after (or just before) a mention
/// say.
fn basis(t: &Tokens, m: &Mention) -> (Option<bool>, bool) {
    let mut per_person = None;
    let mut per_night = false;
    let mut check = |k: usize| {
        let w = t.word(k).unwrap_or("");
        let next = t.word(k + 1).unwrap_or("");
        match w {
            "pp" | "pps" | "ppn" | "pppn" | "ppp" => {
                per_person = Some(true);
                if w == "pppn" || w == "ppn" {
                    per_night = true;
                }
            }
            "p" if t.is_sym(k + 1, '.') && t.is_word(k + 2, "p") => per_person = Some(true),
            "per" | "a" | "each"
                if matches!(next, "person" | "head" | "adult" | "pax" | "persons") =>
            {
                per_person = Some(true);
            }
            "each" if per_person.is_none() && k == m.end => per_person = Some(true),
            "per" | "a" if matches!(next, "night" | "nite") => per_night = true,
            "nightly" | "pn" => per_night = true,
            "total" | "altogether" | "everyone" | "everything" => {
                per_person = per_person.or(Some(false))
            }
            "whole" | "both" | "all"
                if matches!(
                    next,
                    "family" | "of" | "group" | "party" | "trip" | "in" | "us"
                ) =>
            {
                per_person = per_person.or(Some(false));
            }
            _ => {}
        }
    };
    let hi = (m.end + 7).min(t.len());
    for k in m.end..hi {
        if k > m.end && t.ends_sentence(k - 1) {
            break;
        }
        check(k);
    }
    let lo = m.start.saturating_sub(4);
    for k in lo..m.start {
        if !t.sentence_between(k, m.start) {
            check(k);
        }
    }
    (per_person, per_night)
}

/// How likely a sum is the budget: budget words before it score, payment words count
/// against it.
fn context_score(t: &Tokens, m: &Mention) -> i32 {
    let lo = m.start.saturating_sub(10);
    let mut score = 0;
    for k in lo..m.start {
        if t.sentence_between(k, m.start) {
            continue;
        }
        if t.is_any(k, BUDGET_WORDS) {
            score += 3;
        } else if t.is_any(k, SOFT_WORDS) {
            score += 1;
        } else if t.is_any(k, NOT_BUDGET) {
            score -= 4;
        }
    }
    let hi = (m.end + 4).min(t.len());
    for k in m.end..hi {
        if t.is_any(k, &["budget"]) {
            score += 3;
        }
    }
    score
}

/// The upper end of a range written after `m`: "R50 000 - R60 000", "between $5k and $7k".
fn range_end(t: &Tokens, m: &Mention) -> Option<Mention> {
    let k = m.end;
    let next = if t.is_sym(k, '-') || t.is_any(k, &["to", "and"]) {
        k + 1
    } else {
        return None;
    };
    let other = money_at_guarded(t, next, false)?;
    (other.currency.is_none() || other.currency == m.currency).then_some(other)
}

/// Finds the budget. `home` is the tenant's currency, used for amounts written without one.
pub fn find_budget(t: &Tokens, home: &str) -> Option<FoundBudget> {
    let mut best: Option<(i32, Mention, Option<Mention>)> = None;
    let mut i = 0;
    while i < t.len() {
        let Some(m) = money_at(t, i) else {
            i += 1;
            continue;
        };
        let upper = range_end(t, &m);
        let end = upper.map_or(m.end, |u| u.end);
        let mut score = 0;
        if m.currency.is_none() {
            // A bare number is a budget only right after a budget word: "budget: 60 000".
            let near = (m.start.saturating_sub(5)..m.start)
                .any(|k| t.is_any(k, BUDGET_WORDS) && !t.sentence_between(k, m.start));
            let unit_after = t.word(end).is_some_and(|w| {
                !matches!(
                    w,
                    "pp" | "per" | "for" | "in" | "total" | "each" | "max" | "or" | "and" | "k"
                )
            }) && !t.line_start(end);
            if !near || unit_after || m.amount.multiplier == 1 && m.amount.major() < 1000 {
                i = m.end.max(i + 1);
                continue;
            }
            score -= 1;
        }
        score += context_score(t, &m);
        let major = upper.map_or(m.amount, |u| u.amount).major();
        if major >= 50 && score >= 0 && best.as_ref().is_none_or(|(s, _, _)| score > *s) {
            best = Some((score, m, upper));
        }
        i = end.max(i + 1);
    }
    let (_, m, upper) = best?;
    let code = m
        .currency
        .or(upper.and_then(|u| u.currency))
        .map_or_else(|| home.to_owned(), |c| c.resolve(home));
    let mut amount = upper.map_or(m.amount, |u| u.amount);
    if let Some(u) = upper {
        // "R50-60k": the multiplier written once applies to both ends.
        if m.amount.multiplier > 1 && u.amount.multiplier == 1 {
            amount.multiplier = m.amount.multiplier;
        }
    }
    let amount_minor = amount.minor(currency::exponent(&code))?;
    let whole = Mention {
        end: upper.map_or(m.end, |u| u.end),
        ..m
    };
    let (per_person, per_night) = basis(t, &whole);
    Some(FoundBudget {
        amount_minor,
        currency: code,
        per_person: per_person.unwrap_or(false),
        per_night,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(text: &str) -> Option<(i64, String, bool)> {
        find_budget(&Tokens::new(text), "ZAR").map(|b| (b.amount_minor, b.currency, b.per_person))
    }

    fn expect(text: &str, minor: i64, code: &str, pp: bool) {
        assert_eq!(budget(text), Some((minor, code.to_owned(), pp)), "{text}");
    }

    #[test]
    fn rand_amounts_in_local_spellings_are_read() {
        expect(
            "Our budget is around R60,000 in total.",
            6_000_000,
            "ZAR",
            false,
        );
        expect("budget R60 000", 6_000_000, "ZAR", false);
        expect("about R 60,000 for everything", 6_000_000, "ZAR", false);
        expect("ZAR 60000", 6_000_000, "ZAR", false);
        expect(
            "We can spend about R15 000 per person.",
            1_500_000,
            "ZAR",
            true,
        );
        expect("60 000 rand max", 6_000_000, "ZAR", false);
        expect("a budget of R1.2m", 120_000_000, "ZAR", false);
    }

    #[test]
    fn foreign_currencies_are_read_by_symbol_code_or_word() {
        expect(
            "We have roughly USD 8,000 for the whole family.",
            800_000,
            "USD",
            false,
        );
        expect("$8,000", 800_000, "USD", false);
        expect("€5k pp", 500_000, "EUR", true);
        expect("£4,500 per person sharing", 450_000, "GBP", true);
        expect("Budget: 6.500 € for both of us.", 650_000, "EUR", false);
        expect("budget USD 12k.", 1_200_000, "USD", false);
        expect("around 2,500 euros each", 250_000, "EUR", true);
        expect("¥300,000 budget", 300_000, "JPY", false);
        expect("US$ 9 500.50 in total", 950_050, "USD", false);
        expect("KWD 1,250.500", 1_250_500, "KWD", false);
    }

    #[test]
    fn bare_numbers_count_only_after_budget_words() {
        expect("Our budget is 12k", 1_200_000, "ZAR", false);
        expect("budget: 45 000 pp", 4_500_000, "ZAR", true);
        assert_eq!(budget("We are 2 adults from 12 to 19 March 2027"), None);
        assert_eq!(budget("budget for 2 adults"), None);
        assert_eq!(budget("call 082 555 0147"), None);
    }

    #[test]
    fn ranges_take_the_upper_end() {
        expect("budget R50 000 - R60 000", 6_000_000, "ZAR", false);
        expect("between $5k and $7k", 700_000, "USD", false);
        expect("budget R50-60k", 6_000_000, "ZAR", false);
    }

    #[test]
    fn payments_are_not_budgets() {
        assert_eq!(budget("We paid a deposit of R5 000 last year."), None);
        expect(
            "Flights cost $800. Our budget is $6,000.",
            600_000,
            "USD",
            false,
        );
    }

    #[test]
    fn per_night_budgets_are_flagged() {
        let b = find_budget(&Tokens::new("up to R3 000 per night"), "ZAR").unwrap();
        assert!(b.per_night);
        assert_eq!(b.amount_minor, 300_000);
    }
}
