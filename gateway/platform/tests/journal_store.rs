//! The journal on a real database (SQLite, and PostgreSQL with `TEST_DATABASE_URL`): a request
//! runs once and replays, a reused request id is refused, concurrent attempts commit once, a
//! failed effect writes nothing, and the audit entry commits with the effect and reads back
//! through the region-scoped, paginated listing.

use std::sync::Arc;

use kernel::{Principal, RegionCode};
use platform::journal::{
    AuditListing, Call, Effect, Fingerprint, Journal, JournalError, Once, RequestIdReused,
    migration,
};
use platform::store_test;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction};
use sea_orm_migration::prelude::*;
use tonic::Code;
use tonic_types::StatusExt;

const JOURNAL: Journal = Journal::new("demo");

struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(FirstRelease), Box::new(Fingerprints)]
    }

    fn migration_table_name() -> DynIden {
        "demo_migrations".into_iden()
    }
}

/// The journal tables as first released, with one request and one audit entry written then.
struct FirstRelease;

impl MigrationName for FirstRelease {
    fn name(&self) -> &str {
        "m0001_first_release"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for FirstRelease {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        migration::create_tables(manager, "demo").await?;
        manager
            .create_table(
                Table::create()
                    .table("demo_thing")
                    .col(
                        ColumnDef::new("id")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("name").string().not_null())
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO demo_request (caller_id, request_id, method, response) \
             VALUES ('old-caller', 'old-1', 'PutThing', 'old answer')",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO demo_audit (at_unix_seconds, caller_id, action, detail, request_id) \
             VALUES (5, 'old-caller', 'PutThing', 'stored before regions', 'old-1')",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        migration::drop_tables(manager, "demo").await
    }
}

struct Fingerprints;

impl MigrationName for Fingerprints {
    fn name(&self) -> &str {
        "m0002_fingerprints"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Fingerprints {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        migration::add_fingerprint_and_region(manager, "demo").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        migration::drop_fingerprint_and_region(manager, "demo").await
    }
}

fn region(code: &str) -> RegionCode {
    code.parse().expect("region code")
}

/// A request body, as a protobuf message.
fn body(name: &str) -> medpay_proto::common::v1::Decimal {
    medpay_proto::common::v1::Decimal {
        value: name.to_owned(),
    }
}

fn call(request_id: &str, method: &str, name: &str) -> Call {
    Call::new(
        "county-460108",
        request_id,
        method,
        &body(name),
        Some(region("460108")),
    )
}

async fn insert_thing(txn: &DatabaseTransaction, name: &str) -> Result<(), DbErr> {
    let insert = Query::insert()
        .into_table("demo_thing")
        .columns(["name"])
        .values_panic([name.into()])
        .to_owned();
    txn.execute(&insert).await.map(drop)
}

/// An effect that stores a thing named `name` and answers with the name.
fn put_thing(
    name: &str,
) -> impl for<'c> FnOnce(&'c DatabaseTransaction) -> Effect<'c, JournalError> {
    let name = name.to_owned();
    move |txn| {
        Box::pin(async move {
            insert_thing(txn, &name).await?;
            Ok((name.as_bytes().to_vec(), format!("stored {name}")))
        })
    }
}

async fn things(db: &DatabaseConnection) -> Vec<String> {
    let select = Query::select()
        .column("name")
        .from("demo_thing")
        .order_by("id", Order::Asc)
        .to_owned();
    db.query_all(&select)
        .await
        .expect("things")
        .into_iter()
        .map(|row| row.try_get("", "name").expect("name"))
        .collect()
}

async fn journal_entries(db: &DatabaseConnection) -> Vec<platform::journal::AuditEntry> {
    JOURNAL.all_audit_entries(db).await.expect("audit")
}

fn reused(error: JournalError) -> RequestIdReused {
    match error {
        JournalError::Reused(reused) => reused,
        JournalError::Database(error) => panic!("expected a reused request id, got {error}"),
    }
}

/// Stores "a" under `req-1` of PutThing, then runs `second` storing `name`, which the journal
/// must refuse as a reused request id.
async fn refused_after_a(db: &DatabaseConnection, second: Call, name: &str) -> RequestIdReused {
    JOURNAL
        .run_once(db, &call("req-1", "PutThing", "a"), put_thing("a"))
        .await
        .expect("first");
    let refused = JOURNAL
        .run_once(db, &second, put_thing(name))
        .await
        .expect_err("a reused request id");
    reused(refused)
}

store_test!(a_request_runs_once_and_replays, Migrator, |db| {
    let first = JOURNAL
        .run_once(db, &call("req-1", "PutThing", "a"), put_thing("a"))
        .await
        .expect("first");
    assert_eq!(first, Once::Done(b"a".to_vec()));
    let again = JOURNAL
        .run_once(db, &call("req-1", "PutThing", "a"), put_thing("a"))
        .await
        .expect("retry");
    assert_eq!(again, Once::Replayed(b"a".to_vec()));
    assert_eq!(things(db).await, ["a"], "the effect ran once");
    let entries = journal_entries(db).await;
    assert_eq!(entries.len(), 2, "the old entry and one new one");
    let entry = &entries[1];
    assert_eq!(entry.detail, "stored a");
    assert_eq!(entry.method, "PutThing");
    assert_eq!(entry.request_id, "req-1");
    assert_eq!(entry.region, Some(region("460108")));
    // The same request id of another caller is another request.
    let other = Call {
        caller_id: "county-460106".into(),
        ..call("req-1", "PutThing", "b")
    };
    let theirs = JOURNAL
        .run_once(db, &other, put_thing("b"))
        .await
        .expect("other caller");
    assert_eq!(theirs, Once::Done(b"b".to_vec()));
});

store_test!(
    a_request_id_with_a_different_body_is_refused,
    Migrator,
    |db| {
        let refused = refused_after_a(db, call("req-1", "PutThing", "b"), "b").await;
        assert_eq!(refused.first_method, "PutThing");
        let status = tonic::Status::from(refused);
        platform::testing::assert_request_id_reused(&status, "req-1", "PutThing");
        let details = status.get_error_details();
        let info = details.error_info().expect("error info");
        assert_eq!(
            info.metadata.get("first_method").map(String::as_str),
            Some("PutThing")
        );
        assert_eq!(things(db).await, ["a"], "the second body was not stored");
        assert_eq!(journal_entries(db).await.len(), 2);
        // The check before the work refuses the same way.
        let checked = JOURNAL
            .replay::<_, JournalError>(db, &call("req-1", "PutThing", "b"))
            .await
            .expect_err("checked before the effect");
        assert_eq!(reused(checked).request_id, "req-1");
    }
);

store_test!(
    a_request_id_used_by_another_method_is_refused,
    Migrator,
    |db| {
        let refused = refused_after_a(db, call("req-1", "DeleteThing", "a"), "gone").await;
        assert_eq!(refused.first_method, "PutThing");
        assert_eq!(refused.method, "DeleteThing");
        assert!(refused.to_string().contains("another method"));
        assert_eq!(things(db).await, ["a"]);
    }
);

store_test!(
    a_request_stored_before_fingerprints_replays_for_its_method_only,
    Migrator,
    |db| {
        let legacy = Call {
            caller_id: "old-caller".into(),
            ..call("old-1", "PutThing", "whatever")
        };
        let replayed = JOURNAL
            .run_once(db, &legacy, put_thing("again"))
            .await
            .expect("old request replays");
        assert_eq!(replayed, Once::Replayed(b"old answer".to_vec()));
        let other_method = Call {
            method: "DeleteThing".into(),
            ..legacy
        };
        let refused = JOURNAL
            .run_once(db, &other_method, put_thing("gone"))
            .await
            .expect_err("another method");
        assert_eq!(reused(refused).first_method, "PutThing");
        assert!(things(db).await.is_empty());
    }
);

store_test!(
    concurrent_attempts_with_one_key_commit_once,
    Migrator,
    |db| {
        // On PostgreSQL both attempts are inside their transactions before either writes; SQLite has
        // one writer (and the in-memory database one connection), so there they queue.
        let together = Arc::new(tokio::sync::Barrier::new(
            if db.get_database_backend() == sea_orm::DbBackend::Postgres {
                2
            } else {
                1
            },
        ));
        let attempt = |name: &'static str| {
            let db = db.clone();
            let together = together.clone();
            async move {
                JOURNAL
                    .run_once::<JournalError, _>(
                        &db,
                        &call("req-1", "PutThing", "a"),
                        move |txn| -> Effect<'_, JournalError> {
                            Box::pin(async move {
                                together.wait().await;
                                insert_thing(txn, name).await?;
                                Ok((name.as_bytes().to_vec(), format!("stored {name}")))
                            })
                        },
                    )
                    .await
            }
        };
        let (first, second) = tokio::join!(attempt("first"), attempt("second"));
        let (first, second) = (first.expect("first"), second.expect("second"));
        assert_eq!(
            first.response(),
            second.response(),
            "both callers get the winner's answer"
        );
        assert_eq!(
            [first.is_replay(), second.is_replay()]
                .iter()
                .filter(|replay| **replay)
                .count(),
            1,
            "exactly one attempt committed"
        );
        let stored = things(db).await;
        assert_eq!(stored.len(), 1, "one effect committed: {stored:?}");
        assert_eq!(stored[0].as_bytes(), first.response());
        assert_eq!(journal_entries(db).await.len(), 2);
    }
);

store_test!(
    a_failed_effect_writes_nothing_and_can_be_retried,
    Migrator,
    |db| {
        let failed = JOURNAL
            .run_once(
                db,
                &call("req-2", "PutThing", "a"),
                |txn| -> Effect<'_, JournalError> {
                    Box::pin(async move {
                        insert_thing(txn, "half").await?;
                        Err(DbErr::Custom("refused".into()).into())
                    })
                },
            )
            .await;
        assert!(failed.is_err());
        assert!(things(db).await.is_empty(), "the effect was rolled back");
        assert_eq!(journal_entries(db).await.len(), 1, "only the old entry");
        let retried = JOURNAL
            .run_once(db, &call("req-2", "PutThing", "a"), put_thing("a"))
            .await
            .expect("retry after failure");
        assert_eq!(retried, Once::Done(b"a".to_vec()));
    }
);

fn admin(scopes: &[&str]) -> Principal {
    Principal {
        caller_id: "bureau".into(),
        scopes: scopes.iter().map(|s| region(s)).collect(),
        roles: vec!["admin".into()],
        institution: None,
    }
}

store_test!(
    audit_entries_list_by_scope_filter_and_page,
    Migrator,
    |db| {
        let writes = [
            ("c1", "460108", "PutThing"),
            ("c2", "460106", "PutThing"),
            ("c1", "460108", "DeleteThing"),
            ("c1", "460202", "PutThing"),
        ];
        for (index, (caller, code, method)) in writes.iter().enumerate() {
            let write = Call {
                caller_id: (*caller).to_owned(),
                at_unix_seconds: 100 + index as i64,
                ..Call::new(
                    caller,
                    &format!("req-{index}"),
                    method,
                    &body("x"),
                    Some(region(code)),
                )
            };
            JOURNAL
                .run_once(db, &write, put_thing(&format!("t{index}")))
                .await
                .expect("write");
        }
        let list = |principal: Principal, listing: AuditListing<'static>| async move {
            JOURNAL
                .list_audit_entries(db, &principal, listing)
                .await
                .map(|page| {
                    (
                        page.entries
                            .iter()
                            .map(|e| e.request_id.clone())
                            .collect::<Vec<_>>(),
                        page.next_page_token,
                    )
                })
        };
        // The province sees everything, the entry without a region included.
        let (all, _) = list(admin(&["460000"]), AuditListing::default())
            .await
            .expect("province");
        assert_eq!(all, ["old-1", "req-0", "req-1", "req-2", "req-3"]);
        // A prefecture sees its counties only, and no entry without a region.
        let (haikou, _) = list(admin(&["460100"]), AuditListing::default())
            .await
            .expect("prefecture");
        assert_eq!(haikou, ["req-0", "req-1", "req-2"]);
        // A region filter inside the province leaves out entries without a region.
        let (county, _) = list(
            admin(&["460000"]),
            AuditListing {
                region_code: "460108",
                ..AuditListing::default()
            },
        )
        .await
        .expect("county filter");
        assert_eq!(county, ["req-0", "req-2"]);
        let (by_caller_and_method, _) = list(
            admin(&["460000"]),
            AuditListing {
                caller_id: "c1",
                method: "PutThing",
                ..AuditListing::default()
            },
        )
        .await
        .expect("caller and method");
        assert_eq!(by_caller_and_method, ["req-0", "req-3"]);
        let (in_time, _) = list(
            admin(&["460000"]),
            AuditListing {
                since_unix_seconds: 101,
                until_unix_seconds: 103,
                ..AuditListing::default()
            },
        )
        .await
        .expect("time range");
        assert_eq!(in_time, ["req-1", "req-2"]);
        // Pages of two, keyed on the entry id.
        let mut seen = Vec::new();
        let mut token = String::new();
        loop {
            let principal = admin(&["460000"]);
            let page = JOURNAL
                .list_audit_entries(
                    db,
                    &principal,
                    AuditListing {
                        page_size: 2,
                        page_token: &token,
                        ..AuditListing::default()
                    },
                )
                .await
                .expect("page");
            assert!(page.entries.len() <= 2);
            seen.extend(page.entries.into_iter().map(|e| e.request_id));
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        assert_eq!(seen, all);
        // A region outside the caller's scope is refused, as is a caller who is no administrator.
        let outside = list(
            admin(&["460100"]),
            AuditListing {
                region_code: "460202",
                ..AuditListing::default()
            },
        )
        .await
        .expect_err("outside scope");
        assert_eq!(outside.code(), Code::PermissionDenied);
        let agency = Principal {
            roles: vec!["agency".into()],
            institution: None,
            ..admin(&["460000"])
        };
        let denied = list(agency, AuditListing::default())
            .await
            .expect_err("not an administrator");
        assert_eq!(denied.code(), Code::PermissionDenied);
        let bad = list(
            admin(&["460000"]),
            AuditListing {
                page_token: "o5",
                ..AuditListing::default()
            },
        )
        .await
        .expect_err("foreign token");
        assert_eq!(bad.code(), Code::InvalidArgument);
    }
);

#[test]
fn a_fingerprint_depends_on_the_method_and_every_byte_of_the_body() {
    let a = Fingerprint::of("PutThing", &body("a"));
    assert_eq!(a, Fingerprint::of("PutThing", &body("a")));
    assert_ne!(a, Fingerprint::of("PutThing", &body("b")));
    assert_ne!(a, Fingerprint::of("DeleteThing", &body("a")));
    assert_eq!(a.as_str().len(), 64);
    // Parts are length-prefixed, so moving bytes between parts changes the fingerprint.
    assert_ne!(
        Fingerprint::of_parts("M", &[b"ab", b"c"]),
        Fingerprint::of_parts("M", &[b"a", b"bc"])
    );
}
