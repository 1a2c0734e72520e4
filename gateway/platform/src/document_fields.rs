//! Reading the typed form of a document that also comes as JSON (a budget, a sharing policy, a
//! points table): each field read into the domain's type, every violation kept under the path of
//! the field in the form the caller used, and the words of the JSON document (`mode`, `block`,
//! `basis`) read by the domain's own serde names so both forms share one vocabulary.

use kernel::{Decimal, Money};
use medpay_proto::common::v1 as common;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::wire::{self, Violation};

/// A word of the JSON document read as the domain reads it there.
pub fn word<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|e| format!("{text:?} is not allowed here: {e}"))
}

/// The JSON document's word for a value (empty for a value that is not one word).
pub fn word_of<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(word)) => word,
        _ => String::new(),
    }
}

/// Reads the fields of one typed document, keeping every violation under its prefix.
pub struct FieldReader {
    prefix: String,
    violations: Vec<Violation>,
}

impl FieldReader {
    /// A reader naming each field under `prefix` (`document`, `policy`).
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            violations: Vec::new(),
        }
    }

    /// The full path of `field`.
    pub fn path(&self, field: &str) -> String {
        format!("{}.{field}", self.prefix)
    }

    /// Keeps a violation of `field`.
    pub fn push(&mut self, field: &str, description: impl Into<String>) {
        self.violations.push((self.path(field), description.into()));
    }

    /// Keeps a violation whose path is already full.
    pub fn record(&mut self, violation: Violation) {
        self.violations.push(violation);
    }

    /// The value read, or `None` with the description kept as a violation of `field`.
    pub fn keep<T>(&mut self, field: &str, read: Result<T, String>) -> Option<T> {
        read.map_err(|description| self.push(field, description))
            .ok()
    }

    /// A decimal that must be set.
    pub fn decimal(&mut self, field: &str, given: Option<&common::Decimal>) -> Option<Decimal> {
        match given.map(|d| d.value.trim()).filter(|t| !t.is_empty()) {
            None => {
                self.push(field, "is required: a decimal string");
                None
            }
            Some(text) => self.keep(
                field,
                kernel::check_decimal_text(text)
                    .map_err(|too_long| too_long.to_string())
                    .and_then(|()| {
                        text.parse::<Decimal>()
                            .map_err(|e| format!("{text:?} is not a decimal: {e}"))
                    }),
            ),
        }
    }

    /// A decimal with a default: unset keeps `target`.
    pub fn decimal_into(
        &mut self,
        field: &str,
        given: Option<&common::Decimal>,
        target: &mut Decimal,
    ) {
        if given.is_some()
            && let Some(value) = self.decimal(field, given)
        {
            *target = value;
        }
    }

    /// Money that must be set.
    pub fn money(&mut self, field: &str, given: Option<&common::Money>) -> Option<Money> {
        let full = self.path(field);
        wire::money(&full, given)
            .map_err(|violation| self.record(violation))
            .ok()
    }

    /// A word of the JSON document, read as the domain reads it there.
    pub fn word<T: DeserializeOwned>(&mut self, field: &str, text: &str) -> Option<T> {
        self.keep(field, word(text))
    }

    /// A word that must be given: empty is named as missing rather than as a bad word.
    pub fn required_word<T: DeserializeOwned>(&mut self, field: &str, text: &str) -> Option<T> {
        if text.trim().is_empty() {
            self.push(field, "is required");
            return None;
        }
        self.word(field, text)
    }

    /// A word with a default: empty keeps `target`.
    pub fn word_into<T: DeserializeOwned>(&mut self, field: &str, text: &str, target: &mut T) {
        if !text.is_empty()
            && let Some(value) = self.word(field, text)
        {
            *target = value;
        }
    }

    /// What was read, or every violation found.
    pub fn finish<T>(self, read: Option<T>) -> Result<T, Vec<Violation>> {
        match read {
            Some(read) if self.violations.is_empty() => Ok(read),
            _ => Err(self.violations),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Deserialize, serde::Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Basis {
        LastYearGrowth,
    }

    #[test]
    fn every_violation_is_kept_under_the_prefix_and_nothing_is_read() {
        let mut read = FieldReader::new("document");
        let mut basis = Basis::LastYearGrowth;
        read.word_into("basis", "", &mut basis);
        assert_eq!(read.required_word::<Basis>("mode", " "), None);
        assert_eq!(read.word::<Basis>("basis", "guess"), None);
        assert_eq!(read.decimal("rate", None), None);
        let money = common::Money {
            yuan: "1.234".into(),
        };
        assert_eq!(read.money("total", Some(&money)), None);
        let paths: Vec<String> = read
            .finish(Some(()))
            .expect_err("violations")
            .into_iter()
            .map(|(path, _)| path)
            .collect();
        assert_eq!(
            paths,
            [
                "document.mode",
                "document.basis",
                "document.rate",
                "document.total"
            ]
        );
    }

    #[test]
    fn words_read_and_write_the_domains_serde_names() {
        assert_eq!(word::<Basis>("last_year_growth"), Ok(Basis::LastYearGrowth));
        assert_eq!(word_of(&Basis::LastYearGrowth), "last_year_growth");
        let mut read = FieldReader::new("policy");
        let mut rate = Decimal::ONE;
        read.decimal_into("rate", None, &mut rate);
        let given = common::Decimal {
            value: "0.05".into(),
        };
        read.decimal_into("rate", Some(&given), &mut rate);
        assert_eq!(rate, Decimal::new(5, 2));
        assert_eq!(read.finish(Some(rate)), Ok(Decimal::new(5, 2)));
    }
}
