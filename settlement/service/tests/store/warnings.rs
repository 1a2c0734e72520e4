//! Warnings kept once per record content with the versions, and the region they carry through
//! the migration that added it (m0021).

use platform::store_test;
use settlement_service::Migrator;
use settlement_service::store::ledger::{CaseStore, LedgerCase};

use super::case;

store_test!(
    warnings_are_kept_once_per_record_content_with_the_versions,
    Migrator,
    |db| {
        use settlement_domain::intake_warnings::{IntakeWarning, WarningLevel};
        use settlement_service::store::Database;
        use settlement_service::store::warnings::{self, KeptWarnings};
        let database = Database::from(db.clone());
        let warning = |level, code: &str, field: &str| IntakeWarning {
            level,
            code: code.into(),
            field: field.into(),
            detail: format!("{code} at {field}"),
        };
        let first = case("460108", "H001", "L1", 1, 20250115);
        let kept = KeptWarnings {
            region: first.region,
            hospital_code: "H001".into(),
            list_id: "L1".into(),
            content_hash: first.content_hash.clone(),
            warnings: vec![
                warning(
                    WarningLevel::Warning,
                    "symptom_as_principal",
                    "diagnoses[0].code",
                ),
                warning(
                    WarningLevel::Error,
                    "unknown_diagnosis_code",
                    "diagnoses[0].code",
                ),
            ],
        };
        CaseStore::store_marked_versions(
            &database,
            std::slice::from_ref(&first),
            std::slice::from_ref(&kept),
            None,
        )
        .await
        .expect("stored");
        // A second version of the same content (a revaluation) keeps the same warnings: storing
        // them again changes nothing.
        let mut second = case("460108", "H001", "L1", 2, 20250115);
        second.content_hash = first.content_hash.clone();
        CaseStore::store_marked_versions(&database, &[second], std::slice::from_ref(&kept), None)
            .await
            .expect("stored again");
        let key = (
            "H001".to_owned(),
            "L1".to_owned(),
            first.content_hash.clone(),
        );
        let other = (
            "H002".to_owned(),
            "L1".to_owned(),
            first.content_hash.clone(),
        );
        let found = warnings::of_contents(db, &[key.clone(), other.clone()])
            .await
            .expect("read");
        assert_eq!(found.get(&key), Some(&kept.warnings));
        assert_eq!(
            found.get(&other),
            None,
            "another hospital's list of that id"
        );
    }
);

/// Each stored content's warnings and each recheck's version, with the region stored with it.
async fn warning_regions(
    db: &sea_orm::DatabaseConnection,
) -> (Vec<(String, i32)>, Vec<(i32, i32)>) {
    use sea_orm::{EntityTrait, QueryOrder};
    use settlement_service::store::rechecked_warnings::case_recheck;
    use settlement_service::store::warnings::case_warning;
    let warnings = case_warning::Entity::find()
        .order_by_asc(case_warning::Column::ContentHash)
        .all(db)
        .await
        .expect("warnings");
    let rechecks = case_recheck::Entity::find()
        .order_by_asc(case_recheck::Column::Version)
        .all(db)
        .await
        .expect("rechecks");
    (
        warnings
            .into_iter()
            .map(|row| (row.content_hash, row.region_code))
            .collect(),
        rechecks
            .into_iter()
            .map(|row| (row.version, row.region_code))
            .collect(),
    )
}

// A version's warnings carry its region (m0021): written with them, and filled from the case
// versions for warnings stored before the column; a correction that moves a case to another
// region moves only the warnings of its new content.
store_test!(
    warnings_carry_their_versions_region_through_the_migration,
    Migrator,
    |db| {
        use sea_orm_migration::MigratorTrait;
        use settlement_domain::intake_warnings::{IntakeWarning, WarningLevel};
        use settlement_service::store::Database;
        use settlement_service::store::rechecked_warnings::{self, Recheck};
        use settlement_service::store::warnings::{self, KeptWarnings};
        let database = Database::from(db.clone());
        let found = vec![IntakeWarning {
            level: WarningLevel::Warning,
            code: "symptom_as_principal".into(),
            field: "diagnoses[0].code".into(),
            detail: "R10.4".into(),
        }];
        let kept = |case: &LedgerCase| KeptWarnings {
            region: case.region,
            hospital_code: case.hospital_code.clone(),
            list_id: case.list_id.clone(),
            content_hash: case.content_hash.clone(),
            warnings: found.clone(),
        };
        let first = case("460108", "H001", "L1", 1, 20250115);
        let moved = case("460106", "H001", "L1", 2, 20250115);
        for version in [&first, &moved] {
            CaseStore::store_marked_versions(
                &database,
                std::slice::from_ref(version),
                &[kept(version)],
                None,
            )
            .await
            .expect("stored");
        }
        // A revaluation stores the moved content again, with what its grouping found.
        let mut revalued = case("460106", "H001", "L1", 3, 20250115);
        revalued.content_hash = moved.content_hash.clone();
        CaseStore::insert_current(db, &revalued)
            .await
            .expect("revalued");
        rechecked_warnings::insert(
            db,
            &[Recheck {
                region: revalued.region,
                hospital_code: revalued.hospital_code.clone(),
                list_id: revalued.list_id.clone(),
                version: revalued.version,
                content_hash: revalued.content_hash.clone(),
                warnings: Vec::new(),
            }],
        )
        .await
        .expect("rechecked");
        let expected = (
            vec![
                (first.content_hash.clone(), 460108),
                (moved.content_hash.clone(), 460106),
            ],
            vec![(3, 460106)],
        );
        assert_eq!(warning_regions(db).await, expected);

        // Every migration after m0020 undone, however many follow m0021.
        let after_m0020 = u32::try_from(Migrator::migrations().len() - 20).expect("a few");
        Migrator::down(db, Some(after_m0020)).await.expect("down");
        Migrator::up(db, None).await.expect("up");
        assert_eq!(warning_regions(db).await, expected);
        // The keys as migrated still refuse a content's warnings twice.
        warnings::insert(db, &[kept(&first), kept(&moved)])
            .await
            .expect("stored again");
        assert_eq!(warning_regions(db).await, expected);
    }
);
