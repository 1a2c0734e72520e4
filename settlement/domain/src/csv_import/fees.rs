//! The fee-line file: read whole and indexed by list before the lists that join it.

use std::collections::HashMap;
use std::io::Read;

use kernel::date::DateTime;
use kernel::{Decimal, Money};

use super::RowError;
use super::row::{Columns, Row, file_error, list_type};
use crate::case::FeeLine;

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

/// The fee lines of one list, in file order, with the line each came from.
pub(super) type FeeLines = Vec<(u64, FeeLine)>;

/// Fee lines by (hospital code, list id), read whole before the lists they join.
#[derive(Default)]
pub struct FeeLineIndex {
    pub(super) file: String,
    pub(super) lines: HashMap<(String, String), FeeLines>,
    /// Lists with a bad fee line: imported without it would be wrong, so they are refused.
    pub(super) broken: HashMap<(String, String), u64>,
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
