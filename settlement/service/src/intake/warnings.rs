//! The warnings kept with the records a chunk stores ([`settlement_domain::intake_warnings`]):
//! validation's, found when the record was read, and the codes grouping did not know when the
//! record was valued. A record stored again unchanged is not stored, so it adds none.

use std::collections::HashMap;

use settlement_domain::admission::Admitted;
use settlement_domain::intake_warnings::warnings_of;
use settlement_domain::ports::UnknownCode;

use crate::store::warnings::KeptWarnings;

/// The warnings of the records about to be stored (`to_store`: index into `prepared`, version),
/// for those that have any.
pub(super) fn kept(
    prepared: &[Admitted],
    to_store: &[(usize, u32)],
    unknown: &HashMap<u64, Vec<UnknownCode>>,
) -> Vec<KeptWarnings> {
    to_store
        .iter()
        .filter_map(|&(index, _)| {
            let case = prepared.get(index)?;
            let codes = unknown.get(&case.position).map_or(&[][..], Vec::as_slice);
            let warnings = warnings_of(&case.warnings, codes);
            (!warnings.is_empty()).then(|| KeptWarnings {
                region: case.region,
                hospital_code: case.key.hospital_code.clone(),
                list_id: case.key.list_id.clone(),
                content_hash: case.hash.to_string(),
                warnings,
            })
        })
        .collect()
}
