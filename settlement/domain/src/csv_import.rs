//! Settlement lists from flat CSV exports: one row per list, columns named as the national
//! medical-insurance platform names them where it has a name (`setl_id`, `fixmedins_code`,
//! `medfee_sumamt`, …), an optional second file of fee lines joined by
//! (`fixmedins_code`, `setl_id`). The mapping, including the columns the platform does not name,
//! is documented in `settlement/IMPORT.md`.
//!
//! Every bad row is reported with its line, column and reason; good rows become the JSON of a
//! [`SettlementList`], as `SubmitCases` reads it. Columns the mapping does not know are ignored,
//! so an agency's export with extra columns imports unchanged.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::str::FromStr;

use crate::case::{
    CategoryCharge, ChargeCategory, Diagnosis, FeeLine, ListHeader, ListType, Patient, Payment,
    Procedure, SettlementList, Stay,
};
use kernel::date::{Date, DateTime};
use kernel::{Decimal, Money, RegionCode};
use sha2::{Digest, Sha256};

/// Separator of the list-valued columns (diagnoses, procedures).
pub const LIST_SEPARATOR: char = '|';

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

/// Columns a fee-line file must have.
const REQUIRED_FEE_COLUMNS: [&str; 9] = [
    "fixmedins_code",
    "setl_id",
    "hilist_code",
    "list_type",
    "med_chrgitm_type",
    "pric",
    "cnt",
    "det_item_fee_sumamt",
    "fee_ocur_time",
];

/// A bad row (or a bad file, at line 1): where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub file: String,
    /// 1-based line of the file (the header is line 1).
    pub line: u64,
    /// `setl_id` of the row, when it could be read.
    pub list_id: String,
    pub column: String,
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if !self.list_id.is_empty() {
            write!(f, "setl_id {}: ", self.list_id)?;
        }
        write!(f, "{}: {}", self.column, self.reason)
    }
}

/// A good row: the settlement list as `SubmitCases` reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedList {
    /// Line of the row in the list file.
    pub line: u64,
    pub list: SettlementList,
    pub json: String,
}

/// What an import assumes when a row does not say.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Pooling region of rows without a `pooling_region` column value.
    pub default_region: Option<RegionCode>,
}

/// The idempotency key of an import: a hash of every input, so re-running the same import is
/// a no-op on the server.
pub fn import_request_id(inputs: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for input in inputs {
        hasher.update((input.len() as u64).to_le_bytes());
        hasher.update(input);
    }
    let digest = hasher.finalize();
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("import-{hex}")
}

/// Column positions by header name (trimmed, lower case).
struct Columns {
    index: HashMap<String, usize>,
}

impl Columns {
    fn read(
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
struct Row<'a> {
    record: &'a csv::StringRecord,
    columns: &'a Columns,
    problems: Vec<(String, String)>,
}

fn parse_flag(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "n" | "no" => Ok(false),
        "1" | "true" | "y" | "yes" => Ok(true),
        _ => Err(format!("{text:?} is not a flag (0/1)")),
    }
}

impl<'a> Row<'a> {
    fn new(record: &'a csv::StringRecord, columns: &'a Columns) -> Self {
        Self {
            record,
            columns,
            problems: Vec::new(),
        }
    }

    fn text(&self, column: &str) -> &'a str {
        self.columns
            .index
            .get(column)
            .and_then(|i| self.record.get(*i))
            .map(str::trim)
            .unwrap_or("")
    }

    fn problem(&mut self, column: &str, reason: impl Into<String>) {
        self.problems.push((column.to_owned(), reason.into()));
    }

    fn required(&mut self, column: &str) -> &'a str {
        let text = self.text(column);
        if text.is_empty() {
            self.problem(column, "is required");
        }
        text
    }

    /// The parsed value of a column; `None` (and a problem when `required`) when empty.
    fn parse<T: FromStr>(&mut self, column: &str, required: bool) -> Option<T>
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
        match text.parse() {
            Ok(value) => Some(value),
            Err(error) => {
                self.problem(column, format!("{text:?}: {error}"));
                None
            }
        }
    }

    fn money(&mut self, column: &str, required: bool) -> Money {
        self.parse(column, required).unwrap_or(Money::ZERO)
    }

    fn flag(&mut self, column: &str) -> bool {
        let text = self.text(column);
        parse_flag(text).unwrap_or_else(|reason| {
            self.problem(column, reason);
            false
        })
    }

    /// A `|`-separated list column (empty column: no items).
    fn items(&self, column: &str) -> Vec<&'a str> {
        let text = self.text(column);
        if text.is_empty() {
            Vec::new()
        } else {
            text.split(LIST_SEPARATOR).map(str::trim).collect()
        }
    }

    /// A list column that must have one item per code (`count`), or be empty when `optional`.
    fn parallel(&mut self, column: &str, count: usize, optional: bool) -> Vec<&'a str> {
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

fn list_type(text: &str) -> Result<ListType, String> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| format!("{text:?} is not 101, 102, 201 or 301"))
}

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

/// The fee lines of one list, in file order, with the line each came from.
type FeeLines = Vec<(u64, FeeLine)>;

/// Fee lines by (hospital code, list id), read whole before the lists they join.
#[derive(Default)]
pub struct FeeLineIndex {
    file: String,
    lines: HashMap<(String, String), FeeLines>,
    /// Lists with a bad fee line: imported without it would be wrong, so they are refused.
    broken: HashMap<(String, String), u64>,
}

impl FeeLineIndex {
    /// Reads a fee-line file; bad rows come back as errors and mark their list as broken.
    pub fn read<R: Read>(reader: R, file: &str) -> (Self, Vec<RowError>) {
        let mut index = FeeLineIndex {
            file: file.to_owned(),
            ..Default::default()
        };
        let mut errors = Vec::new();
        let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let columns = match csv.headers() {
            Ok(headers) => match Columns::read(headers, &REQUIRED_FEE_COLUMNS, file) {
                Ok(columns) => columns,
                Err(missing) => return (index, missing),
            },
            Err(error) => {
                errors.push(file_error(file, 1, &error));
                return (index, errors);
            }
        };
        let mut record = csv::StringRecord::new();
        loop {
            let line = csv.position().line() + 1;
            match csv.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(error) => {
                    errors.push(file_error(file, line, &error));
                    continue;
                }
            }
            let line = record.position().map_or(line, |p| p.line());
            let mut row = Row::new(&record, &columns);
            let hospital = row.required("fixmedins_code").to_owned();
            let list_id = row.required("setl_id").to_owned();
            let hilist_code = row.required("hilist_code").to_owned();
            let kind = match row.required("list_type") {
                "" => None,
                text => list_type(text)
                    .map_err(|reason| row.problem("list_type", reason))
                    .ok(),
            };
            let med_chrgitm_type = row.required("med_chrgitm_type").to_owned();
            let pric: Option<Decimal> = row.parse("pric", true);
            let cnt: Option<Decimal> = row.parse("cnt", true);
            let amount: Option<Money> = row.parse("det_item_fee_sumamt", true);
            let inscp_amt = row.money("inscp_amt", false);
            let fee_ocur_time: Option<DateTime> = row.parse("fee_ocur_time", true);
            let department = Some(row.text("bilg_dept_codg").to_owned()).filter(|d| !d.is_empty());
            let refund = row.flag("refd_setl_flag");
            let key = (hospital, list_id);
            match (
                kind,
                pric,
                cnt,
                amount,
                fee_ocur_time,
                row.problems.is_empty(),
            ) {
                (
                    Some(list_type),
                    Some(pric),
                    Some(cnt),
                    Some(det_item_fee_sumamt),
                    Some(at),
                    true,
                ) => {
                    index.lines.entry(key).or_default().push((
                        line,
                        FeeLine {
                            hilist_code,
                            list_type,
                            med_chrgitm_type,
                            pric,
                            cnt,
                            det_item_fee_sumamt,
                            inscp_amt,
                            fee_ocur_time: at,
                            department,
                            refund,
                        },
                    ));
                }
                _ => {
                    for (column, reason) in row.problems {
                        errors.push(RowError {
                            file: file.to_owned(),
                            line,
                            list_id: key.1.clone(),
                            column,
                            reason,
                        });
                    }
                    index.broken.entry(key).or_insert(line);
                }
            }
        }
        (index, errors)
    }
}

fn file_error(file: &str, line: u64, error: &csv::Error) -> RowError {
    RowError {
        file: file.to_owned(),
        line,
        list_id: String::new(),
        column: "(row)".to_owned(),
        reason: format!("is not readable CSV: {error}"),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "setl_id,fixmedins_code,hi_setl_lv,insutype,psn_no,medcasno,dcla_time,pooling_region,gend,brdy,med_type,adm_way,adm_time,adm_caty,dscg_time,dscg_caty,dscg_way,diag_code,diag_name,adm_cond_type,oprn_oprt_code,oprn_oprt_name,oprn_oprt_date,anst_way,chrg_surgery,chrg_bed,medfee_sumamt,hifp_pay,hifmi_pay,acct_pay,psn_cash_pay,fulamt_ownpay_amt,copay_amt,vendor_extra";

    const GOOD: &str = "L1,H46010801,3,310,P001,BA1,2025-06-20 10:00:00,460108,2,1990-03-01,21,2,2025-06-12 08:30,general_surgery,2025-06-15 10:00,general_surgery,1,K35.800|I10.x00,急性阑尾炎|高血压,1|1,47.0100,腹腔镜下阑尾切除术,2025-06-12,general,7000.00,5000.00,12000.00,8400.00,600.00,1000.00,2000.00,300.00,2700.00,ignored";

    /// The codes of the test rows.
    struct Dictionary;

    impl crate::ports::CodeDictionary for Dictionary {
        fn has_diagnosis(&self, code: &str) -> bool {
            ["K35.800", "I10.x00"].contains(&code)
        }
        fn has_procedure(&self, code: &str) -> bool {
            code == "47.0100"
        }
    }

    fn read(lists: &str, fees: Option<&str>) -> (Vec<ImportedList>, Vec<RowError>) {
        let (index, mut errors) = match fees {
            Some(fees) => FeeLineIndex::read(fees.as_bytes(), "fees.csv"),
            None => (FeeLineIndex::default(), Vec::new()),
        };
        let mut reader = ListReader::new(
            lists.as_bytes(),
            "lists.csv",
            index,
            ImportOptions::default(),
        );
        let mut good = Vec::new();
        for item in reader.by_ref() {
            match item {
                Ok(list) => good.push(list),
                Err(bad) => errors.extend(bad),
            }
        }
        errors.extend(reader.unmatched_fee_lines());
        (good, errors)
    }

    #[test]
    fn a_row_maps_to_the_case_model_and_round_trips_as_json() {
        let (good, errors) = read(&format!("{HEADER}\n{GOOD}\n"), None);
        assert!(errors.is_empty(), "{errors:?}");
        let list = &good[0].list;
        assert_eq!(good[0].line, 2);
        assert_eq!(list.header.list_id, "L1");
        assert_eq!(list.header.pooling_region.to_string(), "460108");
        assert_eq!(list.patient.age_years, 35, "age computed from brdy");
        assert_eq!(list.diagnoses.len(), 2);
        assert_eq!(list.diagnoses[1].code, "I10.x00");
        assert_eq!(list.diagnoses[1].name, "高血压");
        assert_eq!(list.procedures[0].anaesthesia.as_deref(), Some("general"));
        assert_eq!(list.charges.len(), 2);
        assert_eq!(list.payment.total, "12000.00".parse().expect("money"));
        assert_eq!(list.payment.identity_gap(), Money::ZERO);
        let back: SettlementList = serde_json::from_str(&good[0].json).expect("json");
        assert_eq!(&back, list);
        assert!(good[0].json.contains("\"medfee_sumamt\""));
        let report = crate::validation::validate_list(
            list,
            &Dictionary,
            &crate::validation::ValidationPolicy::default(),
            "2026-01-01".parse().expect("date"),
        );
        assert!(report.is_accepted(), "{:?}", report.error_reasons());
    }

    #[test]
    fn bad_rows_name_line_column_and_reason_and_good_rows_still_import() {
        let bad_money = GOOD
            .replacen("L1", "L2", 1)
            .replace(",12000.00,", ",12 thousand,");
        let bad_names = GOOD
            .replacen("L1", "L3", 1)
            .replace("急性阑尾炎|高血压", "急性阑尾炎");
        let no_id = GOOD.replacen("L1", "", 1);
        let lists = format!("{HEADER}\n{GOOD}\n{bad_money}\n{bad_names}\n{no_id}\n{GOOD}\n");
        let (good, errors) = read(&lists, None);
        assert_eq!(good.len(), 1);
        let at = |line: u64| -> Vec<(&str, &str)> {
            errors
                .iter()
                .filter(|e| e.line == line)
                .map(|e| (e.column.as_str(), e.list_id.as_str()))
                .collect()
        };
        assert_eq!(at(3), vec![("medfee_sumamt", "L2")]);
        assert_eq!(at(4), vec![("diag_name", "L3")]);
        assert_eq!(at(5), vec![("setl_id", "")]);
        // The same list twice is refused the second time, naming the first line.
        assert_eq!(at(6), vec![("setl_id", "L1")]);
        assert!(errors.iter().any(|e| e.reason.contains("line 2")));
        assert!(
            errors[0]
                .to_string()
                .starts_with("lists.csv:3: setl_id L2: medfee_sumamt:")
        );
    }

    #[test]
    fn a_missing_required_column_is_reported_once_at_the_header() {
        let header = HEADER.replace("hifp_pay,", "");
        let row = GOOD.replace(",8400.00,", ",");
        let (good, errors) = read(&format!("{header}\n{row}\n"), None);
        assert!(good.is_empty());
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].line, errors[0].column.as_str()), (1, "hifp_pay"));
    }

    #[test]
    fn fee_lines_join_by_hospital_and_list_and_bad_ones_refuse_their_list() {
        let fees = "fixmedins_code,setl_id,hilist_code,list_type,med_chrgitm_type,pric,cnt,det_item_fee_sumamt,inscp_amt,fee_ocur_time\n\
            H46010801,L1,XA01BAA001,101,09,12.5,4,50.00,50.00,2025-06-13 09:00\n\
            H46010801,L1,XB01,201,05,30,1,30.00,,2025-06-13 10:00\n\
            H46010801,L2,XC01,999,05,30,1,30.00,,2025-06-13 10:00\n\
            H46010801,L9,XC01,201,05,30,1,30.00,,2025-06-13 10:00\n";
        let second = GOOD.replacen("L1", "L2", 1);
        let (good, errors) = read(&format!("{HEADER}\n{GOOD}\n{second}\n"), Some(fees));
        assert_eq!(good.len(), 1);
        assert_eq!(good[0].list.fee_lines.len(), 2);
        assert_eq!(good[0].list.fee_lines[0].list_type, ListType::WesternDrug);
        assert_eq!(good[0].list.fee_lines[1].inscp_amt, Money::ZERO);
        let described: Vec<(String, u64, String)> = errors
            .iter()
            .map(|e| (e.file.clone(), e.line, e.column.clone()))
            .collect();
        assert!(described.contains(&("fees.csv".into(), 4, "list_type".into())));
        assert!(described.contains(&("lists.csv".into(), 3, "fee_lines".into())));
        assert!(described.contains(&("fees.csv".into(), 5, "setl_id".into())));
    }

    /// Codes of a scheme's `diagnoses.tsv` / `procedures.tsv`.
    struct SchemeCodes {
        diagnoses: Vec<String>,
        procedures: Vec<String>,
    }

    impl crate::ports::CodeDictionary for SchemeCodes {
        fn has_diagnosis(&self, code: &str) -> bool {
            self.diagnoses.iter().any(|c| c == code)
        }
        fn has_procedure(&self, code: &str) -> bool {
            self.procedures.iter().any(|c| c == code)
        }
    }

    #[test]
    fn the_shipped_sample_reads_whole_and_validates_against_the_demo_scheme_codes() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let read_text = |path: &str| std::fs::read_to_string(root.join(path)).expect(path);
        let codes = |path: &str| -> Vec<String> {
            read_text(path)
                .lines()
                .skip(1)
                .filter_map(|line| line.split('\t').next())
                .map(str::to_owned)
                .collect()
        };
        let demo = SchemeCodes {
            diagnoses: codes("../grouping/domain/schemes/demo/diagnoses.tsv"),
            procedures: codes("../grouping/domain/schemes/demo/procedures.tsv"),
        };
        let (good, errors) = read(
            &read_text("samples/settlement-lists.csv"),
            Some(&read_text("samples/fee-lines.csv")),
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(good.len(), 10);
        assert_eq!(good[0].list.fee_lines.len(), 3);
        for imported in &good {
            assert_eq!(imported.list.header.pooling_region.to_string(), "460108");
            let report = crate::validation::validate_list(
                &imported.list,
                &demo,
                &crate::validation::ValidationPolicy::default(),
                "2026-01-01".parse().expect("date"),
            );
            assert!(
                report.is_accepted(),
                "line {}: {:?}",
                imported.line,
                report.errors
            );
        }
    }

    #[test]
    fn the_request_id_follows_the_contents() {
        let a = import_request_id(&[b"x", b"y"]);
        assert_eq!(a, import_request_id(&[b"x", b"y"]));
        assert_ne!(a, import_request_id(&[b"xy", b""]));
        assert_ne!(a, import_request_id(&[b"x", b"z"]));
    }
}
