//! The quarterly analysis and annual report (`GetPeriodReport`, `ExportPeriodReport`): the
//! request read, the report written to the wire, and its XLSX workbook.

use kernel::{Decimal, FundType};
use medpay_proto::supervision::v1 as pb;
use platform::wire::{self, Violation};
use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};
use supervision_domain::reports::tables::Table;
use supervision_domain::reports::{
    MonthLine, Period, PeriodKind, PeriodReport, Sums, attachment_item,
};

use super::convert::{row_to_wire, unsupported_to_wire};
use crate::error::Error;

/// Years a report may be asked for.
const YEARS: std::ops::RangeInclusive<u32> = 2000..=2100;

/// A report asked for: its period and its fund.
#[derive(Clone, Copy, Debug)]
pub struct PeriodQuery {
    pub period: Period,
    pub fund: Option<FundType>,
}

impl TryFrom<&pb::GetPeriodReportRequest> for PeriodQuery {
    type Error = Error;

    fn try_from(request: &pb::GetPeriodReportRequest) -> Result<Self, Error> {
        let mut violations: Vec<Violation> = Vec::new();
        if !YEARS.contains(&request.year) {
            violations.push((
                "year".into(),
                format!("{} is not a year from 2000 to 2100", request.year),
            ));
        }
        let kind = match pb::PeriodKind::try_from(request.kind) {
            Ok(pb::PeriodKind::Quarterly) => match u8::try_from(request.quarter) {
                Ok(quarter @ 1..=4) => Some(PeriodKind::Quarter(quarter)),
                _ => {
                    violations.push((
                        "quarter".into(),
                        format!("{} is not a quarter 1-4", request.quarter),
                    ));
                    None
                }
            },
            Ok(pb::PeriodKind::Annual) if request.quarter == 0 => Some(PeriodKind::Year),
            Ok(pb::PeriodKind::Annual) => {
                violations.push((
                    "quarter".into(),
                    format!(
                        "{} given for the annual report; leave it 0",
                        request.quarter
                    ),
                ));
                None
            }
            Ok(pb::PeriodKind::Unspecified) | Err(_) => {
                violations.push((
                    "kind".into(),
                    format!(
                        "{} is not a period kind: PERIOD_KIND_QUARTERLY or PERIOD_KIND_ANNUAL",
                        request.kind
                    ),
                ));
                None
            }
        };
        let fund = if request.fund_type == 0 {
            None
        } else {
            wire::fund_type("fund_type", request.fund_type)
                .map_err(|violation| violations.push(violation))
                .ok()
        };
        match kind {
            Some(kind) if violations.is_empty() => Ok(Self {
                period: Period {
                    year: i32::try_from(request.year).unwrap_or(0),
                    kind,
                },
                fund,
            }),
            _ => Err(Error::InvalidArgument(violations)),
        }
    }
}

/// The export format asked for.
pub fn format_of(value: i32) -> Result<pb::ReportFormat, Error> {
    match pb::ReportFormat::try_from(value) {
        Ok(pb::ReportFormat::Unspecified) | Err(_) => Err(Error::InvalidArgument(vec![(
            "format".into(),
            format!("{value} is not a format: REPORT_FORMAT_CSV, _XLSX or _HTML"),
        )])),
        Ok(format) => Ok(format),
    }
}

fn four(value: Option<Decimal>) -> String {
    value.map(|v| format!("{v:.4}")).unwrap_or_default()
}

fn two(value: Decimal) -> String {
    format!("{:.2}", kernel::Money::round(value).value())
}

fn totals(sums: &Sums) -> pb::PeriodTotals {
    pb::PeriodTotals {
        cases: sums.cases,
        total_cost: two(sums.total_cost),
        fund_payment: two(sums.fund_paid),
        self_pay: two(sums.self_pay),
        mean_cost: sums.mean_cost().map(two).unwrap_or_default(),
        fund_ratio: four(sums.fund_ratio()),
        self_pay_ratio: four(sums.self_pay_ratio()),
    }
}

fn month_to_wire(line: &MonthLine) -> pb::MonthTotals {
    pb::MonthTotals {
        month: line.month.map(|m| medpay_proto::common::v1::YearMonth {
            year: m.year(),
            month: i32::try_from(m.month()).unwrap_or(0),
        }),
        totals: Some(totals(&line.sums)),
        cmi: four(line.cmi()),
    }
}

/// The report on the wire.
pub fn report_to_wire(report: &PeriodReport) -> pb::GetPeriodReportResponse {
    let (kind, quarter) = match report.period.kind {
        PeriodKind::Quarter(q) => (pb::PeriodKind::Quarterly, u32::from(q)),
        PeriodKind::Year => (pb::PeriodKind::Annual, 0),
    };
    let catalogue = match report.period.kind {
        PeriodKind::Quarter(_) => "quarterly",
        PeriodKind::Year => "annual",
    };
    pb::GetPeriodReportResponse {
        region_code: report.region.to_string(),
        kind: kind.into(),
        year: u32::try_from(report.period.year).unwrap_or(0),
        quarter,
        total: report.total.as_ref().map(row_to_wire),
        months: report.months.iter().map(month_to_wire).collect(),
        hospitals: report.hospitals.iter().map(row_to_wire).collect(),
        regions: report
            .regions
            .iter()
            .map(|(region, sums)| pb::RegionTotals {
                region_code: region.to_string(),
                totals: Some(totals(sums)),
            })
            .collect(),
        fund_items: report
            .fund_items
            .iter()
            .map(|(fund, level, sums)| pb::FundItem {
                fund_type: wire::fund_type_to_wire(*fund),
                hospital_level: level.clone(),
                totals: Some(totals(sums)),
            })
            .collect(),
        spectrum: report
            .spectrum
            .iter()
            .map(|line| pb::SpectrumLine {
                drg: line.drg.clone().unwrap_or_default(),
                cases: line.cases,
                total_cost: two(line.total_cost),
                mean_cost: if line.cases > 0 {
                    two(line.total_cost / Decimal::from(line.cases))
                } else {
                    String::new()
                },
                case_share: four(report.case_share(line)),
            })
            .collect(),
        rule_hits: report
            .rules
            .iter()
            .map(|hits| pb::RuleHits {
                rule_number: u32::from(hits.rule.number()),
                rule_id: hits.rule.slug().to_owned(),
                name_zh: hits.rule.name_zh().to_owned(),
                name_en: hits.rule.name_en().to_owned(),
                item: attachment_item(hits.rule).unwrap_or(0),
                findings: hits.findings,
                confirmed: hits.confirmed,
                dismissed: hits.dismissed,
                amount: format!("{:.2}", hits.amount.value()),
            })
            .collect(),
        unsupported: unsupported_to_wire(catalogue, report.period.unsupported()),
        previous_year_read: report.previous_year_read,
        screening_runs: report.screening_runs,
    }
}

/// An XLSX workbook with one sheet per table, named as the CSV's sections. Figures are written
/// as text exactly as the CSV prints them (right-aligned), so no binary floating point
/// touches them.
pub fn to_xlsx(tables: &[Table]) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let figure = Format::new().set_align(FormatAlign::Right);
    for table in tables {
        let sheet = workbook.add_worksheet();
        sheet.set_name(table.name)?;
        for (col, title) in table.titles.iter().enumerate() {
            sheet.write_string_with_format(0, column(col), title, &bold)?;
        }
        for (index, row) in table.rows.iter().enumerate() {
            let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
            for (col, cell) in row.iter().enumerate() {
                if col >= table.keys && cell.parse::<Decimal>().is_ok() {
                    sheet.write_string_with_format(line, column(col), cell, &figure)?;
                } else {
                    sheet.write_string(line, column(col), cell)?;
                }
            }
        }
    }
    workbook.save_to_buffer()
}

fn column(index: usize) -> u16 {
    u16::try_from(index).unwrap_or(u16::MAX)
}
