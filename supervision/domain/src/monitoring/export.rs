//! The month-on-month trend of a monitoring table and its CSV export.

use std::fmt::Write as _;

use kernel::Decimal;

use super::{Figure, IndicatorCode, IndicatorRow, Indicators, Kind, RowKey};

/// One indicator of one row in two consecutive months.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrendLine {
    pub key: RowKey,
    pub code: IndicatorCode,
    pub current: Decimal,
    pub previous: Decimal,
    /// current − previous, of the rounded values (so exact: no second rounding).
    pub change: Decimal,
}

/// Every indicator present in a row of both months (the total first, then the rows in key
/// order), with its change.
pub fn month_on_month(current: &Indicators, previous: &Indicators) -> Vec<TrendLine> {
    let mut lines = Vec::new();
    let rows = std::iter::once((&current.total, Some(&previous.total))).chain(
        current.rows.iter().map(|row| {
            (
                row,
                previous.rows.iter().find(|earlier| earlier.key == row.key),
            )
        }),
    );
    for (row, earlier) in rows {
        let Some(earlier) = earlier else { continue };
        for figure in &row.figures {
            if let Some(before) = earlier.value(figure.code) {
                lines.push(TrendLine {
                    key: row.key.clone(),
                    code: figure.code,
                    current: figure.value,
                    previous: before,
                    change: figure.value - before,
                });
            }
        }
    }
    lines
}

/// The export header, Chinese and English.
pub const CSV_HEADER: [&str; 9] = [
    "统筹区 region_code",
    "医疗机构 hospital_code",
    "科室 department",
    "指标代码 indicator",
    "指标名称 indicator_name",
    "值 value",
    "分子 numerator",
    "分母 denominator",
    "单位 unit",
];

/// The unit column: `count`, `ratio` or `CNY`.
pub fn unit(kind: Kind) -> &'static str {
    match kind {
        Kind::Count => "count",
        Kind::Ratio => "ratio",
        Kind::Money => "CNY",
    }
}

fn cell(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// A value as written: money with 2 places, ratios with 4, counts whole.
pub fn format_value(figure: &Figure) -> String {
    match figure.code.kind() {
        Kind::Count => figure.value.normalize().to_string(),
        Kind::Ratio => format!("{:.4}", figure.value),
        Kind::Money => format!("{:.2}", figure.value),
    }
}

/// A numerator or denominator as written: as computed, without trailing zeros.
pub fn format_part(part: Option<Decimal>) -> String {
    part.map(|p| p.normalize().to_string()).unwrap_or_default()
}

fn write_row(out: &mut String, region: &str, row: &IndicatorRow) {
    for figure in &row.figures {
        let cells = [
            region.to_owned(),
            row.key.hospital.clone(),
            row.key.department.clone(),
            figure.code.code().to_owned(),
            figure.code.name_zh().to_owned(),
            format_value(figure),
            format_part(figure.numerator),
            format_part(figure.denominator),
            unit(figure.code.kind()).to_owned(),
        ];
        let cells: Vec<String> = cells.iter().map(|c| cell(c)).collect();
        let _ = writeln!(out, "{}", cells.join(","));
    }
}

/// The table as UTF-8 CSV with a byte-order mark (spreadsheets then read the Chinese header),
/// `\n` line ends, one line per row and indicator: the region's total first when given (empty
/// hospital), then `rows` in the order given.
pub fn indicators_csv(
    region: &str,
    total: Option<&IndicatorRow>,
    rows: &[IndicatorRow],
) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    out.push_str(&CSV_HEADER.join(","));
    out.push('\n');
    for row in total.into_iter().chain(rows) {
        write_row(&mut out, region, row);
    }
    out.into_bytes()
}
