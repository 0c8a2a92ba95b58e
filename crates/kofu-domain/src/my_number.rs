//! 個人番号 (My Number): the 12-digit number whose last digit is a check digit
//! computed by the formula of 行政手続における特定の個人を識別するための番号の利用等に関する法律施行令 第8条.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A validated 個人番号. Its `Debug` form is masked so that it never reaches a log.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MyNumber(String);

/// Why a string is not a valid 個人番号.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MyNumberError {
    /// Not exactly twelve ASCII digits.
    #[error("must be exactly 12 digits")]
    Format,
    /// The twelfth digit is not the check digit of the first eleven.
    #[error("check digit is {found}, expected {expected}")]
    CheckDigit {
        /// The digit given.
        found: u8,
        /// The digit the formula gives.
        expected: u8,
    },
}

/// The check digit for the first eleven digits (most significant first).
pub fn check_digit(first_eleven: &[u8; 11]) -> u8 {
    // P_n counts from the right: n = 1 is the eleventh digit. Q_n = n + 1 for n <= 6,
    // n - 5 for n >= 7.
    let sum: u32 = (1..=11u32)
        .map(|n| {
            let p = u32::from(first_eleven[11 - n as usize]);
            let q = if n <= 6 { n + 1 } else { n - 5 };
            p * q
        })
        .sum();
    let r = sum % 11;
    if r <= 1 { 0 } else { (11 - r) as u8 }
}

impl MyNumber {
    /// Validates a 12-digit number and its check digit.
    pub fn parse(s: &str) -> Result<Self, MyNumberError> {
        let b = s.as_bytes();
        if b.len() != 12 || !b.iter().all(u8::is_ascii_digit) {
            return Err(MyNumberError::Format);
        }
        let mut first = [0u8; 11];
        for (slot, c) in first.iter_mut().zip(b) {
            *slot = c - b'0';
        }
        let expected = check_digit(&first);
        let found = b[11] - b'0';
        if found != expected {
            return Err(MyNumberError::CheckDigit { found, expected });
        }
        Ok(MyNumber(s.to_owned()))
    }

    /// The full number, for printing on a certificate that asked for it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for MyNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MyNumber(************)")
    }
}

impl Serialize for MyNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for MyNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        MyNumber::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_numbers() {
        assert!(MyNumber::parse("123456789018").is_ok());
        assert_eq!(
            MyNumber::parse("123456789012"),
            Err(MyNumberError::CheckDigit {
                found: 2,
                expected: 8
            })
        );
        assert_eq!(MyNumber::parse("12345678901"), Err(MyNumberError::Format));
        assert_eq!(MyNumber::parse("12345678901a"), Err(MyNumberError::Format));
        assert_eq!(
            MyNumber::parse("１２３４５６７８９０１８"),
            Err(MyNumberError::Format)
        );
    }

    #[test]
    fn debug_is_masked() {
        let n = MyNumber::parse("123456789018").unwrap();
        assert!(!format!("{n:?}").contains("1234"));
    }

    proptest! {
        /// Exactly one of the ten final digits is valid for any eleven-digit prefix.
        #[test]
        fn exactly_one_check_digit(prefix in "[0-9]{11}") {
            let valid = (0..10).filter(|d| MyNumber::parse(&format!("{prefix}{d}")).is_ok()).count();
            prop_assert_eq!(valid, 1);
        }
    }
}
