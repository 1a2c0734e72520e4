//! Settlement lists from CSV: one row with its fee lines, and whole import files. Every good row
//! is also read as intake reads the JSON the import sends (`SubmitCases`), so a list the import
//! writes and intake cannot read is caught too.

use kernel::RegionCode;
use kernel::date::Date;
use settlement_domain::admission::{Record, read_record};
use settlement_domain::csv_import::{FeeLineIndex, ImportOptions, ListReader};
use settlement_domain::ports::GroupingChecksCodes;
use settlement_domain::validation::ValidationPolicy;

use crate::split_nul;

/// Header of the list file a row is read under: every column the import knows.
pub const LIST_HEADER: &str = "setl_id,fixmedins_code,hi_setl_lv,insutype,psn_no,medcasno,dcla_time,pooling_region,gend,brdy,med_type,adm_way,adm_time,adm_caty,dscg_time,dscg_caty,dscg_way,icu_hours,diag_code,diag_name,adm_cond_type,oprn_oprt_code,oprn_oprt_name,oprn_oprt_date,anst_way,chrg_bed,chrg_examination,chrg_treatment,chrg_surgery,chrg_western_drugs,medfee_sumamt,hifp_pay,hifmi_pay,acct_pay,psn_cash_pay,fulamt_ownpay_amt,copay_amt";

/// Header of the fee-line file the row's fee lines are read under.
pub const FEE_HEADER: &str = "fixmedins_code,setl_id,hilist_code,list_type,med_chrgitm_type,pric,cnt,det_item_fee_sumamt,inscp_amt,fee_ocur_time,bilg_dept_codg";

/// A list row and its fee lines: the row, a NUL, then the fee lines (without headers).
pub fn csv_row(data: &[u8]) {
    let (row, fees) = split_nul(data);
    let mut lists = LIST_HEADER.as_bytes().to_vec();
    lists.push(b'\n');
    lists.extend_from_slice(row);
    let mut fee_file = FEE_HEADER.as_bytes().to_vec();
    fee_file.push(b'\n');
    fee_file.extend_from_slice(fees);
    import(&lists, Some(&fee_file));
}

/// A whole list file, then a NUL and a whole fee-line file when the input has one.
pub fn import_file(data: &[u8]) {
    let (lists, fees) = split_nul(data);
    let has_fees = data.contains(&0);
    import(lists, has_fees.then_some(fees));
}

fn import(lists: &[u8], fees: Option<&[u8]>) {
    let (index, _) = match fees {
        Some(fees) => FeeLineIndex::read(fees, "fee-lines.csv"),
        None => (FeeLineIndex::default(), Vec::new()),
    };
    let options = ImportOptions {
        default_region: "460108".parse::<RegionCode>().ok(),
    };
    let mut reader = ListReader::new(lists, "lists.csv", index, options);
    let Ok(today) = Date::new(2026, 6, 30) else {
        return;
    };
    for item in reader.by_ref() {
        let Ok(imported) = item else { continue };
        let region = imported.list.header.pooling_region.province();
        let _ = read_record(
            Record::List(imported.json),
            0,
            region,
            &GroupingChecksCodes,
            &ValidationPolicy::default(),
            today,
        );
    }
    let _ = reader.unmatched_fee_lines();
}
