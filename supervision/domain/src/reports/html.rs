//! The period report as one self-contained HTML page for an analyst: inline CSS, the charts
//! drawn as inline SVG here (the monthly trend, the hospital comparison, the pooling regions,
//! each rule's findings), then every table of [`report_tables`]. Two tiny inline scripts only
//! check the page: they copy any script error or `console.error` into `#script-errors` and
//! count each chart's drawn marks into `#render-check`, so a headless browser can tell the
//! page rendered. Nothing is fetched; every text inserted is escaped.

use std::fmt::Write as _;

use kernel::Decimal;

use super::chart::{Chart, Series, escape};
use super::tables::{Table, report_tables};
use super::{PeriodKind, PeriodReport};
use crate::monitoring::IndicatorCode;

/// Hospitals the comparison chart draws, by total cost (the table lists them all).
pub const CHART_HOSPITALS: usize = 30;

const STYLE: &str = r#"
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 24px; color: #1f2328; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; font-size: 12px; margin: 8px 0 16px; }
th, td { border: 1px solid #d0d7de; padding: 3px 6px; } td { text-align: right; }
td.key { text-align: left; } th { background: #f6f8fa; }
.scroll { overflow-x: auto; }
svg.chart { display: block; margin: 8px 0 16px; font-size: 11px; }
svg .axis { stroke: #57606a; } svg .line { stroke-width: 2; }
.s0 { fill: #1f6feb; stroke: #1f6feb; } .s1 { fill: #e36209; stroke: #e36209; }
polyline.s0, polyline.s1 { fill: none; }
#render-check, #script-errors { color: #57606a; font-size: 11px; }
"#;

/// Runs before the body: errors are recorded from the first one on.
const EARLY_SCRIPT: &str = r#"
window.reportErrors = [];
function reportError(text) {
  window.reportErrors.push(String(text));
  var box = document.getElementById("script-errors");
  if (box) { box.textContent = window.reportErrors.join("\n"); box.dataset.count = window.reportErrors.length; }
}
window.addEventListener("error", function (e) { reportError(e.message || "error"); });
(function () {
  var original = console.error;
  console.error = function () { reportError(Array.prototype.join.call(arguments, " ")); original.apply(console, arguments); };
})();
"#;

/// Runs after the body: a chart is complete when every mark it declares has a box.
const CHECK_SCRIPT: &str = r#"
(function () {
  var charts = document.querySelectorAll("svg.chart"), complete = 0;
  Array.prototype.forEach.call(charts, function (svg) {
    var drawn = 0;
    Array.prototype.forEach.call(svg.querySelectorAll(".mark"), function (mark) {
      if (mark.getBBox().height > 0) { drawn += 1; }
    });
    svg.dataset.drawn = drawn;
    if (drawn > 0 && drawn === Number(svg.dataset.marks)) { complete += 1; }
  });
  var mark = document.getElementById("render-check");
  mark.dataset.charts = charts.length;
  mark.dataset.complete = complete;
  mark.textContent = complete + " of " + charts.length + " charts drawn";
  var box = document.getElementById("script-errors");
  box.dataset.count = window.reportErrors.length;
  box.textContent = window.reportErrors.join("\n");
})();
"#;

/// The cell of `column` in `row` of `table`, parsed for a chart (empty: zero).
fn cell(table: &Table, row: &[String], column: &str) -> (Decimal, String) {
    let printed = table
        .columns
        .iter()
        .position(|c| c == column)
        .and_then(|i| row.get(i))
        .cloned()
        .unwrap_or_default();
    (printed.parse().unwrap_or(Decimal::ZERO), printed)
}

fn series(table: &Table, rows: &[&Vec<String>], column: &str, name: &str) -> Series {
    Series {
        name: name.to_owned(),
        values: rows.iter().map(|row| cell(table, row, column)).collect(),
    }
}

fn find<'t>(tables: &'t [Table], name: &str) -> Option<&'t Table> {
    tables.iter().find(|t| t.name == name)
}

/// The charts, drawn from the same tables the page prints.
fn charts(tables: &[Table]) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(months) = find(tables, "month") {
        let rows: Vec<&Vec<String>> = months.rows.iter().collect();
        let categories: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
        out.push(
            Chart {
                id: "trend-cost",
                title: "月度费用趋势 Monthly total cost and fund payment (CNY)".into(),
                categories: categories.clone(),
                series: vec![
                    series(months, &rows, "total_cost", "总费用 total cost"),
                    series(months, &rows, "fund_payment", "基金支付 fund payment"),
                ],
            }
            .lines(),
        );
        out.push(
            Chart {
                id: "trend-cases",
                title: "月度病例数与CMI Monthly cases and CMI".into(),
                categories,
                series: vec![
                    series(months, &rows, "cases", "病例数 cases"),
                    series(months, &rows, "cmi", "CMI"),
                ],
            }
            .lines(),
        );
    }
    if let Some(hospitals) = find(tables, "hospital") {
        let mut rows: Vec<&Vec<String>> = hospitals.rows.iter().collect();
        let cost = |row: &Vec<String>| cell(hospitals, row, IndicatorCode::TotalCost.code()).0;
        rows.sort_by(|a, b| cost(b).cmp(&cost(a)).then_with(|| a[0].cmp(&b[0])));
        rows.truncate(CHART_HOSPITALS);
        out.push(
            Chart {
                id: "hospitals",
                title: "医疗机构对比 Hospitals by total cost".into(),
                categories: rows.iter().map(|r| r[0].clone()).collect(),
                series: vec![
                    series(hospitals, &rows, "total_cost", "总费用 total cost"),
                    series(hospitals, &rows, "fund_payment", "基金支付 fund payment"),
                ],
            }
            .bars(),
        );
    }
    if let Some(regions) = find(tables, "region") {
        let rows: Vec<&Vec<String>> = regions.rows.iter().collect();
        out.push(
            Chart {
                id: "regions",
                title: "统筹区对比 Pooling regions".into(),
                categories: rows.iter().map(|r| r[0].clone()).collect(),
                series: vec![
                    series(regions, &rows, "total_cost", "总费用 total cost"),
                    series(regions, &rows, "fund_payment", "基金支付 fund payment"),
                ],
            }
            .bars(),
        );
    }
    if let Some(rules) = find(tables, "rule") {
        let rows: Vec<&Vec<String>> = rules.rows.iter().collect();
        out.push(
            Chart {
                id: "rules",
                title: "规则疑点数 Findings per rule".into(),
                categories: rows.iter().map(|r| format!("{} {}", r[0], r[2])).collect(),
                series: vec![
                    series(rules, &rows, "findings", "疑点数 findings"),
                    series(rules, &rows, "confirmed", "确认 confirmed"),
                ],
            }
            .bars(),
        );
    }
    // A chart without a mark (no hospital, no month) says nothing; its table says so.
    out.retain(|svg| !svg.contains("data-marks=\"0\""));
    out
}

fn table_html(out: &mut String, table: &Table) {
    let _ = write!(
        out,
        r#"<h2>{}</h2><div class="scroll"><table id="table-{}"><thead><tr>"#,
        escape(table.title),
        table.name
    );
    for title in &table.titles {
        let _ = write!(out, "<th>{}</th>", escape(title));
    }
    out.push_str("</tr></thead><tbody>");
    for row in &table.rows {
        out.push_str("<tr>");
        for (i, value) in row.iter().enumerate() {
            let class = if i < table.keys || value.parse::<Decimal>().is_err() {
                " class=\"key\""
            } else {
                ""
            };
            let _ = write!(out, "<td{class}>{}</td>", escape(value));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
}

/// The report as a self-contained HTML page (UTF-8).
pub fn report_html(report: &PeriodReport) -> String {
    let tables = report_tables(report);
    let kind = match report.period.kind {
        PeriodKind::Quarter(_) => "季度分析 Quarterly analysis",
        PeriodKind::Year => "年度报告 Annual report",
    };
    let title = format!("{} {} · {}", kind, report.period.label(), report.region);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style><script>{EARLY_SCRIPT}</script></head><body>",
        escape(&title)
    );
    let _ = write!(
        out,
        "<h1>{}</h1><p>医保DRG监测 · supervision of the medical-insurance fund: discharge months {}–{}, screening runs counted: {}{}.</p>",
        escape(&title),
        report
            .months
            .first()
            .and_then(|m| m.month)
            .map_or(0, |m| m.as_int()),
        report
            .months
            .last()
            .and_then(|m| m.month)
            .map_or(0, |m| m.as_int()),
        report.screening_runs,
        if report.previous_year_read {
            "; growth against the same months a year earlier"
        } else {
            "; no cases a year earlier, so no growth rates"
        }
    );
    out.push_str("<h2>图表 Charts</h2>");
    for chart in charts(&tables) {
        out.push_str(&chart);
    }
    for table in &tables {
        table_html(&mut out, table);
    }
    out.push_str("<h2>缺少数据的项目 Items without data</h2><ul>");
    for item in report.period.unsupported() {
        let _ = write!(
            out,
            "<li>{} {}: {}</li>",
            item.number,
            escape(item.name_zh),
            escape(item.missing)
        );
    }
    out.push_str(
        "</ul><p id=\"render-check\"></p><pre id=\"script-errors\" data-count=\"0\"></pre>",
    );
    let _ = writeln!(out, "<script>{CHECK_SCRIPT}</script></body></html>");
    out
}
