//! `PointsTables` ⇄ [`ValuationTables`].

use std::collections::{BTreeMap, HashMap};

use kernel::{Decimal, Money};
use medpay_proto::common::v1 as common;
use medpay_proto::points::v1 as pb;
use platform::wire;
use points_domain::HospitalLevel;
use points_domain::ValuationTables;
use points_domain::outpatient::{ApgGroup, ApgTable};
use points_domain::tables::{
    CoefficientSet, DatedCoefficient, DaySurgeryPrices, DipGroupRate, DipTable, DrgGroupRate,
    DrgTable, FixedRateTable, HospitalCoefficients, PerCapitaRates, PerDiemPhase, PerDiemStandards,
};

use super::{Reader, TableFields, decimal_to_wire, money_to_wire, sorted, word_of};
use crate::store::TableKey;

/// Reads the tables section over the defaults the JSON reader gives.
pub(super) fn from_wire(
    read: &mut Reader,
    given: &pb::PointsTables,
    key: TableKey,
) -> ValuationTables {
    let (region, fund) = read.key("tables", &given.region, given.fund_type, key);
    let mut tables = ValuationTables::new(region, given.year, fund);
    if let Some(version) = given.version {
        tables.version = version;
    }
    if let Some(drg) = &given.drg {
        tables.drg = read_drg(read, drg);
    }
    if let Some(dip) = &given.dip {
        let mut groups = HashMap::new();
        for (code, row) in sorted(&dip.groups) {
            let at = |field: &str| format!("tables.dip.groups.{code}.{field}");
            let score = read.points(&at("score"), row.score.as_ref());
            let reference_costs = level_money(read, &at("reference_costs"), &row.reference_costs);
            let basic = read.optional_money(
                &at("basic_level_reference"),
                row.basic_level_reference.as_ref(),
            );
            if let (Some(score), Ok(basic_level_reference)) = (score, basic) {
                groups.insert(
                    code.clone(),
                    DipGroupRate {
                        score,
                        reference_costs,
                        basic_level_reference,
                    },
                );
            }
        }
        tables.dip = DipTable { groups };
    }
    if let Some(coefficients) = &given.coefficients {
        tables.coefficients = read_coefficients(read, coefficients);
    }
    if let Some(per_diem) = &given.per_diem {
        let mut programmes = BTreeMap::new();
        for (name, list) in sorted(&per_diem.programmes) {
            let field = format!("tables.per_diem.programmes.{name}");
            let Some(programme) = read.word(&field, name) else {
                continue;
            };
            let mut phases = Vec::new();
            for (index, phase) in list.phases.iter().enumerate() {
                let daily_rates = level_money(
                    read,
                    &format!("{field}[{index}].daily_rates"),
                    &phase.daily_rates,
                );
                phases.push(PerDiemPhase {
                    name: phase.name.clone(),
                    last_day: phase.last_day,
                    daily_rates,
                });
            }
            programmes.insert(programme, phases);
        }
        tables.per_diem = PerDiemStandards { programmes };
    }
    if let Some(fixed) = &given.fixed_rates {
        let mut diseases = BTreeMap::new();
        for (code, prices) in sorted(&fixed.diseases) {
            let field = format!("tables.fixed_rates.diseases.{code}");
            diseases.insert(code.clone(), level_money(read, &field, &prices.prices));
        }
        tables.fixed_rates = FixedRateTable { diseases };
    }
    if let Some(day_surgery) = &given.day_surgery {
        let mut prices = BTreeMap::new();
        for (code, price) in sorted(&day_surgery.prices) {
            if let Some(price) =
                read.money(&format!("tables.day_surgery.prices.{code}"), Some(price))
            {
                prices.insert(code.clone(), price);
            }
        }
        tables.day_surgery = DaySurgeryPrices { prices };
    }
    if let Some(per_capita) = &given.per_capita {
        let ordinary = read.money(
            "tables.per_capita.ordinary_outpatient",
            per_capita.ordinary_outpatient.as_ref(),
        );
        let mut chronic_diseases = BTreeMap::new();
        for (disease, rate) in sorted(&per_capita.chronic_diseases) {
            let field = format!("tables.per_capita.chronic_diseases.{disease}");
            if let Some(rate) = read.money(&field, Some(rate)) {
                chronic_diseases.insert(disease.clone(), rate);
            }
        }
        tables.per_capita = PerCapitaRates {
            ordinary_outpatient: ordinary.unwrap_or(Money::ZERO),
            chronic_diseases,
        };
    }
    if let Some(apg) = &given.apg {
        tables.apg = Some(read_apg(read, apg));
    }
    tables
}

fn read_drg(read: &mut Reader, given: &pb::TableDrg) -> DrgTable {
    let all_case_mean_cost = read
        .money(
            "tables.drg.all_case_mean_cost",
            given.all_case_mean_cost.as_ref(),
        )
        .unwrap_or(Money::ZERO);
    let mut groups = HashMap::new();
    for (code, row) in sorted(&given.groups) {
        let at = |field: &str| format!("tables.drg.groups.{code}.{field}");
        let mean_cost = read.money(&at("mean_cost"), row.mean_cost.as_ref());
        let base_points = read.points(&at("base_points"), row.base_points.as_ref());
        let per_diem = read.optional_points(&at("per_diem_points"), row.per_diem_points.as_ref());
        if let (Some(mean_cost), Some(base_points), Ok(per_diem_points)) =
            (mean_cost, base_points, per_diem)
        {
            groups.insert(
                code.clone(),
                DrgGroupRate {
                    mean_cost,
                    base_points,
                    stable: row.stable.unwrap_or(true),
                    per_diem_points,
                },
            );
        }
    }
    DrgTable {
        all_case_mean_cost,
        groups,
    }
}

fn read_coefficients(read: &mut Reader, given: &pb::TableCoefficients) -> HospitalCoefficients {
    let mut coefficients = HospitalCoefficients::default();
    for (hospital, set) in sorted(&given.drg_by_hospital) {
        let field = format!("tables.coefficients.drg_by_hospital.{hospital}");
        let set = read_set(read, &field, set);
        coefficients.drg_by_hospital.insert(hospital.clone(), set);
    }
    for (level, set) in sorted(&given.drg_by_level) {
        let field = format!("tables.coefficients.drg_by_level.{level}");
        if let Some(level) = read.level(&field, level) {
            let set = read_set(read, &field, set);
            coefficients.drg_by_level.insert(level, set);
        }
    }
    if let Some(levels) = &given.dip_levels {
        coefficients.dip_levels = level_decimals(
            read,
            "tables.coefficients.dip_levels.levels",
            &levels.levels,
        );
    }
    for (hospital, add_on) in sorted(&given.dip_hospital_add_ons) {
        let field = format!("tables.coefficients.dip_hospital_add_ons.{hospital}");
        if let Some(add_on) = read.decimal(&field, Some(add_on)) {
            coefficients
                .dip_hospital_add_ons
                .insert(hospital.clone(), add_on);
        }
    }
    coefficients
}

fn read_set(read: &mut Reader, field: &str, given: &pb::TableCoefficientSet) -> CoefficientSet {
    let all_groups = read_dated(read, &format!("{field}.all_groups"), &given.all_groups);
    let mut per_group = HashMap::new();
    for (group, list) in sorted(&given.per_group) {
        let rows = read_dated(
            read,
            &format!("{field}.per_group.{group}"),
            &list.coefficients,
        );
        per_group.insert(group.clone(), rows);
    }
    CoefficientSet {
        all_groups,
        per_group,
    }
}

fn read_dated(
    read: &mut Reader,
    field: &str,
    given: &[pb::TableDatedCoefficient],
) -> Vec<DatedCoefficient> {
    let mut rows = Vec::new();
    for (index, row) in given.iter().enumerate() {
        let at = |name: &str| format!("{field}[{index}].{name}");
        let coefficient = read.decimal(&at("coefficient"), row.coefficient.as_ref());
        let from = read.date(&at("effective_from"), row.effective_from.as_ref());
        let to = match &row.effective_to {
            None => Ok(None),
            Some(to) => read.date(&at("effective_to"), Some(to)).map(Some).ok_or(()),
        };
        if let (Some(coefficient), Some(effective_from), Ok(effective_to)) = (coefficient, from, to)
        {
            rows.push(DatedCoefficient {
                coefficient,
                effective_from,
                effective_to,
            });
        }
    }
    rows
}

fn read_apg(read: &mut Reader, given: &pb::TableApg) -> ApgTable {
    let mut groups = BTreeMap::new();
    for (code, group) in sorted(&given.groups) {
        let at = |field: &str| format!("tables.apg.groups.{code}.{field}");
        let kind = read.word(&at("kind"), &group.kind);
        let base_points = read.points(&at("base_points"), group.base_points.as_ref());
        if let (Some(kind), Some(base_points)) = (kind, base_points) {
            groups.insert(
                code.clone(),
                ApgGroup {
                    code: group.code.clone(),
                    kind,
                    base_points,
                    name: group.name.clone(),
                },
            );
        }
    }
    ApgTable {
        groups,
        procedure_members: given.procedure_members.clone(),
        diagnosis_members: given.diagnosis_members.clone(),
    }
}

/// Money by hospital level.
fn level_money(
    read: &mut Reader,
    field: &str,
    given: &BTreeMap<String, common::Money>,
) -> BTreeMap<HospitalLevel, Money> {
    let mut by_level = BTreeMap::new();
    for (code, amount) in sorted(given) {
        let at = format!("{field}.{code}");
        let level = read.level(&at, code);
        let amount = read.money(&at, Some(amount));
        if let (Some(level), Some(amount)) = (level, amount) {
            by_level.insert(level, amount);
        }
    }
    by_level
}

/// Decimals by hospital level.
fn level_decimals(
    read: &mut Reader,
    field: &str,
    given: &BTreeMap<String, common::Decimal>,
) -> BTreeMap<HospitalLevel, Decimal> {
    let mut by_level = BTreeMap::new();
    for (code, value) in sorted(given) {
        let at = format!("{field}.{code}");
        let level = read.level(&at, code);
        let value = read.decimal(&at, Some(value));
        if let (Some(level), Some(value)) = (level, value) {
            by_level.insert(level, value);
        }
    }
    by_level
}

fn levels_to_wire<V: Copy>(
    map: &BTreeMap<HospitalLevel, V>,
    to_wire: impl Fn(V) -> Option<common::Money>,
) -> BTreeMap<String, common::Money> {
    map.iter()
        .filter_map(|(level, value)| Some((level.code().to_owned(), to_wire(*value)?)))
        .collect()
}

fn set_to_wire(set: &CoefficientSet) -> pb::TableCoefficientSet {
    let dated = |rows: &[DatedCoefficient]| -> Vec<pb::TableDatedCoefficient> {
        rows.iter()
            .map(|row| pb::TableDatedCoefficient {
                coefficient: decimal_to_wire(row.coefficient),
                effective_from: Some(wire::wire_date(row.effective_from)),
                effective_to: row.effective_to.map(wire::wire_date),
            })
            .collect()
    };
    pb::TableCoefficientSet {
        all_groups: dated(&set.all_groups),
        per_group: set
            .per_group
            .iter()
            .map(|(group, rows)| {
                (
                    group.clone(),
                    pb::TableDatedCoefficientList {
                        coefficients: dated(rows),
                    },
                )
            })
            .collect(),
    }
}

/// The typed tables, every field set.
pub(super) fn to_wire(tables: &ValuationTables) -> pb::PointsTables {
    let money = money_to_wire;
    let coefficients = &tables.coefficients;
    pb::PointsTables {
        region: tables.region.to_string(),
        year: tables.year,
        fund_type: wire::fund_type_to_wire(tables.fund_type),
        version: Some(tables.version),
        drg: Some(pb::TableDrg {
            all_case_mean_cost: money(tables.drg.all_case_mean_cost),
            groups: tables
                .drg
                .groups
                .iter()
                .map(|(code, row)| {
                    let group = pb::TableDrgGroup {
                        mean_cost: money(row.mean_cost),
                        base_points: decimal_to_wire(row.base_points.value()),
                        stable: Some(row.stable),
                        per_diem_points: row
                            .per_diem_points
                            .and_then(|p| decimal_to_wire(p.value())),
                    };
                    (code.clone(), group)
                })
                .collect(),
        }),
        dip: Some(pb::TableDip {
            groups: tables
                .dip
                .groups
                .iter()
                .map(|(code, row)| {
                    let group = pb::TableDipGroup {
                        score: decimal_to_wire(row.score.value()),
                        reference_costs: levels_to_wire(&row.reference_costs, money),
                        basic_level_reference: row.basic_level_reference.and_then(money),
                    };
                    (code.clone(), group)
                })
                .collect(),
        }),
        coefficients: Some(pb::TableCoefficients {
            drg_by_hospital: coefficients
                .drg_by_hospital
                .iter()
                .map(|(hospital, set)| (hospital.clone(), set_to_wire(set)))
                .collect(),
            drg_by_level: coefficients
                .drg_by_level
                .iter()
                .map(|(level, set)| (level.code().to_owned(), set_to_wire(set)))
                .collect(),
            dip_levels: Some(pb::TableLevelCoefficients {
                levels: coefficients
                    .dip_levels
                    .iter()
                    .filter_map(|(level, c)| Some((level.code().to_owned(), decimal_to_wire(*c)?)))
                    .collect(),
            }),
            dip_hospital_add_ons: coefficients
                .dip_hospital_add_ons
                .iter()
                .filter_map(|(hospital, c)| Some((hospital.clone(), decimal_to_wire(*c)?)))
                .collect(),
        }),
        per_diem: Some(pb::TablePerDiem {
            programmes: tables
                .per_diem
                .programmes
                .iter()
                .map(|(programme, phases)| {
                    let phases = phases
                        .iter()
                        .map(|phase| pb::TablePerDiemPhase {
                            name: phase.name.clone(),
                            last_day: phase.last_day,
                            daily_rates: levels_to_wire(&phase.daily_rates, money),
                        })
                        .collect();
                    (word_of(programme), pb::TablePerDiemPhaseList { phases })
                })
                .collect(),
        }),
        fixed_rates: Some(pb::TableFixedRates {
            diseases: tables
                .fixed_rates
                .diseases
                .iter()
                .map(|(code, prices)| {
                    let prices = pb::TableLevelPrices {
                        prices: levels_to_wire(prices, money),
                    };
                    (code.clone(), prices)
                })
                .collect(),
        }),
        day_surgery: Some(pb::TableDaySurgery {
            prices: tables
                .day_surgery
                .prices
                .iter()
                .filter_map(|(code, price)| Some((code.clone(), money(*price)?)))
                .collect(),
        }),
        per_capita: Some(pb::TablePerCapita {
            ordinary_outpatient: money(tables.per_capita.ordinary_outpatient),
            chronic_diseases: tables
                .per_capita
                .chronic_diseases
                .iter()
                .filter_map(|(disease, rate)| Some((disease.clone(), money(*rate)?)))
                .collect(),
        }),
        apg: tables.apg.as_ref().map(|apg| pb::TableApg {
            groups: apg
                .groups
                .iter()
                .map(|(code, group)| {
                    let group = pb::TableApgGroup {
                        code: group.code.clone(),
                        kind: word_of(&group.kind),
                        base_points: decimal_to_wire(group.base_points.value()),
                        name: group.name.clone(),
                    };
                    (code.clone(), group)
                })
                .collect(),
            procedure_members: apg.procedure_members.clone(),
            diagnosis_members: apg.diagnosis_members.clone(),
        }),
    }
}
