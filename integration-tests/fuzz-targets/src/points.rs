//! Valuation tables and policies from outside (the document `PutTable` stores), used to value
//! cases: a document that validates must value any case without panicking.

use points_domain::{CaseForValuation, ValuationPolicy, ValuationTables, valuate_all};
use serde::Deserialize;

/// The points target's input: a table document and cases to value with it.
#[derive(Deserialize)]
struct TablesInput {
    policy: ValuationPolicy,
    tables: ValuationTables,
    #[serde(default)]
    cases: Vec<CaseForValuation>,
}

/// JSON `{"policy": …, "tables": …, "cases": [CaseForValuation…]}`: when the policy and the
/// tables validate as `PutTable` checks them, every case is valued.
pub fn tables(data: &[u8]) {
    let Ok(input) = serde_json::from_slice::<TablesInput>(data) else {
        return;
    };
    if input.policy.validate().is_err() || input.tables.validate(&input.policy).is_err() {
        return;
    }
    let _ = valuate_all(&input.policy, &input.tables, &input.cases);
}
