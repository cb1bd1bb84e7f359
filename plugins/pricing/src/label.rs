//! Component labels, written by appending text and numbers to one string.
//!
//! `format!` goes through `core::fmt`'s dynamic dispatch and padding rules, and builds a
//! string per piece; in a metered WebAssembly call that cost more than a line's arithmetic.
//! Labels need none of it: they are words and whole numbers.

/// Appends `n` in decimal.
pub fn number(out: &mut String, n: u128) {
    padded(out, n, 1);
}

/// Appends `n` in decimal with at least `width` digits, zero-padded (`05`).
pub fn padded(out: &mut String, n: u128, width: usize) {
    let (buffer, start) = digits(n);
    for _ in buffer.len() - start..width {
        out.push('0');
    }
    out.push_str(ascii(&buffer[start..]));
}

/// Appends `n` in decimal with a comma between groups of three digits (`1,234,567`).
pub fn grouped(out: &mut String, n: u128) {
    let (buffer, start) = digits(n);
    let digits = &buffer[start..];
    let first = match digits.len() % 3 {
        0 => 3,
        n => n,
    };
    out.push_str(ascii(&digits[..first]));
    for group in digits[first..].chunks(3) {
        out.push(',');
        out.push_str(ascii(group));
    }
}

/// Digits as text (always valid: they are ASCII).
fn ascii(digits: &[u8]) -> &str {
    std::str::from_utf8(digits).unwrap_or_default()
}

/// `1 adult`, `2 adults`.
pub fn count(out: &mut String, n: usize, one: &str, many: &str) {
    number(out, n as u128);
    out.push(' ');
    out.push_str(if n == 1 { one } else { many });
}

/// The ASCII digits of `n`, right-aligned in the buffer from the returned index.
fn digits(n: u128) -> ([u8; 39], usize) {
    let mut buffer = [0_u8; 39];
    let mut start = buffer.len();
    // Labels' numbers fit in 64 bits, which WebAssembly divides natively; 128-bit division
    // is a library call.
    let mut push = |d: u8| {
        start -= 1;
        buffer[start] = b'0' + d;
    };
    match u64::try_from(n) {
        Ok(mut small) => loop {
            push((small % 10) as u8);
            small /= 10;
            if small == 0 {
                break;
            }
        },
        Err(_) => {
            let mut rest = n;
            loop {
                push((rest % 10) as u8);
                rest /= 10;
                if rest == 0 {
                    break;
                }
            }
        }
    }
    (buffer, start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(f: impl FnOnce(&mut String)) -> String {
        let mut out = String::from(">");
        f(&mut out);
        out
    }

    #[test]
    fn numbers_read_as_format_writes_them() {
        for n in [0_u128, 7, 10, 99, 100, 12_345, u64::MAX as u128, u128::MAX] {
            assert_eq!(with(|o| number(o, n)), format!(">{n}"));
            assert_eq!(with(|o| padded(o, n, 3)), format!(">{n:03}"));
        }
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(with(|o| grouped(o, 0)), ">0");
        assert_eq!(with(|o| grouped(o, 999)), ">999");
        assert_eq!(with(|o| grouped(o, 1_000)), ">1,000");
        assert_eq!(with(|o| grouped(o, 123_456_789)), ">123,456,789");
        assert_eq!(with(|o| grouped(o, 12_345_678)), ">12,345,678");
    }

    #[test]
    fn counts_agree_in_number() {
        assert_eq!(with(|o| count(o, 1, "adult", "adults")), ">1 adult");
        assert_eq!(with(|o| count(o, 2, "adult", "adults")), ">2 adults");
        assert_eq!(with(|o| count(o, 0, "infant", "infants")), ">0 infants");
    }
}
