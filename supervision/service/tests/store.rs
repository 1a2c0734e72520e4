//! Screening-rule storage on every backend of the harness.

use platform::store_test;
use platform::wire::Page;
use supervision_service::Migrator;
use supervision_service::store::{RuleStore, StoredRule};

store_test!(rules_are_listed_per_region_in_pages, Migrator, |db| {
    let store = RuleStore::new(db.clone());
    let haikou = "460100".parse().expect("code");
    let sanya = "460200".parse().expect("code");
    for (region, id) in [
        (haikou, "SPLIT_ADMISSION"),
        (haikou, "BED_BLOCKING"),
        (sanya, "UPCODING"),
    ] {
        store
            .insert(&StoredRule {
                region,
                rule_id: id.into(),
                name: id.to_lowercase(),
                level: "strong".into(),
                parameters_json: "{}".into(),
            })
            .await
            .expect("insert");
    }
    let first = store
        .list(haikou, Page { offset: 0, size: 1 })
        .await
        .expect("list");
    assert_eq!(
        first.iter().map(|r| r.rule_id.as_str()).collect::<Vec<_>>(),
        ["BED_BLOCKING"]
    );
    let second = store
        .list(haikou, Page { offset: 1, size: 1 })
        .await
        .expect("list");
    assert_eq!(
        second
            .iter()
            .map(|r| r.rule_id.as_str())
            .collect::<Vec<_>>(),
        ["SPLIT_ADMISSION"]
    );
    let third = store
        .list(haikou, Page { offset: 2, size: 1 })
        .await
        .expect("list");
    assert!(third.is_empty());
});
