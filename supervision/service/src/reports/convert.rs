//! Requests of `medpay.supervision.v1.SupervisionReportsService` read (every violation at
//! once), and monitoring tables written.

use kernel::{FundType, YearMonth};
use medpay_proto::supervision::v1 as pb;
use platform::wire::{self, Violation};
use supervision_domain::monitoring::export::{format_part, format_value, unit};
use supervision_domain::monitoring::{
    Breakdown, Efficacy, Figure, IndicatorRow, TrendLine, Unsupported,
};

use crate::error::Error;

/// The longest range of months one table reads.
pub const MAX_MONTHS: i32 = 36;

/// A table asked for: its months, its rows and its fund.
#[derive(Clone, Debug)]
pub struct IndicatorQuery {
    pub months: Vec<YearMonth>,
    pub breakdown: Breakdown,
    pub fund: Option<FundType>,
}

fn fund(field: &str, value: i32, violations: &mut Vec<Violation>) -> Option<FundType> {
    if value == 0 {
        return None;
    }
    wire::fund_type(field, value)
        .map_err(|violation| violations.push(violation))
        .ok()
}

fn months_between(from: YearMonth, to: YearMonth) -> i32 {
    (to.year() - from.year()) * 12 + i32::try_from(to.month()).unwrap_or(0)
        - i32::try_from(from.month()).unwrap_or(0)
}

impl TryFrom<&pb::GetIndicatorsRequest> for IndicatorQuery {
    type Error = Error;

    fn try_from(request: &pb::GetIndicatorsRequest) -> Result<Self, Error> {
        let mut violations = Vec::new();
        let from = wire::year_month("period_from", request.period_from.as_ref())
            .map_err(|violation| violations.push(violation))
            .ok();
        let to = wire::year_month("period_to", request.period_to.as_ref())
            .map_err(|violation| violations.push(violation))
            .ok();
        let mut months = Vec::new();
        if let (Some(from), Some(to)) = (from, to) {
            let span = months_between(from, to);
            if span < 0 {
                violations.push((
                    "period_to".into(),
                    format!("{} is before period_from {}", to.as_int(), from.as_int()),
                ));
            } else if span >= MAX_MONTHS {
                violations.push((
                    "period_to".into(),
                    format!("the range covers {} months; at most {MAX_MONTHS}", span + 1),
                ));
            } else {
                let mut month = from;
                while month <= to {
                    months.push(month);
                    month = month.next();
                }
            }
        }
        let breakdown = match pb::Breakdown::try_from(request.breakdown) {
            Ok(pb::Breakdown::Unspecified | pb::Breakdown::Region) => Some(Breakdown::Region),
            Ok(pb::Breakdown::Hospital) => Some(Breakdown::Hospital),
            Ok(pb::Breakdown::Department) => Some(Breakdown::Department),
            Err(_) => {
                violations.push((
                    "breakdown".into(),
                    format!("{} is not a breakdown", request.breakdown),
                ));
                None
            }
        };
        let fund = fund("fund_type", request.fund_type, &mut violations);
        match breakdown {
            Some(breakdown) if violations.is_empty() => Ok(Self {
                months,
                breakdown,
                fund,
            }),
            _ => Err(Error::InvalidArgument(violations)),
        }
    }
}

impl TryFrom<&pb::GetMonitoringReportRequest> for IndicatorQuery {
    type Error = Error;

    fn try_from(request: &pb::GetMonitoringReportRequest) -> Result<Self, Error> {
        let mut violations = Vec::new();
        let month = wire::year_month("month", request.month.as_ref())
            .map_err(|violation| violations.push(violation))
            .ok();
        let fund = fund("fund_type", request.fund_type, &mut violations);
        match month {
            Some(month) if violations.is_empty() => Ok(Self {
                months: vec![month],
                breakdown: Breakdown::Hospital,
                fund,
            }),
            _ => Err(Error::InvalidArgument(violations)),
        }
    }
}

pub fn indicator_to_wire(figure: &Figure) -> pb::Indicator {
    pb::Indicator {
        code: figure.code.code().to_owned(),
        name_zh: figure.code.name_zh().to_owned(),
        value: format_value(figure),
        numerator: format_part(figure.numerator),
        denominator: format_part(figure.denominator),
        unit: unit(figure.code.kind()).to_owned(),
    }
}

pub fn row_to_wire(row: &IndicatorRow) -> pb::IndicatorRow {
    pb::IndicatorRow {
        hospital_code: row.key.hospital.clone(),
        department: row.key.department.clone(),
        indicators: row.figures.iter().map(indicator_to_wire).collect(),
    }
}

pub fn unsupported_to_wire(
    catalogue: &str,
    items: &[Unsupported],
) -> Vec<pb::UnsupportedIndicator> {
    items
        .iter()
        .map(|item| pb::UnsupportedIndicator {
            catalogue: catalogue.to_owned(),
            number: item.number,
            name_zh: item.name_zh.to_owned(),
            missing: item.missing.to_owned(),
        })
        .collect()
}

pub fn trend_to_wire(line: &TrendLine) -> pb::TrendLine {
    let written = |value| {
        format_value(&Figure {
            code: line.code,
            value,
            numerator: None,
            denominator: None,
        })
    };
    pb::TrendLine {
        hospital_code: line.key.hospital.clone(),
        code: line.code.code().to_owned(),
        current: written(line.current),
        previous: written(line.previous),
        change: written(line.change),
    }
}

pub fn efficacy_to_wire(efficacy: &Efficacy) -> pb::GroupingEfficacy {
    pb::GroupingEfficacy {
        cases: efficacy.cases,
        grouped: efficacy.grouped,
        adrgs: u32::try_from(efficacy.adrgs).unwrap_or(u32::MAX),
        drgs: u32::try_from(efficacy.drgs).unwrap_or(u32::MAX),
        variation: efficacy
            .cv
            .iter()
            .map(|(drg, cv)| pb::GroupVariation {
                drg: drg.clone(),
                cases: efficacy.group_cases.get(drg).copied().unwrap_or(0),
                cv: format!("{cv:.4}"),
            })
            .collect(),
        riv: efficacy
            .riv
            .map(|riv| format!("{riv:.4}"))
            .unwrap_or_default(),
    }
}
