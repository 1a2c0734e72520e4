//! The API key store on SQLite and PostgreSQL: keys are stored hashed, verified, rotated, revoked
//! and listed page by page, and no secret reaches any stored column or the audit log.

use std::time::Duration;

use gateway::access::key::PresentedKey;
use gateway::access::policy::KeySpec;
use gateway::access::store::{AuditEntry, KeyRecord, ListCursor, ListFilter, StoreError, Written};
use gateway::access::{KeyStore, Migrator, StoredKeys, describe, issue, unix_now};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

fn spec(caller: &str, scope: &str, roles: &[&str]) -> KeySpec {
    KeySpec {
        caller_id: caller.into(),
        scopes: vec![scope.parse().expect("code")],
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        institution: None,
        expires_at: None,
    }
}

fn audit(action: &str, record: &KeyRecord) -> AuditEntry {
    AuditEntry {
        at_unix_seconds: unix_now(),
        actor: "os:tester".into(),
        action: action.into(),
        key_id: record.key_id.clone(),
        detail: describe(record),
        request_id: String::new(),
    }
}

/// Creates a key of `spec` at `created_at`; returns its record and the full key.
async fn create(store: &KeyStore, spec: &KeySpec, created_at: i64) -> (KeyRecord, String) {
    let (record, issued, hash) = issue(spec, "os:tester", created_at, None)
        .await
        .expect("issue");
    assert_eq!(
        store
            .create(&record, &hash, &audit("CreateApiKey", &record), None)
            .await
            .expect("create"),
        Written::Applied(())
    );
    (record, issued.reveal())
}

/// Rotates `old` to a new vendor key of 460100, `old` ending at `old_ends_at`; returns the new
/// key's record, the full key and the store's answer.
async fn rotate(
    store: &KeyStore,
    old: &KeyRecord,
    now: i64,
    old_ends_at: i64,
) -> (KeyRecord, String, Result<Written<()>, StoreError>) {
    let (new, issued, hash) = issue(
        &spec("vendor", "460100", &["submit"]),
        "os:tester",
        now,
        Some(old.key_id.clone()),
    )
    .await
    .expect("issue");
    let answer = store
        .rotate(
            &old.key_id,
            old_ends_at,
            &new,
            &hash,
            &audit("RotateApiKey", old),
            None,
        )
        .await;
    (new, issued.reveal(), answer)
}

/// Every text value of every row of the `access_*` tables.
async fn stored_text(db: &DatabaseConnection) -> String {
    let mut text = String::new();
    let key_columns: &[&str] = &[
        "key_id",
        "caller_id",
        "scopes",
        "roles",
        "COALESCE(institution, '')",
        "secret_hash",
        "created_by",
        "COALESCE(rotated_from, '')",
        "COALESCE(revoked_by, '')",
        "COALESCE(revoke_reason, '')",
    ];
    let audit_columns: &[&str] = &["actor", "action", "key_id", "detail", "request_id"];
    for (table, columns) in [
        ("access_api_key", key_columns),
        ("access_audit", audit_columns),
    ] {
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT {} FROM {table}", columns.join(", ")),
            ))
            .await
            .expect("read");
        for row in rows {
            for index in 0..columns.len() {
                let value: String = row.try_get_by_index(index).expect("text");
                text.push_str(&value);
                text.push('\n');
            }
        }
    }
    text
}

fn secret_of(key: &str) -> &str {
    key.rsplit('_').next().expect("secret")
}

platform::store_test!(
    created_keys_verify_and_only_their_hash_is_stored,
    Migrator,
    |db| {
        let store = KeyStore::new(db.clone());
        let keys = StoredKeys::new(store.clone());
        let (record, key) = create(&store, &spec("meilan", "460108", &["read"]), unix_now()).await;
        let presented = PresentedKey::parse(&key).expect("well formed");
        let principal = keys
            .verify(&presented)
            .await
            .expect("store")
            .expect("valid");
        assert_eq!(principal.caller_id, "meilan");
        assert_eq!(principal.roles, ["read"]);
        assert_eq!(principal.scopes, record.scopes);

        // The same id with another secret is refused, cached or not.
        let forged = format!("mpk_{}_{}", record.key_id, "0".repeat(64));
        let forged_key = PresentedKey::parse(&forged).expect("well formed");
        assert_eq!(keys.verify(&forged_key).await.expect("store"), None);
        let cold = StoredKeys::new(store.clone());
        assert_eq!(cold.verify(&forged_key).await.expect("store"), None);
        let unknown = format!("mpk_{}_{}", "f".repeat(16), secret_of(&key));
        assert_eq!(
            cold.verify(&PresentedKey::parse(&unknown).expect("well formed"))
                .await
                .expect("store"),
            None
        );

        let (_, hash) = store
            .get_with_hash(&record.key_id)
            .await
            .expect("read")
            .expect("stored");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert_ne!(hash, secret_of(&key));
        let text = stored_text(db).await;
        assert!(text.contains(&record.key_id), "the key id is public");
        assert!(
            !text.contains(secret_of(&key)),
            "no stored column holds the secret"
        );
        assert!(!text.contains(&key));
    }
);

platform::store_test!(
    revocation_applies_at_once_through_the_cache_and_later_elsewhere,
    Migrator,
    |db| {
        let store = KeyStore::new(db.clone());
        let here = StoredKeys::new(store.clone());
        let ttl = Duration::from_secs(2);
        let elsewhere = StoredKeys::with_cache_ttl(store.clone(), ttl);
        let (record, key) =
            create(&store, &spec("vendor", "460100", &["submit"]), unix_now()).await;
        let presented = PresentedKey::parse(&key).expect("well formed");
        assert!(here.verify(&presented).await.expect("store").is_some());
        let cached_at = std::time::Instant::now();
        assert!(elsewhere.verify(&presented).await.expect("store").is_some());

        let now = unix_now();
        let revoked = store
            .revoke(
                &record.key_id,
                now,
                "leaked",
                &audit("RevokeApiKey", &record),
                None,
            )
            .await
            .expect("revoke");
        assert_eq!(revoked, Written::Applied(()));
        here.forget(&record.key_id);
        assert_eq!(
            here.verify(&presented).await.expect("store"),
            None,
            "at once here"
        );
        // Another process still trusts its cached verification until it runs out (checked only
        // when this machine was quick enough to get here within the cache's life), then refuses.
        let trusted = elsewhere.verify(&presented).await.expect("store").is_some();
        if cached_at.elapsed() < ttl / 2 {
            assert!(trusted, "a verification is cached for its lifetime");
        }
        tokio::time::sleep(ttl.saturating_sub(cached_at.elapsed()) + Duration::from_millis(50))
            .await;
        assert_eq!(elsewhere.verify(&presented).await.expect("store"), None);

        let again = store
            .revoke(
                &record.key_id,
                now,
                "twice",
                &audit("RevokeApiKey", &record),
                None,
            )
            .await
            .expect_err("already revoked");
        assert!(matches!(again, StoreError::AlreadyRevoked(_)), "{again}");
        let missing = store
            .revoke(
                &"0".repeat(16),
                now,
                "none",
                &audit("RevokeApiKey", &record),
                None,
            )
            .await
            .expect_err("missing");
        assert!(matches!(missing, StoreError::NotFound(_)), "{missing}");
        let stored = store
            .get(&record.key_id)
            .await
            .expect("read")
            .expect("kept");
        assert_eq!(stored.revoked_at, Some(now));
        assert_eq!(stored.revoke_reason.as_deref(), Some("leaked"));
        assert_eq!(stored.revoked_by.as_deref(), Some("os:tester"));
        assert_eq!(
            store.audit_log().await.expect("audit").len(),
            2,
            "create and one revoke"
        );
    }
);

platform::store_test!(
    rotation_replaces_a_key_at_once_or_after_an_overlap,
    Migrator,
    |db| {
        let store = KeyStore::new(db.clone());
        let keys = StoredKeys::new(store.clone());
        let now = unix_now();
        let (old, old_key) = create(&store, &spec("vendor", "460100", &["submit"]), now).await;
        let (new, new_key, rotated) = rotate(&store, &old, now, now).await;
        rotated.expect("rotate");
        assert_eq!(
            keys.verify(&PresentedKey::parse(&old_key).expect("old"))
                .await
                .expect("store"),
            None,
            "the old key stops at once"
        );
        let principal = keys
            .verify(&PresentedKey::parse(&new_key).expect("new"))
            .await
            .expect("store")
            .expect("the new key works");
        assert_eq!(principal.caller_id, "vendor");
        let stored_old = store.get(&old.key_id).await.expect("read").expect("kept");
        assert_eq!(
            stored_old.revoke_reason,
            Some(format!("rotated to {}", new.key_id))
        );
        assert_eq!(
            store
                .get(&new.key_id)
                .await
                .expect("read")
                .expect("kept")
                .rotated_from,
            Some(old.key_id.clone())
        );
        // A rotated key cannot be rotated again.
        let (again, _, refused) = rotate(&store, &old, now, now).await;
        let refused = refused.expect_err("already rotated");
        assert!(matches!(refused, StoreError::AlreadyRevoked(_)));
        assert!(
            store.get(&again.key_id).await.expect("read").is_none(),
            "nothing written"
        );

        // With an overlap the old key keeps working until its end, which a revocation brings forward.
        let (overlapping, overlapping_key) =
            create(&store, &spec("vendor", "460100", &["submit"]), now).await;
        let (_, _, rotated) = rotate(&store, &overlapping, now, now + 3600).await;
        rotated.expect("rotate with overlap");
        let presented = PresentedKey::parse(&overlapping_key).expect("key");
        assert!(
            keys.verify(&presented).await.expect("store").is_some(),
            "still in its overlap"
        );
        store
            .revoke(
                &overlapping.key_id,
                now,
                "rolled out early",
                &audit("RevokeApiKey", &overlapping),
                None,
            )
            .await
            .expect("bring the revocation forward");
        keys.forget(&overlapping.key_id);
        assert_eq!(keys.verify(&presented).await.expect("store"), None);

        let text = stored_text(db).await;
        for key in [&old_key, &new_key, &overlapping_key] {
            assert!(!text.contains(secret_of(key)));
        }
    }
);

platform::store_test!(expired_keys_do_not_verify, Migrator, |db| {
    let store = KeyStore::new(db.clone());
    let keys = StoredKeys::new(store.clone());
    let mut short = spec("vendor", "460100", &["read"]);
    short.expires_at = Some(unix_now() - 1);
    let (_, key) = create(&store, &short, unix_now() - 10).await;
    assert_eq!(
        keys.verify(&PresentedKey::parse(&key).expect("key"))
            .await
            .expect("store"),
        None
    );
});

platform::store_test!(
    keys_list_newest_first_page_by_page_within_what_is_visible,
    Migrator,
    |db| {
        let store = KeyStore::new(db.clone());
        let base = unix_now() - 100;
        let mut haikou = Vec::new();
        for (index, scope) in ["460105", "460200", "460106", "460100", "460000", "460108"]
            .iter()
            .enumerate()
        {
            let at = base + i64::try_from(index).expect("small");
            let (record, _) = create(
                &store,
                &spec(&format!("caller-{index}"), scope, &["read"]),
                at,
            )
            .await;
            if scope.starts_with("4601") {
                haikou.push(record.key_id);
            }
        }
        // A second key at the same second as the last: the order stays total.
        let (same_second, _) =
            create(&store, &spec("caller-5", "460108", &["read"]), base + 5).await;
        haikou.push(same_second.key_id);
        let in_haikou = |record: &KeyRecord| {
            record.scopes.iter().all(|s| {
                "460100"
                    .parse::<kernel::RegionCode>()
                    .expect("code")
                    .contains(*s)
            })
        };
        let mut listed = Vec::new();
        let mut cursor: Option<ListCursor> = None;
        let mut pages = 0;
        loop {
            let (page, more) = store
                .list(
                    &ListFilter::default(),
                    cursor.as_ref(),
                    2,
                    unix_now(),
                    in_haikou,
                )
                .await
                .expect("list");
            pages += 1;
            assert!(page.len() <= 2);
            listed.extend(page.iter().map(|r| r.key_id.clone()));
            let Some(last) = page.last().filter(|_| more) else {
                break;
            };
            cursor = Some(ListCursor {
                created_at: last.created_at,
                key_id: last.key_id.clone(),
            });
        }
        assert_eq!(pages, 3, "five keys in pages of two");
        let mut expected = haikou.clone();
        expected.sort_by(|a, b| {
            let (ra, rb) = (a.as_str(), b.as_str());
            ra.cmp(rb)
        });
        let mut sorted = listed.clone();
        sorted.sort();
        assert_eq!(
            sorted, expected,
            "exactly the keys inside 460100, each once"
        );
        let created: Vec<i64> = {
            let mut out = Vec::new();
            for id in &listed {
                out.push(store.get(id).await.expect("read").expect("kept").created_at);
            }
            out
        };
        assert!(
            created.windows(2).all(|w| w[0] >= w[1]),
            "newest first: {created:?}"
        );

        // Revoked keys are left out unless asked for; a caller filter keeps one caller's keys.
        let (revoked, _) = create(&store, &spec("caller-9", "460105", &["read"]), base + 50).await;
        store
            .revoke(
                &revoked.key_id,
                unix_now(),
                "gone",
                &audit("RevokeApiKey", &revoked),
                None,
            )
            .await
            .expect("revoke");
        let filter = ListFilter {
            caller_id: Some("caller-9".into()),
            include_inactive: false,
        };
        let (active, _) = store
            .list(&filter, None, 10, unix_now(), |_| true)
            .await
            .expect("list");
        assert!(active.is_empty());
        let filter = ListFilter {
            caller_id: Some("caller-9".into()),
            include_inactive: true,
        };
        let (all, _) = store
            .list(&filter, None, 10, unix_now(), |_| true)
            .await
            .expect("list");
        assert_eq!(
            all.iter().map(|r| r.key_id.clone()).collect::<Vec<_>>(),
            [revoked.key_id]
        );
    }
);

platform::store_test!(a_hospital_key_acts_for_its_institution, Migrator, |db| {
    let store = KeyStore::new(db.clone());
    let keys = StoredKeys::new(store.clone());
    let mut hospital = spec("H46010800001", "460108", &["hospital"]);
    hospital.institution = Some("H46010800001".into());
    let (_, key) = create(&store, &hospital, unix_now()).await;
    let principal = keys
        .verify(&PresentedKey::parse(&key).expect("key"))
        .await
        .expect("store")
        .expect("valid");
    assert_eq!(principal.institution.as_deref(), Some("H46010800001"));
    assert!(principal.may_reach_institution("H46010800001"));
    assert!(!principal.may_reach_institution("H46010800002"));
});
