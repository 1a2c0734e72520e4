//! Special-case storage on every backend of the harness: the registry pool and the decisions
//! year-end clearing reads.

use kernel::date::DateTime;
use kernel::{Points, RegionCode};
use platform::store_test;
use settlement_domain::case_key::CaseKey;
use settlement_domain::special_case::{
    QuotaUsage, ReviewDecision, SpecialCaseApplication, SpecialCaseGround, SpecialCasePolicy,
    ValuationMethod,
};
use settlement_service::Migrator;
use settlement_service::special_cases::store::{
    self, ExpertRecord, StoredApplication, bound_decisions,
};

fn region(code: &str) -> RegionCode {
    code.parse().expect("region code")
}

fn at() -> DateTime {
    "2025-12-01 09:00".parse().expect("date-time")
}

fn application(id: &str, hospital: &str, list_id: &str) -> SpecialCaseApplication {
    SpecialCaseApplication::apply(
        id,
        CaseKey {
            hospital_code: hospital.into(),
            list_id: list_id.into(),
        },
        vec![SpecialCaseGround::VeryHighCost],
        vec!["DOC-1".into()],
        &QuotaUsage {
            hospital_code: hospital.into(),
            method: ValuationMethod::Drg,
            discharges: 100,
            applications: 0,
        },
        &SpecialCasePolicy::default(),
        at(),
    )
    .expect("applies")
}

fn expert(region_code: &str, id: &str, institution: &str) -> ExpertRecord {
    ExpertRecord {
        region: region(region_code),
        expert_id: id.into(),
        name: format!("Expert {id}"),
        specialty: "cardiology".into(),
        institution_codes: vec![institution.into()],
        active: true,
    }
}

store_test!(
    only_bound_decisions_of_the_region_and_year_reach_clearing,
    Migrator,
    |db| {
        let pool_experts = [
            expert("460100", "E1", "H9"),
            expert("460100", "E2", "H8"),
            expert("460100", "E3", "H7"),
            expert("460100", "E4", "H6"),
        ];
        for e in &pool_experts {
            store::put_expert(db, e, 1).await.expect("expert");
        }
        let pool = store::reviewer_pool(db, region("460108"))
            .await
            .expect("pool");
        assert_eq!(
            pool.len(),
            4,
            "a county draws from its prefecture's registry"
        );
        let policy = SpecialCasePolicy::default();

        // Bound in 460108 / 2025; decided but not bound; bound in another prefecture; bound in 2024.
        let cases = [
            ("SC1", "H001", "L1", "460108", 2025, true),
            ("SC2", "H001", "L2", "460108", 2025, false),
            ("SC3", "H002", "L1", "460203", 2025, true),
            ("SC4", "H003", "L9", "460106", 2024, true),
        ];
        for (id, hospital, list_id, county, year, bind) in cases {
            let mut app = application(id, hospital, list_id);
            let stored = StoredApplication {
                region: region(county),
                year,
                payment_mode: "drg".into(),
                application: app.clone(),
            };
            store::insert_application(db, &stored, 1)
                .await
                .expect("insert");
            let registry = if county.starts_with("4601") {
                pool.clone()
            } else {
                store::reviewer_pool(db, region("460100"))
                    .await
                    .expect("pool")
            };
            app.assign_reviewers(&registry, &policy, 5, at())
                .expect("drawn");
            let pair = app.reviewers().to_vec();
            app.decide(
                ReviewDecision::ExtraPoints(Points::from_scaled(1_205_000)),
                &pair,
                at(),
            )
            .expect("decided");
            if bind {
                app.bind("460000", at()).expect("bound");
            }
            let stored = StoredApplication {
                application: app,
                ..stored
            };
            store::update_application(db, &stored, 2)
                .await
                .expect("update");
        }

        let decisions = bound_decisions(db, region("460100"), 2025)
            .await
            .expect("bound");
        assert_eq!(decisions.len(), 1);
        assert_eq!(decisions[0].hospital_code, "H001");
        assert_eq!(decisions[0].list_id, "L1");
        assert_eq!(
            decisions[0].decision,
            ReviewDecision::ExtraPoints(Points::from_scaled(1_205_000))
        );
        let province = bound_decisions(db, region("460000"), 2025)
            .await
            .expect("bound");
        let keys: Vec<(&str, &str)> = province
            .iter()
            .map(|d| (d.hospital_code.as_str(), d.list_id.as_str()))
            .collect();
        assert_eq!(keys, vec![("H001", "L1"), ("H002", "L1")]);
        assert_eq!(
            store::count_applications(db, "H001", 2025)
                .await
                .expect("count"),
            2
        );
        // One application per case.
        let again = StoredApplication {
            region: region("460108"),
            year: 2025,
            payment_mode: "drg".into(),
            application: application("SC9", "H001", "L1"),
        };
        assert!(store::insert_application(db, &again, 3).await.is_err());
        let fetched = store::get_application(db, "SC2")
            .await
            .expect("get")
            .expect("stored");
        assert_eq!(fetched.application.reviewers().len(), 2);
    }
);
