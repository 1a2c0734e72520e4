//! A period report as named tables of text cells: the one rendering of every figure that the
//! CSV, the XLSX workbook and the HTML page print, so the three agree digit for digit.

use kernel::{Decimal, FundType};

use super::{PeriodReport, Sums, attachment_item};
use crate::monitoring::export::format_value;
use crate::monitoring::{IndicatorCode, IndicatorRow};

/// A section of the report: its stable name, bilingual column titles, and rows of cells; the
/// first `keys` columns identify a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub name: &'static str,
    pub title: &'static str,
    pub keys: usize,
    /// Stable column codes (the CSV's `item`).
    pub columns: Vec<String>,
    /// Column titles as a reader sees them.
    pub titles: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A ratio to 4 places, money to 2; absent values as empty cells.
fn four(value: Option<Decimal>) -> String {
    value.map(|v| format!("{v:.4}")).unwrap_or_default()
}

fn two(value: Decimal) -> String {
    format!("{:.2}", kernel::Money::round(value).value())
}

const SUM_COLUMNS: [(&str, &str); 7] = [
    ("cases", "病例数 cases"),
    ("total_cost", "总费用 total cost"),
    ("fund_payment", "基金支付 fund payment"),
    ("self_pay", "自费 self-pay"),
    ("mean_cost", "次均费用 mean cost"),
    ("fund_ratio", "中心报销比例 fund ratio"),
    ("self_pay_ratio", "自费结算比例 self-pay ratio"),
];

/// The cells of [`SUM_COLUMNS`].
pub fn sum_cells(sums: &Sums) -> Vec<String> {
    vec![
        sums.cases.to_string(),
        two(sums.total_cost),
        two(sums.fund_paid),
        two(sums.self_pay),
        sums.mean_cost()
            .map(|v| format!("{v:.2}"))
            .unwrap_or_default(),
        four(sums.fund_ratio()),
        four(sums.self_pay_ratio()),
    ]
}

fn with_sums(keys: &[(&str, &str)], extra: &[(&str, &str)]) -> (Vec<String>, Vec<String>) {
    keys.iter()
        .chain(SUM_COLUMNS.iter())
        .chain(extra)
        .map(|(code, title)| ((*code).to_owned(), (*title).to_owned()))
        .unzip()
}

/// The fund's name as the reports print it.
pub fn fund_name(fund: FundType) -> &'static str {
    match fund {
        FundType::Employee => "310 职工基本医疗保险 employee basic",
        FundType::Resident => "390 城乡居民基本医疗保险 resident basic",
    }
}

fn indicator_cell(row: &IndicatorRow, code: IndicatorCode) -> String {
    row.get(code).map(format_value).unwrap_or_default()
}

/// Every section, in the report's order: the period total (absent for a hospital caller), the
/// months, the hospitals, the pooling regions, the fund items, the spectrum, the rules.
pub fn report_tables(report: &PeriodReport) -> Vec<Table> {
    let mut tables = Vec::new();
    if let Some(total) = &report.total {
        tables.push(Table {
            name: "total",
            title: "区域指标 Region indicators",
            keys: 1,
            columns: vec!["indicator".into(), "name".into(), "value".into()],
            titles: vec![
                "指标代码 indicator".into(),
                "指标名称 name".into(),
                "值 value".into(),
            ],
            rows: total
                .figures
                .iter()
                .map(|f| {
                    vec![
                        f.code.code().to_owned(),
                        f.code.name_zh().to_owned(),
                        format_value(f),
                    ]
                })
                .collect(),
        });
    }
    let (columns, titles) = with_sums(&[("month", "月份 month")], &[("cmi", "CMI")]);
    tables.push(Table {
        name: "month",
        title: "月度趋势 Monthly trend",
        keys: 1,
        columns,
        titles,
        rows: report
            .months
            .iter()
            .map(|line| {
                let mut cells = vec![
                    line.month
                        .map(|m| m.as_int().to_string())
                        .unwrap_or_default(),
                ];
                cells.extend(sum_cells(&line.sums));
                cells.push(four(line.cmi()));
                cells
            })
            .collect(),
    });
    let codes: Vec<IndicatorCode> = IndicatorCode::ALL
        .iter()
        .copied()
        .filter(|code| report.hospitals.iter().any(|row| row.get(*code).is_some()))
        .collect();
    tables.push(Table {
        name: "hospital",
        title: "医疗机构费用分布 Hospitals",
        keys: 1,
        columns: std::iter::once("hospital_code".to_owned())
            .chain(codes.iter().map(|c| c.code().to_owned()))
            .collect(),
        titles: std::iter::once("医疗机构 hospital".to_owned())
            .chain(
                codes
                    .iter()
                    .map(|c| format!("{} {}", c.name_zh(), c.code())),
            )
            .collect(),
        rows: report
            .hospitals
            .iter()
            .map(|row| {
                std::iter::once(row.key.hospital.clone())
                    .chain(codes.iter().map(|code| indicator_cell(row, *code)))
                    .collect()
            })
            .collect(),
    });
    let (columns, titles) = with_sums(&[("region_code", "统筹区 region")], &[]);
    tables.push(Table {
        name: "region",
        title: "统筹区 Pooling regions",
        keys: 1,
        columns,
        titles,
        rows: report
            .regions
            .iter()
            .map(|(region, sums)| {
                let mut cells = vec![region.to_string()];
                cells.extend(sum_cells(sums));
                cells
            })
            .collect(),
    });
    let (columns, titles) = with_sums(
        &[
            ("fund_type", "险种 fund"),
            ("hospital_level", "医院等级 hospital level"),
        ],
        &[],
    );
    tables.push(Table {
        name: "fund_item",
        title: "基金分项支出 Fund items",
        keys: 2,
        columns,
        titles,
        rows: report
            .fund_items
            .iter()
            .map(|(fund, level, sums)| {
                let mut cells = vec![fund_name(*fund).to_owned(), level.clone()];
                cells.extend(sum_cells(sums));
                cells
            })
            .collect(),
    });
    tables.push(Table {
        name: "spectrum",
        title: "疾病谱 Disease spectrum",
        keys: 1,
        columns: ["drg", "cases", "total_cost", "mean_cost", "case_share"]
            .map(str::to_owned)
            .to_vec(),
        titles: [
            "DRG",
            "病例数 cases",
            "总费用 total cost",
            "次均费用 mean cost",
            "病例占比 case share",
        ]
        .map(str::to_owned)
        .to_vec(),
        rows: report
            .spectrum
            .iter()
            .map(|line| {
                let mean = (line.cases > 0)
                    .then(|| line.total_cost / Decimal::from(line.cases))
                    .map(two)
                    .unwrap_or_default();
                vec![
                    line.drg
                        .clone()
                        .unwrap_or_else(|| "(未入组 ungrouped)".into()),
                    line.cases.to_string(),
                    two(line.total_cost),
                    mean,
                    four(report.case_share(line)),
                ]
            })
            .collect(),
    });
    tables.push(Table {
        name: "rule",
        title: "涉嫌违规分析 Rule findings",
        keys: 1,
        columns: [
            "rule_number",
            "rule_id",
            "name_zh",
            "name_en",
            "item",
            "findings",
            "confirmed",
            "dismissed",
            "amount",
        ]
        .map(str::to_owned)
        .to_vec(),
        titles: [
            "规则 rule",
            "规则代码 id",
            "名称",
            "name",
            "附件3项目 item",
            "疑点数 findings",
            "确认 confirmed",
            "排除 dismissed",
            "涉及金额 amount",
        ]
        .map(str::to_owned)
        .to_vec(),
        rows: report
            .rules
            .iter()
            .map(|hits| {
                vec![
                    hits.rule.number().to_string(),
                    hits.rule.slug().to_owned(),
                    hits.rule.name_zh().to_owned(),
                    hits.rule.name_en().to_owned(),
                    attachment_item(hits.rule)
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                    hits.findings.to_string(),
                    hits.confirmed.to_string(),
                    hits.dismissed.to_string(),
                    format!("{:.2}", hits.amount.value()),
                ]
            })
            .collect(),
    });
    tables
}

fn csv_cell(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// The CSV header, Chinese and English.
pub const CSV_HEADER: &str = "区块 section,对象 key,项目 item,值 value";

/// The report as one long UTF-8 CSV with a byte-order mark and `\n` line ends: a line per
/// section, row and non-key column; the key joins the row's key cells with `/`. Empty cells
/// (a figure without a denominator) are left out.
pub fn report_csv(report: &PeriodReport) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    out.push_str(CSV_HEADER);
    out.push('\n');
    for table in report_tables(report) {
        for row in &table.rows {
            let key = row[..table.keys.min(row.len())].join("/");
            for (column, value) in table.columns.iter().zip(row).skip(table.keys) {
                if value.is_empty() {
                    continue;
                }
                let cells = [table.name, key.as_str(), column.as_str(), value.as_str()];
                let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
                out.push_str(&line.join(","));
                out.push('\n');
            }
        }
    }
    out.into_bytes()
}
