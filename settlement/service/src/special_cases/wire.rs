//! Stored applications and experts as the wire carries them.

use medpay_proto::settlement::v1 as pb;
use platform::wire;
use settlement_domain::special_case::ReviewDecision;

use super::store::{ExpertRecord, StoredApplication};

fn enum_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

pub fn special_case(stored: &StoredApplication) -> pb::SpecialCase {
    let app = &stored.application;
    let extra_points = match app.decision() {
        Some(ReviewDecision::ExtraPoints(points)) => Some(wire::decimal_to_wire(points)),
        _ => None,
    };
    pb::SpecialCase {
        application_id: app.application_id.clone(),
        region_code: stored.region.to_string(),
        hospital_code: app.case.hospital_code.clone(),
        list_id: app.case.list_id.clone(),
        grounds: app.grounds.iter().map(enum_name).collect(),
        material: app.material.clone(),
        state: app.state().as_str().to_owned(),
        reviewers: app.reviewers().to_vec(),
        decision: app
            .decision()
            .map(|decision| decision.kind().as_str())
            .unwrap_or_default()
            .to_owned(),
        extra_points,
        history_json: serde_json::to_string(app.history()).unwrap_or_default(),
    }
}

pub fn expert(record: ExpertRecord) -> pb::Expert {
    pb::Expert {
        expert_id: record.expert_id,
        name: record.name,
        institution_codes: record.institution_codes,
        specialty: record.specialty,
    }
}
