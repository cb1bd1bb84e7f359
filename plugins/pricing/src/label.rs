//! Component labels, written by appending text and numbers to one string.
//!
//! `format!` goes through `core::fmt`'s dynamic dispatch and padding rules, and builds a
//! string per piece; in a metered WebAssembly call that cost more than a line's arithmetic.
//! Labels need none of it: they are words and whole numbers.

/// Appends `n` in decimal.
pub fn number(out: &mut String, n: u64) {
    padded(out, n, 1);
}

/// Appends `n` in decimal with at least `width` digits, zero-padded (`05`).
pub fn padded(out: &mut String, n: u64, width: usize) {
    let (buffer, start) = digits(n);
    for _ in buffer.len() - start..width {
        out.push('0');
    }
    push_digits(out, &buffer[start..]);
}

/// Appends `n` in decimal with a comma between groups of three digits (`1,234,567`).
pub fn grouped(out: &mut String, n: u64) {
    let (buffer, start) = digits(n);
    let digits = &buffer[start..];
    let first = match digits.len() % 3 {
        0 => 3,
        n => n,
    };
    push_digits(out, &digits[..first]);
    for group in digits[first..].chunks(3) {
        out.push(',');
        push_digits(out, group);
    }
}

/// Appends ASCII digits one by one: cheaper than checking them as UTF-8 for `push_str`,
/// since a label's numbers are a few digits long.
fn push_digits(out: &mut String, digits: &[u8]) {
    for &d in digits {
        out.push(char::from(d));
    }
}

/// `1 adult`, `2 adults`.
pub fn count(out: &mut String, n: usize, one: &str, many: &str) {
    number(out, n as u64);
    out.push(' ');
    out.push_str(if n == 1 { one } else { many });
}

/// The ASCII digits of `n`, right-aligned in the buffer from the returned index. Labels'
/// numbers are 64-bit: WebAssembly divides those natively, where 128-bit division is a
/// library call of hundreds of instructions.
fn digits(mut n: u64) -> ([u8; 20], usize) {
    let mut buffer = [0_u8; 20];
    let mut start = buffer.len();
    loop {
        start -= 1;
        buffer[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
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
        for n in [0_u64, 7, 10, 99, 100, 12_345, u64::MAX] {
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
        assert_eq!(
            with(|o| grouped(o, u64::MAX)),
            ">18,446,744,073,709,551,615"
        );
    }

    #[test]
    fn counts_agree_in_number() {
        assert_eq!(with(|o| count(o, 1, "adult", "adults")), ">1 adult");
        assert_eq!(with(|o| count(o, 2, "adult", "adults")), ">2 adults");
        assert_eq!(with(|o| count(o, 0, "infant", "infants")), ">0 infants");
    }
}
