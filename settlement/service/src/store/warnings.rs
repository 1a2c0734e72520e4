//! The data-quality warnings kept with each stored record (`settlement_case_warning`,
//! [`settlement_domain::intake_warnings`]).
//!
//! Warnings are kept per record content: (hospital, list id, content hash), each with its place
//! in the order found. Every version of a case carries its content hash, so a version stored
//! again with the same content (a revaluation) reads the same warnings without copying them, a
//! correction reads those of its new content, and a record sent again unchanged stores nothing.
//! They are written in the transaction that stores the versions; a content stored before keeps
//! the warnings it was stored with.

use std::collections::{BTreeSet, HashMap};

use kernel::RegionCode;
use platform::db::region_to_db;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, DbBackend, QueryOrder, Set};
use settlement_domain::intake_warnings::{IntakeWarning, WarningLevel};

use super::ledger::StoreError;

pub mod case_warning {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlement_case_warning")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub hospital_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub list_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub content_hash: String,
        /// Place in the order found, from 0.
        #[sea_orm(primary_key, auto_increment = false)]
        pub seq: i32,
        /// `error` (fails quality control) or `warning`.
        pub level: String,
        pub code: String,
        pub field: String,
        pub detail: String,
        /// The region of the content's case versions, which a distributed deployment shards
        /// the warnings by.
        pub region_code: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The warnings of one record's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptWarnings {
    /// The pooling region the content names, as its case versions are stored with.
    pub region: RegionCode,
    pub hospital_code: String,
    pub list_id: String,
    /// The content hash its versions are stored with (hex).
    pub content_hash: String,
    pub warnings: Vec<IntakeWarning>,
}

/// A record content's identity: (hospital, list id, content hash).
pub type ContentKey = (String, String, String);

/// Rows per INSERT on SQLite, well under its bound on bound variables.
const ROWS_PER_INSERT: usize = 500;

fn rows(kept: &[KeptWarnings]) -> Vec<case_warning::ActiveModel> {
    kept.iter()
        .flat_map(|record| {
            record
                .warnings
                .iter()
                .enumerate()
                .map(move |(seq, warning)| case_warning::ActiveModel {
                    hospital_code: Set(record.hospital_code.clone()),
                    list_id: Set(record.list_id.clone()),
                    content_hash: Set(record.content_hash.clone()),
                    seq: Set(i32::try_from(seq).unwrap_or(i32::MAX)),
                    level: Set(warning.level.as_str().to_owned()),
                    code: Set(warning.code.clone()),
                    field: Set(warning.field.clone()),
                    detail: Set(warning.detail.clone()),
                    region_code: Set(region_to_db(record.region)),
                })
        })
        .collect()
}

/// Stores the warnings of records on `conn` (the transaction storing their versions); the
/// warnings of a content already kept are left as they are.
pub async fn insert<C: ConnectionTrait>(conn: &C, kept: &[KeptWarnings]) -> Result<(), DbErr> {
    let key = primary_key(conn.get_database_backend());
    let mut all = rows(kept);
    while !all.is_empty() {
        let rest = all.split_off(ROWS_PER_INSERT.min(all.len()));
        let part = std::mem::replace(&mut all, rest);
        case_warning::Entity::insert_many(part)
            .on_conflict_do_nothing_on(key.iter().copied())
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// The table's primary key, which a conflict target has to name exactly: on PostgreSQL it ends
/// in the region (m0021), elsewhere it never had it.
fn primary_key(backend: DbBackend) -> Vec<case_warning::Column> {
    use case_warning::Column;
    let mut key = vec![
        Column::HospitalCode,
        Column::ListId,
        Column::ContentHash,
        Column::Seq,
    ];
    if backend == DbBackend::Postgres {
        key.push(Column::RegionCode);
    }
    key
}

/// The rows of [`insert_postgres`], a column at a time.
#[derive(Default)]
struct Columns {
    hospital_code: Vec<String>,
    list_id: Vec<String>,
    content_hash: Vec<String>,
    seq: Vec<i32>,
    level: Vec<String>,
    code: Vec<String>,
    field: Vec<String>,
    detail: Vec<String>,
    region_code: Vec<i32>,
}

/// [`insert`] on PostgreSQL, in the transaction that copies the versions in: one statement over
/// arrays, whatever the count.
pub async fn insert_postgres(
    txn: &mut sea_orm::sqlx::Transaction<'_, sea_orm::sqlx::Postgres>,
    kept: &[KeptWarnings],
) -> Result<(), sea_orm::sqlx::Error> {
    let mut columns = Columns::default();
    for record in kept {
        for (seq, warning) in record.warnings.iter().enumerate() {
            columns.hospital_code.push(record.hospital_code.clone());
            columns.list_id.push(record.list_id.clone());
            columns.content_hash.push(record.content_hash.clone());
            columns.seq.push(i32::try_from(seq).unwrap_or(i32::MAX));
            columns.level.push(warning.level.as_str().to_owned());
            columns.code.push(warning.code.clone());
            columns.field.push(warning.field.clone());
            columns.detail.push(warning.detail.clone());
            columns.region_code.push(region_to_db(record.region));
        }
    }
    if columns.seq.is_empty() {
        return Ok(());
    }
    sea_orm::sqlx::query(
        "INSERT INTO settlement_case_warning \
         (hospital_code, list_id, content_hash, seq, level, code, field, detail, region_code) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], \
                              $6::text[], $7::text[], $8::text[], $9::int[]) \
         ON CONFLICT DO NOTHING",
    )
    .bind(columns.hospital_code)
    .bind(columns.list_id)
    .bind(columns.content_hash)
    .bind(columns.seq)
    .bind(columns.level)
    .bind(columns.code)
    .bind(columns.field)
    .bind(columns.detail)
    .bind(columns.region_code)
    .execute(&mut **txn)
    .await?;
    Ok(())
}

/// The kept warnings of record contents, in the order found; a content without warnings is
/// absent.
pub async fn of_contents<C: ConnectionTrait>(
    conn: &C,
    keys: &[ContentKey],
) -> Result<HashMap<ContentKey, Vec<IntakeWarning>>, StoreError> {
    let mut found: HashMap<ContentKey, Vec<IntakeWarning>> = HashMap::new();
    if keys.is_empty() {
        return Ok(found);
    }
    let wanted: BTreeSet<&ContentKey> = keys.iter().collect();
    let lists: BTreeSet<&str> = keys.iter().map(|k| k.1.as_str()).collect();
    // Read by list id (a page's ids are few and selective); other hospitals' lists of the same
    // id are dropped below.
    for part in lists
        .into_iter()
        .collect::<Vec<_>>()
        .chunks(ROWS_PER_INSERT)
    {
        let rows = case_warning::Entity::find()
            .filter(case_warning::Column::ListId.is_in(part.iter().copied()))
            .order_by_asc(case_warning::Column::Seq)
            .all(conn)
            .await?;
        for row in rows {
            let key = (row.hospital_code, row.list_id, row.content_hash);
            if !wanted.contains(&key) {
                continue;
            }
            let level = WarningLevel::parse(&row.level).ok_or_else(|| {
                StoreError::from(platform::db::CorruptRow {
                    column: "level",
                    value: row.level.clone(),
                    reason: "neither error nor warning".to_owned(),
                })
            })?;
            found.entry(key).or_default().push(IntakeWarning {
                level,
                code: row.code,
                field: row.field,
                detail: row.detail,
            });
        }
    }
    Ok(found)
}
