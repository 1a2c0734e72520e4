//! Case-ledger storage on every backend of the harness.

use kernel::{FundType, Money, Points};
use platform::store_test;
use platform::wire::Page;
use settlement_service::Migrator;
use settlement_service::store::{CaseFilter, CaseStore, StoredCase};

fn case(hospital: &str, list_id: &str, version: i32, discharge: i32) -> StoredCase {
    StoredCase {
        region: "460100".parse().expect("code"),
        hospital_code: hospital.into(),
        list_id: list_id.into(),
        version,
        fund: FundType::Employee,
        discharge_date: discharge,
        group_code: "GB13".into(),
        points: Points::from_scaled(1_575_000),
        total_cost: Money::from_fen(1_500_000),
        status: "valued".into(),
        content_hash: format!("{hospital}-{list_id}-{version}"),
        case_json: "{}".into(),
    }
}

store_test!(cases_are_keyed_by_hospital_and_list_id, Migrator, |db| {
    let store = CaseStore::new(db.clone());
    let region = "460100".parse().expect("code");
    store
        .insert(&case("H001", "L1", 1, 20250115))
        .await
        .expect("insert");
    // The same list id at another hospital is another case.
    store
        .insert(&case("H002", "L1", 1, 20250120))
        .await
        .expect("insert");
    store
        .insert(&case("H001", "L1", 2, 20250115))
        .await
        .expect("correction");
    assert!(
        store
            .insert(&case("H001", "L1", 2, 20250115))
            .await
            .is_err(),
        "no version twice"
    );
    store
        .insert(&case("H001", "L2", 1, 20250203))
        .await
        .expect("insert");

    let all = store
        .list(
            region,
            &CaseFilter::default(),
            Page {
                offset: 0,
                size: 50,
            },
        )
        .await
        .expect("list");
    assert_eq!(all.len(), 4);
    assert_eq!(all[0].points.to_string(), "157.5000");
    assert_eq!(all[0].total_cost.to_string(), "15000.00");

    let january = CaseFilter {
        discharge_between: Some((20250101, 20250131)),
        ..CaseFilter::default()
    };
    let found = store
        .list(
            region,
            &january,
            Page {
                offset: 0,
                size: 50,
            },
        )
        .await
        .expect("list");
    assert_eq!(found.len(), 3);
    let h2 = CaseFilter {
        hospital_code: Some("H002".into()),
        ..CaseFilter::default()
    };
    assert_eq!(
        store
            .list(
                region,
                &h2,
                Page {
                    offset: 0,
                    size: 50
                }
            )
            .await
            .expect("list")
            .len(),
        1
    );
    let other = "460200".parse().expect("code");
    assert!(
        store
            .list(
                other,
                &CaseFilter::default(),
                Page {
                    offset: 0,
                    size: 50
                }
            )
            .await
            .expect("list")
            .is_empty()
    );
});
