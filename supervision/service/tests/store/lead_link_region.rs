//! A lead's links carry the lead's region (migration m0009), written with each link and filled
//! from the lead for links stored before it.

use platform::store_test;
use sea_orm::{ConnectionTrait, Statement};
use supervision_domain::RuleId;
use supervision_service::Migrator;
use supervision_service::store::SupervisionStore;

use super::{call, finding, hotline_lead, run};

async fn link_regions(db: &sea_orm::DatabaseConnection) -> Vec<i32> {
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT region_code FROM supervision_lead_link ORDER BY seq",
    ))
    .await
    .expect("links")
    .iter()
    .map(|row| row.try_get::<i32>("", "region_code").expect("region"))
    .collect()
}

store_test!(
    a_leads_links_carry_its_region_through_the_migration,
    Migrator,
    |db| {
        use sea_orm_migration::MigratorTrait;
        let store = SupervisionStore::new(db.clone());
        let haikou: kernel::RegionCode = "460100".parse().expect("code");
        let march = kernel::YearMonth::new(2026, 3).expect("month");
        store
            .record_run(
                &call("screened", "ScreenCases"),
                run(haikou, march),
                vec![finding(haikou, march, 1, RuleId::OverFrequency)],
                |_| Vec::new(),
            )
            .await
            .expect("run stored");
        let lead = store
            .record_lead(&call("lead", "RecordLead"), hotline_lead(haikou), |lead| {
                lead.lead_id.clone().into_bytes()
            })
            .await
            .expect("lead");
        let lead_id = String::from_utf8(lead.response().to_vec()).expect("id");
        store
            .link_lead(
                &call("link", "LinkLeadToFinding"),
                haikou,
                (lead_id, "460100-202603-1-1".into()),
                "reviewer".into(),
                |_| Vec::new(),
            )
            .await
            .expect("linked");
        assert_eq!(link_regions(db).await, [460100]);

        // Undone, the column is gone; done again, it is filled from the link's lead.
        Migrator::down(db, Some(1)).await.expect("down");
        Migrator::up(db, None).await.expect("up");
        assert_eq!(link_regions(db).await, [460100]);
    }
);
