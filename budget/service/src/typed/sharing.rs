//! `SharingPolicy` ⇄ [`SharingPolicy`].

use budget_domain::{OverspendBand, SharingPolicy};
use medpay_proto::budget::v1 as pb;
use platform::wire::Violation;

use super::{Reader, decimal_to_wire, word_of};

/// Reads a typed sharing policy over the defaults a JSON table gives a missing key (the Hainan
/// table's); every violation is named under `prefix` (`policy`). The table is validated by the
/// caller, as a JSON one is.
pub fn policy_from_wire(
    prefix: &str,
    given: &pb::SharingPolicy,
) -> Result<SharingPolicy, Vec<Violation>> {
    let mut read = Reader::new(prefix);
    let mut policy = SharingPolicy::default();
    if let Some(surplus) = &given.surplus {
        // A surplus rule given is read as the JSON's `surplus` object: what it leaves out takes
        // the rule's defaults (no cap, nothing beyond it).
        let target = &mut policy.surplus;
        *target = Default::default();
        if surplus.retained_cap.is_some() {
            target.retained_cap =
                read.decimal("surplus.retained_cap", surplus.retained_cap.as_ref());
        }
        read.decimal_into(
            "surplus.beyond_cap_retained_share",
            surplus.beyond_cap_retained_share.as_ref(),
            &mut target.beyond_cap_retained_share,
        );
    }
    if let Some(list) = &given.overspend_bands {
        policy.overspend_bands = list
            .bands
            .iter()
            .enumerate()
            .filter_map(|(index, band)| {
                let at = |field: &str| format!("overspend_bands.bands[{index}].{field}");
                let lower = read.decimal(&at("lower_ratio"), band.lower_ratio.as_ref());
                let upper = match &band.upper_ratio {
                    None => Some(None),
                    Some(upper) => read.decimal(&at("upper_ratio"), Some(upper)).map(Some),
                };
                let rate = read.decimal(&at("shared_rate"), band.shared_rate.as_ref());
                Some(OverspendBand {
                    lower_ratio: lower?,
                    upper_ratio: upper?,
                    shared_rate: rate?,
                })
            })
            .collect();
    }
    read.word_into(
        "reserve_shortfall",
        &given.reserve_shortfall,
        &mut policy.reserve_shortfall,
    );
    read.finish(Some(policy))
}

/// The typed form of a policy, every field set.
pub fn policy_to_wire(policy: &SharingPolicy) -> pb::SharingPolicy {
    pb::SharingPolicy {
        surplus: Some(pb::SurplusRule {
            retained_cap: policy.surplus.retained_cap.and_then(decimal_to_wire),
            beyond_cap_retained_share: decimal_to_wire(policy.surplus.beyond_cap_retained_share),
        }),
        overspend_bands: Some(pb::OverspendBandList {
            bands: policy
                .overspend_bands
                .iter()
                .map(|band| pb::OverspendBand {
                    lower_ratio: decimal_to_wire(band.lower_ratio),
                    upper_ratio: band.upper_ratio.and_then(decimal_to_wire),
                    shared_rate: decimal_to_wire(band.shared_rate),
                })
                .collect(),
        }),
        reserve_shortfall: word_of(&policy.reserve_shortfall),
    }
}
