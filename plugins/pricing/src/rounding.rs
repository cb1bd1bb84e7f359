//! Rounding each option's total to a step (e.g. R 100) from the `rounding` configuration
//! key, and putting the difference where the components still add up.

use caravan_sdk::PluginError;
use serde::Deserialize;

use crate::arith::div_round;
use crate::line::Part;

/// `{"step_minor": 10000, "mode": "up"}`: totals become multiples of `step_minor` minor
/// units of the quote currency.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rounding {
    pub step_minor: i64,
    #[serde(default)]
    pub mode: Mode,
}

/// Which way a total goes to reach a step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The next step up (never below the exact price).
    Up,
    /// The nearest step, halves up.
    #[default]
    Nearest,
}

impl Rounding {
    /// A step must be at least one minor unit.
    pub fn validate(&self) -> Result<(), PluginError> {
        if self.step_minor < 1 {
            return Err(PluginError::new(
                "invalid-config",
                format!(
                    "The rounding step must be at least 1 minor unit, not {}.",
                    self.step_minor
                ),
            ));
        }
        Ok(())
    }

    /// `total` (zero or more) rounded to the step.
    pub fn apply(&self, total: i128) -> i128 {
        let step = i128::from(self.step_minor.max(1));
        match self.mode {
            Mode::Up => (total + step - 1).div_euclid(step) * step,
            Mode::Nearest => div_round(total, step) * step,
        }
    }
}

/// Adds `diff` to the option's lines so their components still add up to the rounded
/// total: a rise is its own `Rounding` component on the last line; a fall comes out of the
/// last components (markup and currency buffer first), because amounts may not be negative.
pub fn settle<'a>(mut lines: impl DoubleEndedIterator<Item = &'a mut Vec<Part>>, diff: i128) {
    if diff > 0 {
        if let Some(last) = lines.next_back() {
            last.push(Part::new("Rounding", diff));
        }
        return;
    }
    let mut owed = -diff;
    for part in lines.rev().flat_map(|parts| parts.iter_mut().rev()) {
        if owed == 0 {
            break;
        }
        let taken = owed.min(part.amount);
        if taken > 0 {
            part.amount -= taken;
            part.label.push_str(", less rounding");
            owed -= taken;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(step: i64) -> Rounding {
        Rounding {
            step_minor: step,
            mode: Mode::Up,
        }
    }

    fn nearest(step: i64) -> Rounding {
        Rounding {
            step_minor: step,
            mode: Mode::Nearest,
        }
    }

    #[test]
    fn up_goes_to_the_next_step_unless_already_on_one() {
        assert_eq!(up(10_000).apply(4_860_001), 4_870_000);
        assert_eq!(up(10_000).apply(4_860_000), 4_860_000);
        assert_eq!(up(10_000).apply(0), 0);
        assert_eq!(up(10_000).apply(1), 10_000);
    }

    #[test]
    fn nearest_goes_either_way_with_halves_up() {
        assert_eq!(nearest(10_000).apply(4_864_999), 4_860_000);
        assert_eq!(nearest(10_000).apply(4_865_000), 4_870_000);
    }

    #[test]
    fn the_mode_defaults_to_nearest_and_must_be_known() {
        let r: Rounding = serde_json::from_str(r#"{"step_minor": 100}"#).unwrap();
        assert_eq!(r.mode, Mode::Nearest);
        let r: Rounding = serde_json::from_str(r#"{"step_minor": 100, "mode": "up"}"#).unwrap();
        assert_eq!(r.mode, Mode::Up);
        assert!(
            serde_json::from_str::<Rounding>(r#"{"step_minor": 100, "mode": "down"}"#).is_err()
        );
    }

    #[test]
    fn a_step_below_one_is_invalid_config() {
        assert_eq!(up(0).validate().unwrap_err().code, "invalid-config");
        assert!(up(1).validate().is_ok());
    }

    #[test]
    fn rounding_up_adds_a_rounding_component_to_the_last_line() {
        let mut lines = [vec![Part::new("a", 10)], vec![Part::new("b", 20)]];
        settle(lines.iter_mut(), 5);
        assert_eq!(lines[1][1], Part::new("Rounding", 5));
    }

    #[test]
    fn rounding_down_comes_out_of_the_last_components_first() {
        let mut lines = [
            vec![Part::new("rooms", 1_000)],
            vec![Part::new("transfer", 100), Part::new("Markup 10%", 10)],
        ];
        settle(lines.iter_mut(), -30);
        assert_eq!(lines[1][1], Part::new("Markup 10%, less rounding", 0));
        assert_eq!(lines[1][0], Part::new("transfer, less rounding", 80));
        assert_eq!(lines[0][0], Part::new("rooms", 1_000));
    }
}
