//! The typed table document: the same document as its JSON form, read by the same reader, checked
//! by the same checks, stored the same, valuing the same; bad typed fields named by their path.

use std::collections::BTreeMap;

use crate::common::*;
use medpay_proto::points::v1 as pb;
use points_domain::outpatient::ApgTable;
use points_domain::tables::{DipGroupRate, PerDiemProgramme};
use points_domain::{HospitalLevel, ValuationPolicy, ValuationTables};
use tonic::Code;

/// The DOMAIN.md §3 document with every other section filled too: DIP groups with level and
/// basic-level references, level coefficients and add-ons, per-diem rates, fixed rates,
/// day-surgery prices, per-capita rates and the demo APG table, and a policy that departs from
/// the defaults in each section.
fn full_document() -> (ValuationPolicy, ValuationTables) {
    let (mut policy, mut tables) = document();
    let level = |code: &str| HospitalLevel::from_code(code).expect("level");
    let money = |text: &str| text.parse().expect("money");
    policy.version = 3;
    policy.modes.day_surgery.procedure_codes = vec!["47.01".into()];
    policy.modes.fixed_rate.diagnosis_prefixes = vec!["O80".into()];
    policy.modes.basic_level.group_codes = vec!["K35.8".into()];
    policy.modes.excluded_stays.short_stay_enabled = true;
    policy.modes.rehabilitation_hospice.hospice_departments = Vec::new();
    policy.drg.high_cost_tiers.truncate(2);
    policy.drg.high_cost_tiers[1].base_points_up_to = None;
    policy.drg.unstable.min_cases = 8;
    policy.dip.high_strict = false;
    policy.readmission.exempt_adrgs = Vec::new();
    policy.point_value.published_decimal_places = 6;
    policy.special_cases.dip_quota = "0.004".parse().expect("quota");
    policy.apg.include_medical_group = false;
    tables.version = 2;
    tables.dip.groups.insert(
        "K35.8".into(),
        DipGroupRate {
            score: "612.5".parse().expect("score"),
            reference_costs: BTreeMap::from([
                (level("3A"), money("6100")),
                (level("2A"), money("4800.50")),
            ]),
            basic_level_reference: Some(money("4700")),
        },
    );
    tables.coefficients.dip_levels.remove(&level("community"));
    tables
        .coefficients
        .dip_hospital_add_ons
        .insert("H1".into(), "0.02".parse().expect("add-on"));
    tables.coefficients.drg_by_level.insert(
        level("3A"),
        tables.coefficients.drg_by_hospital["H1"].clone(),
    );
    if let Some(phases) = tables
        .per_diem
        .programmes
        .get_mut(&PerDiemProgramme::Psychiatric)
    {
        phases[0].daily_rates.insert(level("3A"), money("420"));
    }
    tables
        .fixed_rates
        .diseases
        .insert("O80".into(), BTreeMap::from([(level("2A"), money("3200"))]));
    tables
        .day_surgery
        .prices
        .insert("47.01".into(), money("5800"));
    tables.per_capita.ordinary_outpatient = money("180");
    tables
        .per_capita
        .chronic_diseases
        .insert("E11".into(), money("2400"));
    tables.apg = Some(ApgTable::demo().expect("demo APG table"));
    (policy, tables)
}

/// The typed document as a vendor writes it: only what differs from the defaults.
fn hand_typed() -> pb::PointsTableDocument {
    let mut groups = BTreeMap::new();
    groups.insert(
        "GB11".to_owned(),
        pb::TableDrgGroup {
            mean_cost: money("15000"),
            base_points: decimal("150"),
            stable: None,
            per_diem_points: None,
        },
    );
    let h1 = pb::TableCoefficientSet {
        all_groups: vec![pb::TableDatedCoefficient {
            coefficient: decimal("1.05"),
            effective_from: date(2025, 1, 1),
            effective_to: None,
        }],
        per_group: BTreeMap::new(),
    };
    pb::PointsTableDocument {
        policy: Some(pb::PointsPolicy {
            region: "460000".into(),
            year: 2025,
            fund_type: EMPLOYEE,
            main_method: "drg".into(),
            ..Default::default()
        }),
        tables: Some(pb::PointsTables {
            region: "460000".into(),
            year: 2025,
            fund_type: EMPLOYEE,
            drg: Some(pb::TableDrg {
                all_case_mean_cost: money("10000"),
                groups,
            }),
            coefficients: Some(pb::TableCoefficients {
                drg_by_hospital: BTreeMap::from([("H1".to_owned(), h1)]),
                ..Default::default()
            }),
            ..Default::default()
        }),
    }
}

fn put_typed(request_id: &str, document: pb::PointsTableDocument) -> pb::PutTableRequest {
    pb::PutTableRequest {
        document: Some(document),
        ..put(request_id, String::new())
    }
}

#[tokio::test]
async fn typed_and_json_documents_store_the_same_document() {
    let mut server = start().await;
    let (policy, tables) = full_document();
    let json = server
        .put_table(put("json", document_json(&policy, &tables)))
        .await
        .expect("json document")
        .table
        .expect("table");
    let typed_read = json
        .document
        .clone()
        .expect("typed form of the stored document");
    // Every section is answered typed, with its non-default values.
    let typed_tables = typed_read.tables.clone().expect("tables");
    assert_eq!(typed_tables.version, Some(2));
    let dip = &typed_tables.dip.as_ref().expect("dip").groups["K35.8"];
    assert_eq!(dip.reference_costs["2A"], money("4800.50").expect("money"));
    assert_eq!(dip.basic_level_reference, money("4700.00"));
    let levels = typed_tables
        .coefficients
        .as_ref()
        .and_then(|c| c.dip_levels.as_ref());
    assert_eq!(levels.expect("levels").levels.len(), 5);
    assert!(
        typed_tables
            .apg
            .as_ref()
            .is_some_and(|apg| !apg.groups.is_empty())
    );
    let typed_policy = typed_read.policy.clone().expect("policy");
    let exempt = typed_policy
        .readmission
        .as_ref()
        .and_then(|r| r.exempt_adrgs.as_ref());
    assert_eq!(exempt.expect("an empty list, set").codes.len(), 0);
    let tiers = typed_policy
        .drg
        .as_ref()
        .and_then(|d| d.high_cost_tiers.as_ref());
    assert_eq!(tiers.expect("tiers").tiers.len(), 2);

    // The typed form put back stores the same document, byte for byte.
    let again = server
        .put_table(put_typed("typed", typed_read.clone()))
        .await
        .expect("typed document")
        .table
        .expect("table");
    assert_eq!(again.version, 2);
    assert_eq!(again.document_json, json.document_json);
    assert_eq!(again.document, Some(typed_read));

    // A vendor's sparse typed document is the JSON document with the same keys.
    let sparse = server
        .put_table(put_typed("sparse", hand_typed()))
        .await
        .expect("sparse typed")
        .table
        .expect("table");
    let sparse_json = r#"{"policy": {"region": "460000", "year": 2025, "fund_type": "310",
        "main_method": "drg"},
      "tables": {"region": "460000", "year": 2025, "fund_type": "310",
        "drg": {"all_case_mean_cost": "10000", "groups": {
          "GB11": {"mean_cost": "15000", "base_points": "150"}}},
        "coefficients": {"drg_by_hospital": {"H1": {"all_groups": [
          {"coefficient": "1.05", "effective_from": "2025-01-01"}]}}}}}"#;
    let plain = server
        .put_table(put("plain", sparse_json.into()))
        .await
        .expect("plain json")
        .table
        .expect("table");
    assert_eq!(sparse.document_json, plain.document_json);
}

#[tokio::test]
async fn a_typed_table_values_cases_as_its_json_form() {
    let mut valuations = Vec::new();
    for typed in [false, true] {
        let mut server = start().await;
        let request = if typed {
            put_typed("put", hand_typed())
        } else {
            let (policy, tables) = document();
            put("put", document_json(&policy, &tables))
        };
        let version = server
            .put_table(request)
            .await
            .expect("put")
            .table
            .expect("table")
            .version;
        server
            .activate_table(activate("activate", version))
            .await
            .expect("activate");
        let mut values = Vec::new();
        for cost in ["15000", "40000", "5000"] {
            values.push(value(&mut server, cost).await);
        }
        valuations.push(values);
    }
    assert_eq!(valuations[0], valuations[1]);
    // The DOMAIN.md §3 worked example: 150 × 1.05.
    assert_eq!(valuations[1][0].points, decimal("157.5000"));
}

#[tokio::test]
async fn bad_typed_fields_are_named_by_their_path() {
    let mut server = start().await;
    let both = server
        .put_table(pb::PutTableRequest {
            document: Some(hand_typed()),
            ..put("both", "{}".into())
        })
        .await
        .expect_err("both forms");
    assert_eq!(both.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&both), ["document", "document_json"]);
    let neither = server
        .put_table(put("neither", String::new()))
        .await
        .expect_err("neither");
    assert_eq!(violated_fields(&neither), ["document"]);

    // Unreadable values, named as they are read.
    let mut bad = hand_typed();
    let tables = bad.tables.as_mut().expect("tables");
    if let Some(drg) = tables.drg.as_mut() {
        drg.groups.get_mut("GB11").expect("GB11").mean_cost = money("15000.001");
        drg.groups
            .insert("GB13".into(), pb::TableDrgGroup::default());
    }
    tables.dip = Some(pb::TableDip {
        groups: BTreeMap::from([(
            "K35.8".to_owned(),
            pb::TableDipGroup {
                score: decimal("600"),
                reference_costs: BTreeMap::from([("4C".to_owned(), money("100").expect("money"))]),
                basic_level_reference: None,
            },
        )]),
    });
    let policy = bad.policy.as_mut().expect("policy");
    policy.main_method = "apg".into();
    policy.drg = Some(pb::PointsDrgRules {
        high_cost_tiers: Some(pb::PointsHighCostTierList {
            tiers: vec![pb::PointsHighCostTier::default()],
        }),
        ..Default::default()
    });
    let refused = server
        .put_table(put_typed("bad", bad))
        .await
        .expect_err("unreadable");
    assert_eq!(
        violated_fields(&refused),
        [
            "document.policy.main_method",
            "document.policy.drg.high_cost_tiers.tiers[0].multiple",
            "document.tables.drg.groups.GB11.mean_cost",
            "document.tables.drg.groups.GB13.mean_cost",
            "document.tables.drg.groups.GB13.base_points",
            "document.tables.dip.groups.K35.8.reference_costs.4C",
        ]
    );

    // Readable values the checks refuse, named by the same checks as the JSON form's.
    let mut invalid = hand_typed();
    let tables = invalid.tables.as_mut().expect("tables");
    tables.year = 2024;
    if let Some(drg) = tables.drg.as_mut() {
        drg.groups.get_mut("GB11").expect("GB11").base_points = decimal("-1");
    }
    let policy = invalid.policy.as_mut().expect("policy");
    policy.readmission = Some(pb::PointsReadmissionRules {
        kept_share: decimal("1.5"),
        ..Default::default()
    });
    let refused = server
        .put_table(put_typed("invalid", invalid))
        .await
        .expect_err("invalid");
    let fields = violated_fields(&refused);
    for field in [
        "document.tables.year",
        "document.policy.readmission.kept_share",
        "document.tables.drg.groups.GB11.base_points",
    ] {
        assert!(
            fields.iter().any(|f| f == field),
            "{field} not in {fields:?}"
        );
    }
    // The JSON form of the same defect is named under document_json.
    let (policy, mut tables) = document();
    tables.drg.groups.get_mut("GB11").expect("GB11").base_points = "-1".parse().expect("points");
    let refused = server
        .put_table(put("invalid-json", document_json(&policy, &tables)))
        .await
        .expect_err("invalid json");
    assert_eq!(
        violated_fields(&refused),
        ["document_json.tables.drg.groups.GB11.base_points"]
    );
    assert!(server.get_table(1).await.is_err(), "nothing was stored");
}

#[tokio::test]
async fn money_left_out_renders_at_the_fen_like_money_given() {
    let mut server = start().await;
    let head = r#"{"policy": {"region": "460000", "year": 2025, "fund_type": "310"},
      "tables": {"region": "460000", "year": 2025, "fund_type": "310""#;
    let mut stored = Vec::new();
    for (request_id, rest) in [
        ("left-out", String::new()),
        (
            "given",
            r#", "drg": {"all_case_mean_cost": "0", "groups": {}},
              "per_capita": {"ordinary_outpatient": "0.00"}"#
                .to_owned(),
        ),
    ] {
        let table = server
            .put_table(put(request_id, format!("{head}{rest}}}}}")))
            .await
            .expect("document")
            .table
            .expect("table");
        stored.push(table);
    }
    // A zero left to its default is stored and answered as a zero given: at the fen.
    assert_eq!(stored[0].document_json, stored[1].document_json);
    assert!(
        stored[0]
            .document_json
            .contains(r#""ordinary_outpatient":"0.00""#),
        "{}",
        stored[0].document_json
    );
    for table in &stored {
        let tables = table
            .document
            .as_ref()
            .and_then(|document| document.tables.as_ref())
            .expect("typed tables");
        let drg = tables.drg.as_ref().expect("drg");
        let per_capita = tables.per_capita.as_ref().expect("per capita");
        assert_eq!(drg.all_case_mean_cost, money("0.00"));
        assert_eq!(per_capita.ordinary_outpatient, money("0.00"));
    }
}
