//! The head of an inpatient list: the list without its fee lines, with what the lines add up to
//! per charge category. The ledger keeps it beside the whole list, so that a reader that sums the
//! lines (supervision's monitoring indicators) or reads none of them (the stay before a screened
//! one, last year's costs) is sent a tenth of the bytes (StreamCases `without_fee_lines`).

use std::collections::BTreeMap;
use std::ops::Range;

use kernel::Money;
use serde::{Deserialize, Serialize};

use crate::canonical::{canonical_text, write_canonical};
use crate::case::SettlementList;

/// An inpatient list without its fee lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListHead {
    /// The list's canonical JSON without `fee_lines`: the whole list's canonical JSON had it
    /// no lines.
    pub json: String,
    /// Per `med_chrgitm_type`, in code order, what the lines of the category add up to.
    pub line_totals: BTreeMap<String, LineTotal>,
}

/// What a list's fee lines of one charge category add up to (refund rows, which are negative,
/// included), under the lines' own field names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineTotal {
    /// Σ `det_item_fee_sumamt`.
    pub det_item_fee_sumamt: Money,
    /// Σ `inscp_amt`, the in-policy amounts.
    pub inscp_amt: Money,
}

/// Writes `list` canonically into `out`, member by member in key order, its `fee_lines` only
/// when `with_lines`, and answers where that member lies (with the comma before it; empty when
/// it is left out or the list has no lines, which serde skips). With the lines the bytes equal
/// [`write_canonical`] of the list, without them those of the list had it no lines (tested).
fn write_list_members(
    list: &SettlementList,
    out: &mut Vec<u8>,
    with_lines: bool,
) -> Result<Range<usize>, serde_json::Error> {
    // Every field is named, so a field added to the list does not compile here until it is
    // written in its place.
    let SettlementList {
        header,
        patient,
        stay,
        diagnoses,
        procedures,
        charges,
        payment,
        fee_lines,
    } = list;
    fn member<T: Serialize + ?Sized>(
        out: &mut Vec<u8>,
        key: &str,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        out.push(if out.is_empty() { b'{' } else { b',' });
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
        write_canonical(value, out)
    }
    out.clear();
    // The keys in byte order, as the canonical form sorts them.
    member(out, "charges", charges)?;
    member(out, "diagnoses", diagnoses)?;
    let lines_start = out.len();
    if with_lines && !fee_lines.is_empty() {
        member(out, "fee_lines", fee_lines)?;
    }
    let lines = lines_start..out.len();
    member(out, "header", header)?;
    member(out, "patient", patient)?;
    member(out, "payment", payment)?;
    member(out, "procedures", procedures)?;
    member(out, "stay", stay)?;
    out.push(b'}');
    Ok(lines)
}

/// [`write_list_members`] into a buffer of `capacity`: plain data with string keys always
/// serializes (as in `canonical_json_with_hash`), and were a type change ever to break that,
/// the buffer holds `null`.
fn written(list: &SettlementList, with_lines: bool, capacity: usize) -> (Vec<u8>, Range<usize>) {
    let mut out = Vec::with_capacity(capacity);
    match write_list_members(list, &mut out, with_lines) {
        Ok(lines) => (out, lines),
        Err(_) => (b"null".to_vec(), 0..0),
    }
}

impl ListHead {
    pub fn of(list: &SettlementList) -> Self {
        let (json, _) = written(list, false, 1_536);
        Self {
            json: canonical_text(json),
            line_totals: line_totals(list),
        }
    }

    /// The list's whole canonical JSON and its head, from one serialization: the head is the
    /// whole list's JSON with its `fee_lines` member cut out. Intake stores both for every list,
    /// and writing the head's members a second time was a tenth of reading a list.
    pub fn with_canonical_list(list: &SettlementList) -> (Vec<u8>, Self) {
        let (whole, lines) = written(list, true, 16_384);
        let mut json = Vec::with_capacity(whole.len() - lines.len());
        json.extend_from_slice(&whole[..lines.start]);
        json.extend_from_slice(&whole[lines.end..]);
        let head = Self {
            json: canonical_text(json),
            line_totals: line_totals(list),
        };
        (whole, head)
    }

    /// The line totals as the ledger stores them: a JSON object from category to amount.
    pub fn totals_json(&self) -> String {
        serde_json::to_string(&self.line_totals).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Line totals stored by [`ListHead::totals_json`].
    pub fn totals_from_json(text: &str) -> Result<BTreeMap<String, LineTotal>, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// Per charge category, what the list's fee lines add up to.
fn line_totals(list: &SettlementList) -> BTreeMap<String, LineTotal> {
    let mut totals: BTreeMap<String, LineTotal> = BTreeMap::new();
    for line in &list.fee_lines {
        let total = match totals.get_mut(&line.med_chrgitm_type) {
            Some(total) => total,
            None => totals.entry(line.med_chrgitm_type.clone()).or_default(),
        };
        total.det_item_fee_sumamt += line.det_item_fee_sumamt;
        total.inscp_amt += line.inscp_amt;
    }
    totals
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case_key::canonical_json_with_hash;
    use crate::fixtures::valid_list;

    fn line(category: &str, amount: &str, in_policy: &str, refund: bool) -> crate::case::FeeLine {
        let mut line = valid_list().fee_lines[0].clone();
        line.med_chrgitm_type = category.to_owned();
        line.det_item_fee_sumamt = amount.parse().expect("amount");
        line.inscp_amt = in_policy.parse().expect("in-policy amount");
        line.refund = refund;
        line
    }

    #[test]
    fn the_head_is_the_canonical_list_had_it_no_fee_lines() {
        let list = valid_list();
        assert!(!list.fee_lines.is_empty() && !list.procedures.is_empty());
        assert!(!list.charges.is_empty());
        let head = ListHead::of(&list);
        let without = SettlementList {
            fee_lines: Vec::new(),
            ..list.clone()
        };
        assert_eq!(head.json, canonical_json_with_hash(&without).0);
        // It reads back as the list without its lines.
        let read: SettlementList = serde_json::from_str(&head.json).expect("head reads");
        assert_eq!(read, without);
        assert!(!head.json.contains("fee_lines"));
    }

    #[test]
    fn the_whole_list_written_beside_its_head_is_its_canonical_json() {
        let mut list = valid_list();
        list.header.case_number = "quote \" fee_lines \\ 中文".into();
        for lines in [list.fee_lines.clone(), Vec::new()] {
            list.fee_lines = lines;
            let (whole, head) = ListHead::with_canonical_list(&list);
            let whole = String::from_utf8(whole).expect("utf-8");
            assert_eq!(whole, canonical_json_with_hash(&list).0);
            let without = SettlementList {
                fee_lines: Vec::new(),
                ..list.clone()
            };
            assert_eq!(head.json, canonical_json_with_hash(&without).0);
            assert_eq!(
                whole == head.json,
                list.fee_lines.is_empty(),
                "only a list without lines is its own head"
            );
        }
    }

    #[test]
    fn the_line_totals_sum_each_category_with_its_refunds() {
        let mut list = valid_list();
        list.fee_lines = vec![
            line("09", "50.00", "40.00", false),
            line("01", "120.00", "120.00", false),
            line("09", "12.34", "0.00", false),
            line("09", "-50.00", "-40.00", true),
            line("08", "0.01", "0.01", false),
        ];
        let totals = ListHead::of(&list).line_totals;
        let read: Vec<(&str, String, String)> = totals
            .iter()
            .map(|(category, total)| {
                (
                    category.as_str(),
                    total.det_item_fee_sumamt.to_string(),
                    total.inscp_amt.to_string(),
                )
            })
            .collect();
        let expected = [
            ("01", "120.00", "120.00"),
            ("08", "0.01", "0.01"),
            ("09", "12.34", "0.00"),
        ]
        .map(|(c, a, i)| (c, a.to_owned(), i.to_owned()));
        assert_eq!(read, expected);
        let head = ListHead::of(&list);
        assert_eq!(
            ListHead::totals_from_json(&head.totals_json()).expect("stored totals read"),
            head.line_totals
        );
        list.fee_lines.clear();
        assert!(ListHead::of(&list).line_totals.is_empty());
    }
}
