//! Each context owns its tables: every table a context's migrations create carries the context's
//! name as its prefix, so no two contexts can share or reach into a table, and a context's data can
//! move to a database of its own. `.ci/check-architecture` runs this test.

use gateway::server::ContextName;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

async fn tables(db: &DatabaseConnection) -> Vec<String> {
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         ORDER BY name",
    ))
    .await
    .expect("list tables")
    .iter()
    .map(|row| row.try_get::<String>("", "name").expect("table name"))
    .collect()
}

fn prefix(context: ContextName) -> &'static str {
    match context {
        ContextName::Grouping => "grouping_",
        ContextName::Points => "points_",
        ContextName::Budget => "budget_",
        ContextName::Settlement => "settlement_",
        ContextName::Supervision => "supervision_",
    }
}

#[tokio::test]
async fn every_context_table_carries_its_context_prefix() {
    let mut seen = Vec::new();
    for context in ContextName::ALL {
        let db = platform::db::connect("sqlite::memory:")
            .await
            .expect("sqlite");
        context.migrate(&db).await.expect("migrations run");
        let created = tables(&db).await;
        assert!(
            created.len() > 1,
            "{context:?} creates its tables and its migration table: {created:?}"
        );
        let foreign: Vec<&String> = created
            .iter()
            .filter(|table| !table.starts_with(prefix(context)))
            .collect();
        assert!(
            foreign.is_empty(),
            "{context:?} creates tables without its prefix {}: {foreign:?}",
            prefix(context)
        );
        assert!(
            created.contains(&format!("{}migrations", prefix(context))),
            "{context:?} keeps its own migration table"
        );
        seen.extend(created);
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        seen.len(),
        "no table is created by two contexts"
    );
}

#[tokio::test]
async fn the_edge_key_store_tables_are_prefixed_access() {
    let db = platform::testing::sqlite::<gateway::access::Migrator>().await;
    let created = tables(&db).await;
    assert!(created.contains(&"access_migrations".to_owned()));
    assert!(
        created.iter().all(|table| table.starts_with("access_")),
        "{created:?}"
    );
}
