//! The cells of one CSV row: columns found by header name, values read with every problem of
//! the row collected.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use kernel::Money;

use super::{LIST_SEPARATOR, RowError};
use crate::case::ListType;

/// Column positions by header name (trimmed, lower case).
pub(super) struct Columns {
    index: HashMap<String, usize>,
}

impl Columns {
    pub(super) fn read(
        headers: &csv::StringRecord,
        required: &[&str],
        file: &str,
    ) -> Result<Self, Vec<RowError>> {
        let index: HashMap<String, usize> = headers
            .iter()
            .enumerate()
            .map(|(i, name)| (name.trim().trim_start_matches('\u{feff}').to_lowercase(), i))
            .collect();
        let missing: Vec<RowError> = required
            .iter()
            .filter(|name| !index.contains_key(**name))
            .map(|name| RowError {
                file: file.to_owned(),
                line: 1,
                list_id: String::new(),
                column: (*name).to_owned(),
                reason: "required column is missing from the header".to_owned(),
            })
            .collect();
        if missing.is_empty() {
            Ok(Self { index })
        } else {
            Err(missing)
        }
    }
}

/// One row being read: collects every problem of the row, not only the first.
pub(super) struct Row<'a> {
    record: &'a csv::StringRecord,
    columns: &'a Columns,
    pub(super) problems: Vec<(String, String)>,
}

fn parse_flag(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "n" | "no" => Ok(false),
        "1" | "true" | "y" | "yes" => Ok(true),
        _ => Err(format!("{text:?} is not a flag (0/1)")),
    }
}

impl<'a> Row<'a> {
    pub(super) fn new(record: &'a csv::StringRecord, columns: &'a Columns) -> Self {
        Self {
            record,
            columns,
            problems: Vec::new(),
        }
    }

    pub(super) fn text(&self, column: &str) -> &'a str {
        self.columns
            .index
            .get(column)
            .and_then(|i| self.record.get(*i))
            .map(str::trim)
            .unwrap_or("")
    }

    pub(super) fn problem(&mut self, column: &str, reason: impl Into<String>) {
        self.problems.push((column.to_owned(), reason.into()));
    }

    pub(super) fn required(&mut self, column: &str) -> &'a str {
        let text = self.text(column);
        if text.is_empty() {
            self.problem(column, "is required");
        }
        text
    }

    /// The parsed value of a column; `None` (and a problem when `required`) when empty. Every
    /// parsed column (a number, date, code or amount) is short: a longer cell is refused before a
    /// reader sees it, since `rust_decimal`'s recurses once a character of some texts
    /// ([`kernel::MAX_DECIMAL_TEXT`]).
    pub(super) fn parse<T: FromStr>(&mut self, column: &str, required: bool) -> Option<T>
    where
        T::Err: fmt::Display,
    {
        let text = self.text(column);
        if text.is_empty() {
            if required {
                self.problem(column, "is required");
            }
            return None;
        }
        if text.len() > kernel::MAX_DECIMAL_TEXT {
            self.problem(
                column,
                format!(
                    "a value of {} characters is refused (at most {})",
                    text.len(),
                    kernel::MAX_DECIMAL_TEXT
                ),
            );
            return None;
        }
        match text.parse() {
            Ok(value) => Some(value),
            Err(error) => {
                self.problem(column, format!("{text:?}: {error}"));
                None
            }
        }
    }

    pub(super) fn money(&mut self, column: &str, required: bool) -> Money {
        self.parse(column, required).unwrap_or(Money::ZERO)
    }

    pub(super) fn flag(&mut self, column: &str) -> bool {
        let text = self.text(column);
        parse_flag(text).unwrap_or_else(|reason| {
            self.problem(column, reason);
            false
        })
    }

    /// A `|`-separated list column (empty column: no items).
    pub(super) fn items(&self, column: &str) -> Vec<&'a str> {
        let text = self.text(column);
        if text.is_empty() {
            Vec::new()
        } else {
            text.split(LIST_SEPARATOR).map(str::trim).collect()
        }
    }

    /// A list column that must have one item per code (`count`), or be empty when `optional`.
    pub(super) fn parallel(&mut self, column: &str, count: usize, optional: bool) -> Vec<&'a str> {
        let items = self.items(column);
        if items.len() == count || (optional && items.is_empty()) {
            return items;
        }
        self.problem(
            column,
            format!(
                "has {} items, the codes have {count} (one per code, separated by '{LIST_SEPARATOR}')",
                items.len()
            ),
        );
        Vec::new()
    }
}

pub(super) fn list_type(text: &str) -> Result<ListType, String> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| format!("{text:?} is not 101, 102, 201 or 301"))
}

pub(super) fn file_error(file: &str, line: u64, error: &csv::Error) -> RowError {
    RowError {
        file: file.to_owned(),
        line,
        list_id: String::new(),
        column: "(row)".to_owned(),
        reason: format!("is not readable CSV: {error}"),
    }
}
