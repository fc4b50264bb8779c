//! Numeric options with bounds, refused in words: clap then prints
//! `invalid value '0' for '--idle-timeout <SECS>': must be at least 1 second`.

use std::fmt::Display;
use std::str::FromStr;

/// A whole number between `min` and `max` (inclusive), counted in `unit` (singular; an "s"
/// is added for other counts than one).
#[derive(Debug, Clone, Copy)]
pub(super) struct Bounded<T> {
    min: T,
    max: Option<T>,
    unit: &'static str,
}

impl<T> Bounded<T> {
    pub(super) const fn at_least(min: T, unit: &'static str) -> Bounded<T> {
        Bounded {
            min,
            max: None,
            unit,
        }
    }

    pub(super) const fn between(min: T, max: T, unit: &'static str) -> Bounded<T> {
        Bounded {
            min,
            max: Some(max),
            unit,
        }
    }
}

impl<T> Bounded<T>
where
    T: Copy + PartialOrd + FromStr + Display + From<u8>,
{
    /// The value, or the sentence that refuses it.
    pub(super) fn check(&self, text: &str) -> Result<T, String> {
        let value: T = text.trim().parse().map_err(|_| {
            format!(
                "must be a whole number of {}{}",
                plural(self.unit),
                self.range_words()
            )
        })?;
        if value < self.min {
            return Err(format!("must be at least {}", self.amount(self.min)));
        }
        if let Some(max) = self.max
            && value > max
        {
            return Err(format!("must be at most {}", self.amount(max)));
        }
        Ok(value)
    }

    /// The parser for clap's `value_parser`.
    pub(super) fn parser(self) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
    where
        T: Send + Sync + 'static,
    {
        move |text| self.check(text)
    }

    fn amount(&self, n: T) -> String {
        if n == T::from(1) {
            format!("{n} {}", self.unit)
        } else {
            format!("{n} {}", plural(self.unit))
        }
    }

    fn range_words(&self) -> String {
        match self.max {
            Some(max) => format!(" from {} to {max}", self.min),
            None => format!(", at least {}", self.min),
        }
    }
}

fn plural(unit: &str) -> String {
    // Abbreviations (KiB, MB) and words already plural stay as they are.
    if unit.ends_with('s') || unit.is_empty() || unit.chars().any(char::is_uppercase) {
        unit.to_string()
    } else {
        format!("{unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_sentences() {
        let secs = Bounded::<u64>::at_least(1, "second");
        assert_eq!(
            secs.check("0"),
            Err("must be at least 1 second".to_string())
        );
        assert_eq!(secs.check("5"), Ok(5));
        assert_eq!(
            secs.check("five"),
            Err("must be a whole number of seconds, at least 1".to_string())
        );
        let bytes = Bounded::<i32>::between(64, 262_144, "byte");
        assert_eq!(
            bytes.check("10"),
            Err("must be at least 64 bytes".to_string())
        );
        assert_eq!(
            bytes.check("300000"),
            Err("must be at most 262144 bytes".to_string())
        );
        assert_eq!(
            bytes.check("-"),
            Err("must be a whole number of bytes from 64 to 262144".to_string())
        );
        let flows = Bounded::<u64>::at_least(2, "flow");
        assert_eq!(
            flows.check("1"),
            Err("must be at least 2 flows".to_string())
        );
    }
}
