//! The tables screening reads, per region and year (DOMAIN.md §6 "Tables screening reads"):
//! the item catalogue with its limits, exclusive pairs, packages, substitutions and the published
//! DRG means. Each loads from TSV text with a header; extra columns are ignored, a missing
//! column or an unreadable value refuses the whole table with its line.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use kernel::{Decimal, Money};
use serde::{Deserialize, Serialize};

use crate::model::ChargeCategory;

/// Why a table could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("table {table} is empty (no header)")]
    Empty { table: &'static str },
    #[error("table {table} has no column {column}")]
    MissingColumn {
        table: &'static str,
        column: &'static str,
    },
    #[error("table {table} line {line}: {column} {value:?} is not valid")]
    BadValue {
        table: &'static str,
        line: usize,
        column: &'static str,
        value: String,
    },
}

impl TableError {
    /// Stable machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            TableError::Empty { .. } => "TABLE_EMPTY",
            TableError::MissingColumn { .. } => "TABLE_MISSING_COLUMN",
            TableError::BadValue { .. } => "TABLE_BAD_VALUE",
        }
    }
}

/// The largest price, limit, mean cost or weight a table may state (1,000,000,000): far above any
/// real one, and small enough that the rules' products of it with a stay's amounts and ratios stay
/// inside `Decimal`'s range (a 29-digit mean cost once overflowed rule 4's low-cost bound).
pub const TABLE_VALUE_LIMIT: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// One data row of a TSV table, read by column name.
struct Row<'a> {
    table: &'static str,
    line: usize,
    cells: Vec<&'a str>,
    columns: &'a BTreeMap<&'a str, usize>,
}

impl<'a> Row<'a> {
    /// The trimmed cell, empty when the row is short.
    fn text(&self, column: &'static str) -> &'a str {
        self.columns
            .get(column)
            .and_then(|i| self.cells.get(*i))
            .map_or("", |cell| cell.trim())
    }

    fn required(&self, column: &'static str) -> Result<&'a str, TableError> {
        let value = self.text(column);
        if value.is_empty() {
            return Err(self.bad(column, value));
        }
        Ok(value)
    }

    /// A parsed cell (a number or a code, never long): a cell past
    /// [`kernel::MAX_DECIMAL_TEXT`] is refused before a reader sees it, since `rust_decimal`'s
    /// recurses once a character of some texts.
    fn optional<T: FromStr>(&self, column: &'static str) -> Result<Option<T>, TableError> {
        let value = self.text(column);
        if value.is_empty() {
            return Ok(None);
        }
        if value.len() > kernel::MAX_DECIMAL_TEXT {
            return Err(self.bad(column, value));
        }
        value.parse().map(Some).map_err(|_| self.bad(column, value))
    }

    /// A price, limit or weight: not negative and at most [`TABLE_VALUE_LIMIT`].
    fn amount(&self, column: &'static str) -> Result<Option<Decimal>, TableError> {
        let value: Option<Decimal> = self.optional(column)?;
        self.within_limit(column, value.unwrap_or_default())?;
        Ok(value)
    }

    fn within_limit(&self, column: &'static str, amount: Decimal) -> Result<(), TableError> {
        if amount.is_sign_negative() || amount > TABLE_VALUE_LIMIT {
            return Err(self.bad(column, self.text(column)));
        }
        Ok(())
    }

    fn bad(&self, column: &'static str, value: &str) -> TableError {
        TableError::BadValue {
            table: self.table,
            line: self.line,
            column,
            value: value.to_owned(),
        }
    }
}

/// Reads `text` as TSV, checks the header names `required`, and hands each non-blank data row
/// to `read`.
fn read_tsv<T>(
    table: &'static str,
    text: &str,
    required: &[&'static str],
    mut read: impl FnMut(&Row<'_>) -> Result<T, TableError>,
) -> Result<Vec<T>, TableError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or(TableError::Empty { table })?;
    let columns: BTreeMap<&str, usize> = header
        .trim_start_matches('\u{feff}')
        .split('\t')
        .enumerate()
        .map(|(i, name)| (name.trim(), i))
        .collect();
    if let Some(column) = required.iter().find(|c| !columns.contains_key(*c)) {
        return Err(TableError::MissingColumn { table, column });
    }
    lines
        .map(|(index, line)| {
            read(&Row {
                table,
                line: index + 1,
                cells: line.trim_end_matches('\r').split('\t').collect(),
                columns: &columns,
            })
        })
        .collect()
}

/// A limit of at most `max` units in any `days` consecutive days, per person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodLimit {
    pub max: Decimal,
    pub days: i32,
}

/// One catalogue item (医保目录) with the limits screening checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub code: String,
    pub name: String,
    /// Drug, service or consumable, as the catalogue writes it.
    pub list_type: String,
    pub category: Option<ChargeCategory>,
    pub price: Option<Decimal>,
    /// Most units billable on one day.
    pub daily_limit: Option<Decimal>,
    /// Billable at most LOS + 1 times over a stay (`stay_limit` = `los+1`).
    pub limited_to_stay_plus_one: bool,
    pub period_limit: Option<PeriodLimit>,
    /// Wholly self-paid (`self_pay` = 1).
    pub self_pay: bool,
    /// ICD-10 first letters the item evidences (rule 5 a).
    pub supports: BTreeSet<char>,
    /// ICD-9-CM-3 code prefixes of the procedures the item bills (rule 5 c): the item is what a
    /// hospital charges when it performs one of them.
    #[serde(default)]
    pub procedures: BTreeSet<String>,
}

/// The longest procedure prefix an item may name: a whole ICD-9-CM-3 医保版 code with its
/// extension (`45.2300x001`) is 11 characters.
const PROCEDURE_PREFIX_LIMIT: usize = 16;

/// A procedure prefix of the items table: digits, then digits, `.` or a lower-case `x` extension.
fn is_procedure_prefix(prefix: &str) -> bool {
    prefix.len() <= PROCEDURE_PREFIX_LIMIT
        && prefix.starts_with(|c: char| c.is_ascii_digit())
        && prefix
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == 'x')
}

/// Item B must not be billed on a day item A is billed (A contains B).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ExclusivePair {
    pub item_a: String,
    pub item_b: String,
}

/// `billed` is a dearer analogue of `analogue`, legitimate only with `requires` billed that day.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Substitution {
    pub billed: String,
    pub analogue: String,
    pub requires: String,
}

/// A DRG's published mean cost (not recomputed from the screened cases).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMean {
    pub drg: String,
    pub cases: u32,
    pub mean_cost: Money,
    /// The group's relative weight (RW), when the table carries a `weight` column (rule 20).
    pub weight: Option<Decimal>,
}

/// Every table of one region and year.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tables {
    pub items: BTreeMap<String, Item>,
    pub exclusive_pairs: Vec<ExclusivePair>,
    /// Package code → its component item codes.
    pub packages: BTreeMap<String, BTreeSet<String>>,
    pub substitutions: Vec<Substitution>,
    pub group_means: BTreeMap<String, GroupMean>,
}

const DEMO_ITEMS: &str = include_str!("../data/demo/items.tsv");
const DEMO_EXCLUSIVE_PAIRS: &str = include_str!("../data/demo/exclusive_pairs.tsv");
const DEMO_PACKAGES: &str = include_str!("../data/demo/packages.tsv");
const DEMO_SUBSTITUTIONS: &str = include_str!("../data/demo/substitutions.tsv");
const DEMO_GROUP_MEANS: &str = include_str!("../data/demo/group_means.tsv");

impl Tables {
    /// The small demonstration tables shipped with the crate.
    pub fn demo() -> Result<Self, TableError> {
        Ok(Self {
            items: Self::read_items(DEMO_ITEMS)?,
            exclusive_pairs: Self::read_exclusive_pairs(DEMO_EXCLUSIVE_PAIRS)?,
            packages: Self::read_packages(DEMO_PACKAGES)?,
            substitutions: Self::read_substitutions(DEMO_SUBSTITUTIONS)?,
            group_means: Self::read_group_means(DEMO_GROUP_MEANS)?,
        })
    }

    pub fn read_items(text: &str) -> Result<BTreeMap<String, Item>, TableError> {
        let items = read_tsv("items", text, &["hilist_code"], |row| {
            let category = match row.text("med_chrgitm_type") {
                "" => None,
                code => Some(
                    ChargeCategory::parse(code).ok_or_else(|| row.bad("med_chrgitm_type", code))?,
                ),
            };
            let limited_to_stay_plus_one = match row.text("stay_limit") {
                "" => false,
                "los+1" => true,
                other => return Err(row.bad("stay_limit", other)),
            };
            let period_limit = match (row.amount("period_max")?, row.optional("period_days")?) {
                (Some(max), Some(days)) if days > 0 => Some(PeriodLimit { max, days }),
                (None, None) => None,
                _ => return Err(row.bad("period_days", row.text("period_days"))),
            };
            let self_pay = match row.text("self_pay") {
                "" | "0" => false,
                "1" => true,
                other => return Err(row.bad("self_pay", other)),
            };
            let mut supports = BTreeSet::new();
            for letter in row
                .text("supports")
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                let mut chars = letter.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if c.is_ascii_alphabetic() => {
                        supports.insert(c.to_ascii_uppercase());
                    }
                    _ => return Err(row.bad("supports", letter)),
                }
            }
            let mut procedures = BTreeSet::new();
            for prefix in row
                .text("procedures")
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                if !is_procedure_prefix(prefix) {
                    return Err(row.bad("procedures", prefix));
                }
                procedures.insert(prefix.to_owned());
            }
            Ok(Item {
                code: row.required("hilist_code")?.to_owned(),
                name: row.text("name").to_owned(),
                list_type: row.text("list_type").to_owned(),
                category,
                price: row.amount("price")?,
                daily_limit: row.amount("daily_limit")?,
                limited_to_stay_plus_one,
                period_limit,
                self_pay,
                supports,
                procedures,
            })
        })?;
        Ok(items.into_iter().map(|i| (i.code.clone(), i)).collect())
    }

    pub fn read_exclusive_pairs(text: &str) -> Result<Vec<ExclusivePair>, TableError> {
        read_tsv("exclusive_pairs", text, &["item_a", "item_b"], |row| {
            Ok(ExclusivePair {
                item_a: row.required("item_a")?.to_owned(),
                item_b: row.required("item_b")?.to_owned(),
            })
        })
    }

    pub fn read_packages(text: &str) -> Result<BTreeMap<String, BTreeSet<String>>, TableError> {
        let rows = read_tsv("packages", text, &["package", "component"], |row| {
            Ok((
                row.required("package")?.to_owned(),
                row.required("component")?.to_owned(),
            ))
        })?;
        let mut packages: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (package, component) in rows {
            packages.entry(package).or_default().insert(component);
        }
        Ok(packages)
    }

    pub fn read_substitutions(text: &str) -> Result<Vec<Substitution>, TableError> {
        read_tsv(
            "substitutions",
            text,
            &["billed", "analogue", "requires"],
            |row| {
                Ok(Substitution {
                    billed: row.required("billed")?.to_owned(),
                    analogue: row.text("analogue").to_owned(),
                    requires: row.required("requires")?.to_owned(),
                })
            },
        )
    }

    pub fn read_group_means(text: &str) -> Result<BTreeMap<String, GroupMean>, TableError> {
        let means = read_tsv("group_means", text, &["drg", "mean_cost"], |row| {
            Ok(GroupMean {
                drg: row.required("drg")?.to_owned(),
                cases: row.optional("cases")?.unwrap_or(0),
                mean_cost: {
                    let mean_cost: Money = row
                        .optional("mean_cost")?
                        .ok_or_else(|| row.bad("mean_cost", ""))?;
                    row.within_limit("mean_cost", mean_cost.value())?;
                    mean_cost
                },
                weight: row.amount("weight")?,
            })
        })?;
        Ok(means.into_iter().map(|m| (m.drg.clone(), m)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_tables_load() {
        let tables = Tables::demo().expect("demo tables");
        let bed = &tables.items["001101000010000"];
        assert_eq!(bed.daily_limit, Some(Decimal::ONE));
        assert!(bed.limited_to_stay_plus_one);
        assert!(!tables.exclusive_pairs.is_empty());
        assert!(!tables.packages.is_empty());
        // The simulated province's items (`medpay demo`): its nursing package and the items a
        // stay bills once a day, so a line billed twice the same day is over the limit.
        assert_eq!(tables.packages["001203000010000-120300001"].len(), 2);
        let ct = &tables.items["002103000010000-210300001"];
        assert_eq!(ct.daily_limit, Some(Decimal::ONE));
        assert!(
            ct.supports.is_empty(),
            "no support claimed for upcoding's arm a"
        );
        let colonoscopy = &tables.items["003200000452300-320452300"];
        assert_eq!(colonoscopy.procedures, BTreeSet::from(["45.23".to_owned()]));
        assert!(!tables.substitutions.is_empty());
        assert!(!tables.group_means.is_empty());
    }

    #[test]
    fn extra_columns_are_ignored_and_order_does_not_matter() {
        let text = "note\titem_b\titem_a\nwhy\tB1\tA1\n\n";
        let pairs = Tables::read_exclusive_pairs(text).expect("pairs");
        assert_eq!(
            pairs,
            vec![ExclusivePair {
                item_a: "A1".into(),
                item_b: "B1".into()
            }]
        );
    }

    #[test]
    fn a_missing_column_or_a_bad_value_refuses_the_table() {
        assert_eq!(
            Tables::read_packages("package\n P1\n"),
            Err(TableError::MissingColumn {
                table: "packages",
                column: "component"
            })
        );
        let bad = Tables::read_items("hilist_code\tdaily_limit\nX\tmany\n").expect_err("bad limit");
        assert_eq!(bad.reason(), "TABLE_BAD_VALUE");
        assert!(bad.to_string().contains("line 2"));
        let half_period = Tables::read_items("hilist_code\tperiod_max\nX\t2\n");
        assert!(half_period.is_err());
        assert_eq!(
            Tables::read_group_means("drg\tmean_cost\nFB1\t1.234\n").map(|m| m.len()),
            Err(TableError::BadValue {
                table: "group_means",
                line: 2,
                column: "mean_cost",
                value: "1.234".into()
            })
        );
        for (table, column) in [
            (
                "drg\tmean_cost\nES23\t33333333333333333333333339305\n",
                "mean_cost",
            ),
            ("drg\tmean_cost\nES23\t-1.00\n", "mean_cost"),
            (
                "drg\tmean_cost\tweight\nES23\t6200.05\t1000000001\n",
                "weight",
            ),
        ] {
            assert!(
                matches!(Tables::read_group_means(table), Err(TableError::BadValue { column: c, .. }) if c == column),
                "{table:?} must be refused at {column}"
            );
        }
        assert!(Tables::read_group_means("drg\tmean_cost\nES23\t1000000000.00\n").is_ok());
        for (table, column) in [
            ("hilist_code\tprice\nX\t1000000000.01\n", "price"),
            ("hilist_code\tdaily_limit\nX\t-2\n", "daily_limit"),
            (
                "hilist_code\tprocedures\nX\t45.23,colonoscopy\n",
                "procedures",
            ),
            ("hilist_code\tprocedures\nX\t.23\n", "procedures"),
            (
                "hilist_code\tprocedures\nX\t45.2300000000000000001\n",
                "procedures",
            ),
            (
                "hilist_code\tperiod_max\tperiod_days\nX\t99999999999999\t7\n",
                "period_max",
            ),
        ] {
            assert!(
                matches!(Tables::read_items(table), Err(TableError::BadValue { column: c, .. }) if c == column),
                "{table:?} must be refused at {column}"
            );
        }
        assert_eq!(
            Tables::read_substitutions(""),
            Err(TableError::Empty {
                table: "substitutions"
            })
        );
    }
}
