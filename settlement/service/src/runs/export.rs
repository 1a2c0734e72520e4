//! Statement exports of the domain's statement tables, as CSV and XLSX. The CSV of a run is
//! canonical: its SHA-256 is the run's statements digest.

use rust_xlsxwriter::{Format, Workbook, XlsxError};
use settlement_domain::clearing::HospitalStatement;
use settlement_domain::outpatient_clearing::{OutpatientStatement, outpatient_table};
use settlement_domain::outpatient_prepayment::{
    OutpatientPrepaymentLine, outpatient_prepayment_table,
};
use settlement_domain::prepayment::PrepaymentLine;
pub use settlement_domain::statement_table::{Table, clearing_table, prepayment_table};
use sha2::{Digest, Sha256};

use super::store::{RunRow, StatementRow, kind};

/// The table of a run's statements, in hospital order, for export.
pub fn statements_table(run: &RunRow, rows: &[StatementRow]) -> Result<Table, serde_json::Error> {
    if run.kind == kind::OUTPATIENT_PREPAYMENT {
        let lines = rows
            .iter()
            .map(|row| serde_json::from_str::<OutpatientPrepaymentLine>(&row.statement_json))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(outpatient_prepayment_table(&lines))
    } else if run.kind == kind::OUTPATIENT {
        let statements = rows
            .iter()
            .map(|row| serde_json::from_str::<OutpatientStatement>(&row.statement_json))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(outpatient_table(&statements))
    } else if run.kind == kind::CLEARING {
        let statements = rows
            .iter()
            .map(|row| serde_json::from_str::<HospitalStatement>(&row.statement_json))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(clearing_table(&statements))
    } else {
        let lines = rows
            .iter()
            .map(|row| serde_json::from_str::<PrepaymentLine>(&row.statement_json))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(prepayment_table(&lines))
    }
}

/// UTF-8 CSV with a header line and `\n` line ends.
pub fn to_csv(table: &Table) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    writer.write_record(&table.header)?;
    for row in &table.rows {
        writer.write_record(row)?;
    }
    writer
        .into_inner()
        .map_err(|error| csv::Error::from(error.into_error()))
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// An XLSX workbook with one sheet `statements`. Amounts are written as text exactly as stored
/// (2 places for money) so no binary floating point touches them.
pub fn to_xlsx(table: &Table) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let money = Format::new().set_align(rust_xlsxwriter::FormatAlign::Right);
    let sheet = workbook.add_worksheet();
    sheet.set_name("statements")?;
    for (col, title) in table.header.iter().enumerate() {
        sheet.write_string_with_format(0, column(col), title, &bold)?;
    }
    for (index, row) in table.rows.iter().enumerate() {
        let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
        for (col, cell) in row.iter().enumerate() {
            if table.money_columns.contains(&col) {
                sheet.write_string_with_format(line, column(col), cell, &money)?;
            } else {
                sheet.write_string(line, column(col), cell)?;
            }
        }
    }
    workbook.save_to_buffer()
}

fn column(index: usize) -> u16 {
    u16::try_from(index).unwrap_or(u16::MAX)
}
