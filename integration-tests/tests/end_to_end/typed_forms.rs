//! The typed valuation and statements written back as the JSON their contracts document them to
//! be equivalent to (a null is an unset field, a member left out an empty list or text), so a
//! test can hold a typed form against the JSON form of the same read member for member. Decimals
//! are compared as values: the typed money has its 2 places ("0.00") where the JSON may write a
//! zero as "0".

use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as settlement;
use serde_json::{Map, Value, json};

fn decimal(value: &Option<common::Decimal>) -> Value {
    value
        .as_ref()
        .map_or(Value::Null, |d| Value::String(d.value.clone()))
}

fn money(value: &Option<common::Money>) -> Value {
    value
        .as_ref()
        .map_or(Value::Null, |m| Value::String(m.yuan.clone()))
}

/// Text the JSON leaves out when empty.
fn put_unless_empty(object: &mut Value, key: &str, text: &str) {
    if let (Some(map), false) = (object.as_object_mut(), text.is_empty()) {
        map.insert(key.to_owned(), Value::String(text.to_owned()));
    }
}

fn put_unless_empty_list(object: &mut Value, key: &str, list: Vec<Value>) {
    if let (Some(map), false) = (object.as_object_mut(), list.is_empty()) {
        map.insert(key.to_owned(), Value::Array(list));
    }
}

/// `CaseVersion.valuation` as the `valuation_json` it stands for.
pub fn valuation(v: &settlement::Valuation) -> Value {
    let mut members = json!({
        "payment_mode": v.payment_mode,
        "mode_rule": v.mode_rule,
        "case_type": v.case_type,
        "group_status": v.group_status,
        "group_reason": v.group_reason,
        "base": decimal(&v.base),
        "coefficient": decimal(&v.coefficient),
        "cost_ratio": decimal(&v.cost_ratio),
        "add_on": decimal(&v.add_on),
        "amount": money(&v.amount),
        "breakdown": v.breakdown.as_ref().map_or(Value::Null, breakdown),
    });
    // The JSON leaves the grouping facts out when there are none.
    if !v.complications.is_empty() {
        members["complications"] = v
            .complications
            .iter()
            .map(|c| json!({"position": c.position, "code": c.code, "kind": c.kind}))
            .collect();
    }
    if !v.dip_treatment.is_empty() {
        members["dip_treatment"] = Value::String(v.dip_treatment.clone());
    }
    members
}

fn breakdown(b: &settlement::ValuationBreakdown) -> Value {
    let mode = if b.per_diem_programme.is_empty() {
        Value::String(b.mode.clone())
    } else {
        let mut object = Map::new();
        object.insert(b.mode.clone(), Value::String(b.per_diem_programme.clone()));
        Value::Object(object)
    };
    json!({
        "decision": {"mode": mode, "rule": b.rule},
        "case_type": b.case_type,
        "base": decimal(&b.base),
        "coefficient": decimal(&b.coefficient),
        "aux_coefficient": decimal(&b.aux_coefficient),
        "cost_ratio": decimal(&b.cost_ratio),
        "add_on": decimal(&b.add_on),
        "special_case_points": decimal(&b.special_case_points),
        "points": decimal(&b.points),
        "amount": money(&b.amount),
        "per_diem_days": b.per_diem_days.iter().map(|p| json!({
            "phase": p.phase,
            "days": p.days,
            "daily_rate": money(&p.daily_rate),
        })).collect::<Vec<_>>(),
        "requires_expert_review": b.requires_expert_review,
        "individual_burden": money(&b.individual_burden),
        "episode_programme": if b.episode_programme.is_empty() {
            Value::Null
        } else {
            Value::String(b.episode_programme.clone())
        },
    })
}

/// `Statement.prepayment` as the `statement_json` it stands for.
pub fn prepayment(p: &settlement::PrepaymentStatement) -> Value {
    let mut line = json!({
        "hospital_code": p.hospital_code,
        "points": decimal(&p.points),
        "point_value": decimal(&p.point_value),
        "fund_value": money(&p.fund_value),
        "individual_burden": money(&p.individual_burden),
        "money_fund_part": money(&p.money_fund_part),
        "prepayment_ratio": decimal(&p.prepayment_ratio),
        "prepayable": money(&p.prepayable),
        "monthly_quota": money(&p.monthly_quota),
        "deferred": money(&p.deferred),
        "capped": money(&p.capped),
        "quality_deposit": money(&p.quality_deposit),
        "payable": money(&p.payable),
    });
    put_unless_empty(&mut line, "point_value_source", &p.point_value_source);
    put_unless_empty(&mut line, "alliance_code", &p.alliance_code);
    line
}

/// `Statement.clearing` as the `statement_json` it stands for.
pub fn clearing(c: &settlement::ClearingStatement) -> Value {
    let mut statement = json!({
        "hospital_code": c.hospital_code,
        "cases": c.cases,
        "ffs_special_cases": c.ffs_special_cases,
        "points": decimal(&c.points),
        "point_value": decimal(&c.point_value),
        "gross_entitlement": money(&c.gross_entitlement),
        "individual_burden": money(&c.individual_burden),
        "points_fund_part": money(&c.points_fund_part),
        "money_fund_part": money(&c.money_fund_part),
        "fund_entitlement": money(&c.fund_entitlement),
        "assessment_coefficient": decimal(&c.assessment_coefficient),
        "assessed_entitlement": money(&c.assessed_entitlement),
        "violation_deductions": money(&c.violation_deductions),
        "sharing_standard": money(&c.sharing_standard),
        "sharing_actual": money(&c.sharing_actual),
        "sharing_tier": c.sharing_tier,
        "sharing_payable": money(&c.sharing_payable),
        "sharing_adjustment": money(&c.sharing_adjustment),
        "ffs_special_amount": money(&c.ffs_special_amount),
        "deposit_withheld": money(&c.deposit_withheld),
        "assessment_score": decimal(&c.assessment_score),
        "deposit_returned": money(&c.deposit_returned),
        "deposit_forfeited": money(&c.deposit_forfeited),
        "final_amount": money(&c.final_amount),
        "prepaid": money(&c.prepaid),
        "balance": money(&c.balance),
        "direction": c.direction,
        "modes": c.modes.iter().map(|m| json!({
            "mode": m.mode,
            "cases": m.cases,
            "points": decimal(&m.points),
            "amount": money(&m.amount),
            "fund_part": money(&m.fund_part),
            "individual_burden": money(&m.individual_burden),
            "total_cost": money(&m.total_cost),
        })).collect::<Vec<_>>(),
    });
    put_unless_empty(
        &mut statement,
        "assessment_score_source",
        &c.assessment_score_source,
    );
    let findings = c
        .violation_findings
        .iter()
        .map(|f| {
            json!({
                "finding_id": f.finding_id,
                "rule_id": f.rule_id,
                "case_ids": f.case_ids,
                "amount": money(&f.amount),
            })
        })
        .collect();
    put_unless_empty_list(&mut statement, "violation_findings", findings);
    let halved = c
        .readmissions_halved
        .iter()
        .map(|h| {
            json!({
                "hospital_code": h.hospital_code,
                "list_id": h.list_id,
                "readmitted_as": h.readmitted_as,
                "gap_days": h.gap_days,
                "points_before": decimal(&h.points_before),
                "points_after": decimal(&h.points_after),
            })
        })
        .collect();
    put_unless_empty_list(&mut statement, "readmissions_halved", halved);
    if let (Some(a), Some(map)) = (&c.alliance, statement.as_object_mut()) {
        map.insert(
            "alliance".to_owned(),
            json!({
                "alliance_code": a.alliance_code,
                "unit_standard": money(&a.unit_standard),
                "unit_actual": money(&a.unit_actual),
                "unit_ratio": decimal(&a.unit_ratio),
                "unit_tier": a.unit_tier,
                "unit_payable": money(&a.unit_payable),
                "share": decimal(&a.share),
                "distribution": a.distribution,
            }),
        );
    }
    statement
}

/// `value` with every decimal text written in its shortest form, so equal amounts compare equal.
fn decimals_as_values(value: Value) -> Value {
    match value {
        Value::String(text) => match text.parse::<rust_decimal::Decimal>() {
            Ok(decimal) => Value::String(decimal.normalize().to_string()),
            Err(_) => Value::String(text),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(decimals_as_values).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, item)| (key, decimals_as_values(item)))
                .collect(),
        ),
        other => other,
    }
}

/// Holds a statement's typed detail against its JSON, and answers the JSON.
pub fn check_statement(statement: &settlement::Statement) -> anyhow::Result<Value> {
    use settlement::statement::Detail;
    let stored: Value = serde_json::from_str(&statement.statement_json)?;
    let typed = match &statement.detail {
        Some(Detail::Prepayment(p)) => prepayment(p),
        Some(Detail::Clearing(c)) => clearing(c),
        other => anyhow::bail!("no prepayment or clearing detail: {other:?}"),
    };
    assert_eq!(
        decimals_as_values(typed),
        decimals_as_values(stored.clone()),
        "typed statement against its JSON"
    );
    Ok(stored)
}

/// Holds a case version's typed valuation against its JSON, and answers the typed valuation.
pub fn check_valuation(
    version: &settlement::CaseVersion,
) -> anyhow::Result<&settlement::Valuation> {
    let typed = version
        .valuation
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("no typed valuation: {version:?}"))?;
    let stored: Value = serde_json::from_str(&version.valuation_json)?;
    assert_eq!(
        decimals_as_values(valuation(typed)),
        decimals_as_values(stored),
        "typed valuation against its JSON"
    );
    Ok(typed)
}
