//! Test fixtures: a valid settlement list as a vendor would send it, and a dictionary.

use std::collections::BTreeSet;

use crate::case::SettlementList;
use crate::ports::CodeDictionary;

/// A valid appendicitis stay: 12 Jun → 15 Jun 2025, total 12,000.00 = 8,400 pooled fund +
/// 600 serious illness + 1,000 personal account + 2,000 cash.
pub const VALID_LIST_JSON: &str = r#"{
  "header": {
    "setl_id": "L2025000001",
    "fixmedins_code": "H46010001",
    "hospital_level": "3",
    "insutype": 310,
    "psn_no": "P0001",
    "case_number": "BA0001",
    "declared_at": "2025-06-20 10:00:00",
    "pooling_region": "460000"
  },
  "patient": { "sex": 2, "birth_date": "1990-03-01", "age_years": 35 },
  "stay": {
    "med_type": "21",
    "admission_route": "2",
    "admitted_at": "2025-06-12 08:30",
    "admission_department": "general_surgery",
    "discharged_at": "2025-06-15 10:00",
    "discharge_department": "general_surgery",
    "discharge_type": 1,
    "ventilator_hours": "0",
    "icu_hours": "0",
    "planned_readmission_31d": false
  },
  "diagnoses": [
    { "code": "K35.800", "name": "acute appendicitis", "admission_condition": 1 },
    { "code": "I10.x00", "name": "hypertension", "admission_condition": 1 }
  ],
  "procedures": [
    { "code": "47.0100x001", "name": "laparoscopic appendectomy", "date": "2025-06-12", "anaesthesia": "general" }
  ],
  "charges": [
    { "category": "surgery", "amount": "7000.00" },
    { "category": "western_drugs", "amount": "3000.00" },
    { "category": "bed", "amount": "2000.00" }
  ],
  "payment": {
    "medfee_sumamt": "12000.00",
    "hifp_pay": "8400.00",
    "hifmi_pay": "600.00",
    "acct_pay": "1000.00",
    "psn_cash_pay": "2000.00",
    "fulamt_ownpay_amt": "300.00",
    "copay_amt": "2700.00"
  },
  "fee_lines": [
    {
      "hilist_code": "XA01BAA001",
      "list_type": "101",
      "med_chrgitm_type": "09",
      "pric": "12.5",
      "cnt": "4",
      "det_item_fee_sumamt": "50.00",
      "inscp_amt": "50.00",
      "fee_ocur_time": "2025-06-13 09:00"
    }
  ]
}"#;

pub fn valid_list() -> SettlementList {
    serde_json::from_str(VALID_LIST_JSON).expect("fixture parses")
}

/// A dictionary holding exactly the given codes.
pub struct SetDictionary {
    pub diagnoses: BTreeSet<String>,
    pub procedures: BTreeSet<String>,
}

impl SetDictionary {
    /// Codes of the fixture plus a few used by the tests.
    pub fn standard() -> Self {
        let diagnoses = [
            "K35.800",
            "I10.x00",
            "R10.400",
            "O80.000",
            "N40.x00",
            "P59.900",
            "A01.000x005+J17.0*",
            "J17.0*",
        ];
        Self {
            diagnoses: diagnoses.iter().map(|c| (*c).to_owned()).collect(),
            procedures: ["47.0100x001"].iter().map(|c| (*c).to_owned()).collect(),
        }
    }
}

impl CodeDictionary for SetDictionary {
    fn has_diagnosis(&self, code: &str) -> bool {
        self.diagnoses.contains(code)
    }
    fn has_procedure(&self, code: &str) -> bool {
        self.procedures.contains(code)
    }
}
