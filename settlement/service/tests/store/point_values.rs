//! Budget point values published as versions over the current DIP-paid cases.

use kernel::{FundType, Money};
use platform::store_test;
use settlement_service::Migrator;
use settlement_service::runs::RunError;
use settlement_service::store::ledger::CaseStore;

use super::{case, region};

store_test!(
    budget_point_values_are_versions_over_the_current_dip_paid_cases,
    Migrator,
    |db| {
        use kernel::Decimal;
        use settlement_domain::budget_point_value::HistoryWeight;
        use settlement_service::runs::point_value::{
            PublishOrder, for_prepayment, publish, published,
        };
        use settlement_service::store::Database;

        let scored = |county: &str, list_id: &str, mode: &str, fen: i64, discharge: i32| {
            let mut stored = case(county, "H001", list_id, 1, discharge);
            stored.payment_mode = mode.into();
            stored.total_cost = Money::from_fen(fen);
            stored.valuation_json = r#"{"base":"1234.5678","coefficient":"1.15"}"#.into();
            stored
        };
        CaseStore::insert_new_many(
            db,
            &[
                // 1,234.5678 × 1.15 = 1,419.752970 each.
                scored("460108", "L1", "dip", 1_000_001, 20240101),
                scored("460105", "L2", "basic_level_disease", 2_000_003, 20241231),
                // Another prefecture, another mode, another year: not read.
                scored("460201", "L3", "dip", 9_000_000, 20240601),
                scored("460108", "L4", "drg", 9_000_000, 20240601),
                scored("460108", "L5", "dip", 9_000_000, 20250101),
            ],
        )
        .await
        .expect("insert");
        let database = Database::from(db.clone());
        let key = (region("460100"), 2025, FundType::Employee);
        assert!(
            published(&database, key, None)
                .await
                .expect("read")
                .is_none()
        );
        let order = PublishOrder {
            key,
            history: Some(vec![HistoryWeight {
                year: 2024,
                weight: Decimal::new(7, 1),
            }]),
            caller: "bureau".into(),
            at: 1_700_000_000,
        };
        let first = publish(&database, &order).await.expect("publish");
        // 30,000.04 / 2,839.505940 = 10.56523… (the weight cancels).
        assert_eq!(first.value.point_value, Decimal::new(105_652, 4));
        assert_eq!(first.value.history[0].cases, 2);
        assert_eq!(
            first.value.history[0].case_scores,
            Decimal::new(283_950_594, 5)
        );
        let second = publish(&database, &order).await.expect("publish again");
        assert_eq!((first.row.version, second.row.version), (1, 2));
        let read = published(&database, key, Some(1))
            .await
            .expect("read")
            .expect("v1");
        assert_eq!(read.value, first.value);
        let latest = for_prepayment(&database, key).await.expect("latest");
        assert_eq!(
            (latest.version, latest.value),
            (2, Decimal::new(105_652, 4))
        );
        let other_fund = (region("460100"), 2025, FundType::Resident);
        match for_prepayment(&database, other_fund).await {
            Err(RunError::Precondition { reason, .. }) => {
                assert_eq!(reason, "NO_BUDGET_POINT_VALUE")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
);
