//! The list file: each row read into a settlement list and joined with its fee lines.

use std::collections::HashMap;
use std::io::Read;

use kernel::date::{Date, DateTime};
use kernel::{Decimal, Money, RegionCode};

use super::row::{Columns, Row, file_error};
use super::{FeeLineIndex, ImportOptions, ImportedList, RowError};
use crate::case::{
    CategoryCharge, ChargeCategory, Diagnosis, ListHeader, Patient, Payment, Procedure,
    SettlementList, Stay,
};

/// Charge-category columns: `chrg_<category>` holds the amount of that category.
const CHARGE_COLUMNS: [(&str, ChargeCategory); 14] = [
    ("chrg_bed", ChargeCategory::Bed),
    ("chrg_consultation", ChargeCategory::Consultation),
    ("chrg_examination", ChargeCategory::Examination),
    ("chrg_laboratory", ChargeCategory::Laboratory),
    ("chrg_treatment", ChargeCategory::Treatment),
    ("chrg_surgery", ChargeCategory::Surgery),
    ("chrg_nursing", ChargeCategory::Nursing),
    ("chrg_consumables", ChargeCategory::Consumables),
    ("chrg_western_drugs", ChargeCategory::WesternDrugs),
    ("chrg_herbal_pieces", ChargeCategory::HerbalPieces),
    (
        "chrg_chinese_patent_drugs",
        ChargeCategory::ChinesePatentDrugs,
    ),
    ("chrg_general_diagnosis", ChargeCategory::GeneralDiagnosis),
    ("chrg_registration", ChargeCategory::Registration),
    ("chrg_other", ChargeCategory::Other),
];

/// Columns a list file must have.
const REQUIRED_LIST_COLUMNS: [&str; 14] = [
    "setl_id",
    "fixmedins_code",
    "insutype",
    "psn_no",
    "gend",
    "brdy",
    "med_type",
    "adm_time",
    "dscg_time",
    "dscg_way",
    "diag_code",
    "diag_name",
    "medfee_sumamt",
    "hifp_pay",
];

/// Whole years from `birth` to `on`.
fn age_in_years(birth: Date, on: Date) -> u32 {
    let (by, bm, bd) = birth.ymd();
    let (y, m, d) = on.ymd();
    let mut years = y - by;
    if (m, d) < (bm, bd) {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

/// Reads settlement lists row by row, joining their fee lines.
pub struct ListReader<R: Read> {
    csv: csv::Reader<R>,
    columns: Option<Columns>,
    header_errors: Vec<RowError>,
    file: String,
    fee_lines: FeeLineIndex,
    options: ImportOptions,
    seen: HashMap<(String, String), u64>,
    record: csv::StringRecord,
}

impl<R: Read> ListReader<R> {
    pub fn new(reader: R, file: &str, fee_lines: FeeLineIndex, options: ImportOptions) -> Self {
        let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let (columns, header_errors) = match csv.headers() {
            Ok(headers) => match Columns::read(headers, &REQUIRED_LIST_COLUMNS, file) {
                Ok(columns) => (Some(columns), Vec::new()),
                Err(missing) => (None, missing),
            },
            Err(error) => (None, vec![file_error(file, 1, &error)]),
        };
        Self {
            csv,
            columns,
            header_errors,
            file: file.to_owned(),
            fee_lines,
            options,
            seen: HashMap::new(),
            record: csv::StringRecord::new(),
        }
    }

    /// Fee lines whose list is not in the list file, one error per list; call after the last
    /// list was read.
    pub fn unmatched_fee_lines(&self) -> Vec<RowError> {
        let mut unmatched: Vec<RowError> = self
            .fee_lines
            .lines
            .iter()
            .filter(|(key, _)| !self.seen.contains_key(*key))
            .map(|((hospital, list_id), lines)| RowError {
                file: self.fee_lines.file.clone(),
                line: lines.first().map_or(0, |(line, _)| *line),
                list_id: list_id.clone(),
                column: "setl_id".to_owned(),
                reason: format!(
                    "{} fee line(s) of {hospital}/{list_id}, a list not in {}",
                    lines.len(),
                    self.file
                ),
            })
            .collect();
        unmatched.sort_by_key(|e| e.line);
        unmatched
    }

    fn read_row(&mut self, line: u64) -> Result<ImportedList, Vec<RowError>> {
        let file = self.file.clone();
        let Some(columns) = self.columns.as_ref() else {
            return Err(Vec::new());
        };
        let mut row = Row::new(&self.record, columns);
        let list_id = row.required("setl_id").to_owned();
        let hospital_code = row.required("fixmedins_code").to_owned();
        let insurance_type: Option<u16> = row.parse("insutype", true);
        let person_id = row.required("psn_no").to_owned();
        let pooling_region = match row.parse::<RegionCode>("pooling_region", false) {
            Some(region) => Some(region),
            None if row.text("pooling_region").is_empty() => {
                if self.options.default_region.is_none() {
                    row.problem(
                        "pooling_region",
                        "is empty and the import names no default region (--region)",
                    );
                }
                self.options.default_region
            }
            None => None,
        };
        let insured_region: Option<RegionCode> = row.parse("insuplc_admdvs", false);
        let refund = row.flag("refd_setl_flag");

        let sex: Option<u8> = row.parse("gend", true);
        let birth_date: Option<Date> = row.parse("brdy", true);
        let admitted_at: Option<DateTime> = row.parse("adm_time", true);
        let discharged_at: Option<DateTime> = row.parse("dscg_time", true);
        let declared_at: Option<DateTime> = row.parse("dcla_time", false);
        let age_years: Option<u32> = row.parse("age", false);
        let age_days: Option<u32> = row.parse("nwb_age", false);
        let newborn_birth_weight_g: Option<u32> = row.parse("nwb_bir_wt", false);
        let newborn_admission_weight_g: Option<u32> = row.parse("nwb_adm_wt", false);
        let med_type = row.required("med_type").to_owned();
        let discharge_type: Option<u8> = row.parse("dscg_way", true);
        let ventilator_hours: Option<Decimal> = row.parse("vent_used_hours", false);
        let icu_hours: Option<Decimal> = row.parse("icu_hours", false);
        let planned_readmission_31d = row.flag("rinp_plan_31d");

        let diagnosis_codes = row.items("diag_code");
        if diagnosis_codes.is_empty() {
            row.problem("diag_code", "is required: the principal diagnosis first");
        }
        let diagnosis_names = row.parallel("diag_name", diagnosis_codes.len(), false);
        let conditions = row.parallel("adm_cond_type", diagnosis_codes.len(), false);
        let mut diagnoses = Vec::new();
        for (i, code) in diagnosis_codes.iter().enumerate() {
            let condition = match conditions.get(i).map(|c| c.parse::<u8>()) {
                Some(Ok(condition)) => condition,
                Some(Err(_)) => {
                    row.problem(
                        "adm_cond_type",
                        format!("item {} ({:?}) is not a number", i + 1, conditions[i]),
                    );
                    0
                }
                None => 0,
            };
            diagnoses.push(Diagnosis {
                code: (*code).to_owned(),
                name: diagnosis_names.get(i).copied().unwrap_or("").to_owned(),
                admission_condition: condition,
            });
        }

        let procedure_codes = row.items("oprn_oprt_code");
        let procedure_names = row.parallel("oprn_oprt_name", procedure_codes.len(), false);
        let procedure_dates = row.parallel("oprn_oprt_date", procedure_codes.len(), false);
        let anaesthesia = row.parallel("anst_way", procedure_codes.len(), true);
        let mut procedures = Vec::new();
        for (i, code) in procedure_codes.iter().enumerate() {
            let date = match procedure_dates.get(i).map(|d| d.parse::<Date>()) {
                Some(Ok(date)) => Some(date),
                Some(Err(error)) => {
                    row.problem("oprn_oprt_date", format!("item {}: {error}", i + 1));
                    None
                }
                None => None,
            };
            if let Some(date) = date {
                procedures.push(Procedure {
                    code: (*code).to_owned(),
                    name: procedure_names.get(i).copied().unwrap_or("").to_owned(),
                    date,
                    anaesthesia: anaesthesia
                        .get(i)
                        .filter(|a| !a.is_empty())
                        .map(|a| (*a).to_owned()),
                });
            }
        }

        let mut charges = Vec::new();
        for (column, category) in CHARGE_COLUMNS {
            if let Some(amount) = row.parse::<Money>(column, false) {
                charges.push(CategoryCharge {
                    category,
                    amount,
                    class_a: Money::ZERO,
                    class_b: Money::ZERO,
                    self_pay: Money::ZERO,
                    other: Money::ZERO,
                });
            }
        }

        let payment = Payment {
            total: row.money("medfee_sumamt", true),
            pooled_fund: row.money("hifp_pay", true),
            serious_illness: row.money("hifmi_pay", false),
            medical_aid: row.money("maf_pay", false),
            other_funds: row.money("oth_fund_pay", false),
            personal_account: row.money("acct_pay", false),
            personal_cash: row.money("psn_cash_pay", false),
            self_pay: row.money("fulamt_ownpay_amt", false),
            co_pay: row.money("copay_amt", false),
        };

        let key = (hospital_code.clone(), list_id.clone());
        if !list_id.is_empty()
            && let Some(first) = self.seen.get(&key)
        {
            row.problem(
                "setl_id",
                format!("{hospital_code}/{list_id} is already on line {first}"),
            );
        }
        if let Some(fee_line) = self.fee_lines.broken.get(&key) {
            row.problem(
                "fee_lines",
                format!(
                    "fee line {}:{fee_line} of this list is malformed",
                    self.fee_lines.file
                ),
            );
        }
        let hospital_level = row.text("hi_setl_lv").to_owned();
        let case_number = row.text("medcasno").to_owned();
        let admission_route = row.text("adm_way").to_owned();
        let admission_department = row.text("adm_caty").to_owned();
        let discharge_department = row.text("dscg_caty").to_owned();
        let receiving_institution =
            Some(row.text("acp_medins_name").to_owned()).filter(|r| !r.is_empty());
        let problems = std::mem::take(&mut row.problems);
        let built = match (
            insurance_type,
            pooling_region,
            sex,
            birth_date,
            admitted_at,
            discharged_at,
            discharge_type,
            problems.is_empty(),
        ) {
            (
                Some(insurance_type),
                Some(pooling_region),
                Some(sex),
                Some(birth_date),
                Some(admitted_at),
                Some(discharged_at),
                Some(discharge_type),
                true,
            ) => Some(SettlementList {
                header: ListHeader {
                    list_id: list_id.clone(),
                    hospital_code,
                    hospital_level,
                    insurance_type,
                    person_id,
                    case_number,
                    // An export without a declaration time declares at discharge.
                    declared_at: declared_at.unwrap_or(discharged_at),
                    pooling_region,
                    insured_region,
                    refund,
                },
                patient: Patient {
                    sex,
                    birth_date,
                    age_years: age_years
                        .unwrap_or_else(|| age_in_years(birth_date, admitted_at.date())),
                    age_days,
                    newborn_birth_weight_g,
                    newborn_admission_weight_g,
                },
                stay: Stay {
                    med_type,
                    admission_route,
                    admitted_at,
                    admission_department,
                    discharged_at,
                    discharge_department,
                    discharge_type,
                    receiving_institution,
                    ventilator_hours: ventilator_hours.unwrap_or(Decimal::ZERO),
                    icu_hours: icu_hours.unwrap_or(Decimal::ZERO),
                    planned_readmission_31d,
                },
                diagnoses,
                procedures,
                charges,
                payment,
                fee_lines: self
                    .fee_lines
                    .lines
                    .get(&key)
                    .map(|lines| lines.iter().map(|(_, l)| l.clone()).collect())
                    .unwrap_or_default(),
            }),
            _ => None,
        };
        if !list_id.is_empty() {
            self.seen.entry(key).or_insert(line);
        }
        match built {
            Some(list) => {
                let json = serde_json::to_string(&list).map_err(|error| {
                    vec![RowError {
                        file: file.clone(),
                        line,
                        list_id: list_id.clone(),
                        column: "(row)".to_owned(),
                        reason: format!("cannot be written as JSON: {error}"),
                    }]
                })?;
                Ok(ImportedList { line, list, json })
            }
            None => Err(problems
                .into_iter()
                .map(|(column, reason)| RowError {
                    file: file.clone(),
                    line,
                    list_id: list_id.clone(),
                    column,
                    reason,
                })
                .collect()),
        }
    }
}

impl<R: Read> Iterator for ListReader<R> {
    /// A list, or every problem of one bad row (or of the header).
    type Item = Result<ImportedList, Vec<RowError>>;

    fn next(&mut self) -> Option<Self::Item> {
        if !self.header_errors.is_empty() {
            return Some(Err(std::mem::take(&mut self.header_errors)));
        }
        self.columns.as_ref()?;
        let line = self.csv.position().line() + 1;
        match self.csv.read_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => {
                let line = self.record.position().map_or(line, |p| p.line());
                Some(self.read_row(line))
            }
            Err(error) => Some(Err(vec![file_error(&self.file, line, &error)])),
        }
    }
}
