//! The warnings a revaluation found for the version it stored (`settlement_case_recheck`),
//! beside those intake kept per record content ([`super::warnings`]).
//!
//! A version reads the warnings of the latest recheck at or below it of the same content, else
//! those intake kept with its content: a revalued version carries what the scheme it was grouped
//! under says, the versions before it keep theirs, a version stored later without grouping again
//! (a status change) keeps its recheck, and a correction (new content) reads its own intake
//! warnings. Rechecks are written in the unit of work that stores the versions.

use std::collections::{BTreeSet, HashMap};

use kernel::RegionCode;
use platform::db::region_to_db;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use settlement_domain::intake_warnings::{IntakeWarning, WarningLevel};

use super::ledger::{LedgerCase, ListedCase, StoreError};
use super::warnings::{self, ContentKey};

pub mod case_recheck {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlement_case_recheck")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub hospital_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub list_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i32,
        /// The content the version was stored with (hex).
        pub content_hash: String,
        /// Every warning, in the order found; `[]` when none.
        pub warnings_json: String,
        /// The version's region, which a distributed deployment shards the rechecks by.
        pub region_code: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The warnings of one revalued version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recheck {
    /// The version's pooling region.
    pub region: RegionCode,
    pub hospital_code: String,
    pub list_id: String,
    pub version: i32,
    pub content_hash: String,
    pub warnings: Vec<IntakeWarning>,
}

/// A version's identity: (hospital, list id, version).
pub type VersionKey = (String, String, i32);

/// Lists per query, well under SQLite's bound on bound variables.
const LISTS_PER_QUERY: usize = 500;

#[derive(Serialize, Deserialize)]
struct StoredWarning {
    level: String,
    code: String,
    field: String,
    detail: String,
}

fn to_json(warnings: &[IntakeWarning]) -> Result<String, StoreError> {
    let stored: Vec<StoredWarning> = warnings
        .iter()
        .map(|w| StoredWarning {
            level: w.level.as_str().to_owned(),
            code: w.code.clone(),
            field: w.field.clone(),
            detail: w.detail.clone(),
        })
        .collect();
    serde_json::to_string(&stored).map_err(|e| StoreError::Database(DbErr::Custom(e.to_string())))
}

fn corrupt(column: &'static str, value: String, reason: &str) -> StoreError {
    StoreError::from(platform::db::CorruptRow {
        column,
        value,
        reason: reason.to_owned(),
    })
}

fn from_json(json: &str) -> Result<Vec<IntakeWarning>, StoreError> {
    let stored: Vec<StoredWarning> = serde_json::from_str(json)
        .map_err(|_| corrupt("warnings_json", json.to_owned(), "not a list of warnings"))?;
    stored
        .into_iter()
        .map(|w| {
            Ok(IntakeWarning {
                level: WarningLevel::parse(&w.level).ok_or_else(|| {
                    corrupt(
                        "warnings_json",
                        w.level.clone(),
                        "neither error nor warning",
                    )
                })?,
                code: w.code,
                field: w.field,
                detail: w.detail,
            })
        })
        .collect()
}

/// Stores the rechecks of revalued versions on `conn` (the unit of work storing them).
pub async fn insert<C: ConnectionTrait>(conn: &C, rechecks: &[Recheck]) -> Result<(), StoreError> {
    for part in rechecks.chunks(LISTS_PER_QUERY) {
        let rows = part
            .iter()
            .map(|r| {
                Ok(case_recheck::ActiveModel {
                    hospital_code: Set(r.hospital_code.clone()),
                    list_id: Set(r.list_id.clone()),
                    version: Set(r.version),
                    content_hash: Set(r.content_hash.clone()),
                    warnings_json: Set(to_json(&r.warnings)?),
                    region_code: Set(region_to_db(r.region)),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        case_recheck::Entity::insert_many(rows).exec(conn).await?;
    }
    Ok(())
}

/// A stored version as its warnings are found: (hospital, list id, version, content hash).
pub trait StoredVersion {
    fn hospital_code(&self) -> &str;
    fn list_id(&self) -> &str;
    fn version(&self) -> i32;
    fn content_hash(&self) -> &str;
}

macro_rules! stored_version {
    ($($case:ty),*) => {$(
        impl StoredVersion for $case {
            fn hospital_code(&self) -> &str {
                &self.hospital_code
            }
            fn list_id(&self) -> &str {
                &self.list_id
            }
            fn version(&self) -> i32 {
                self.version
            }
            fn content_hash(&self) -> &str {
                &self.content_hash
            }
        }
    )*};
}

stored_version!(LedgerCase, ListedCase);

/// The warnings each of `cases` (stored versions) carries, by version; a version without any
/// is absent.
pub async fn of_versions<C: ConnectionTrait, V: StoredVersion + Sync>(
    conn: &C,
    cases: &[V],
) -> Result<HashMap<VersionKey, Vec<IntakeWarning>>, StoreError> {
    let contents: Vec<ContentKey> = cases
        .iter()
        .map(|c| {
            (
                c.hospital_code().to_owned(),
                c.list_id().to_owned(),
                c.content_hash().to_owned(),
            )
        })
        .collect();
    // Two reads at once: on a pool each takes a connection of its own, so a page waits for one
    // round trip instead of two.
    let (kept, rechecks) = futures::join!(
        warnings::of_contents(conn, &contents),
        latest_rechecks(conn, cases)
    );
    let (kept, mut rechecks) = (kept?, rechecks?);
    let mut found = HashMap::new();
    for (case, content) in cases.iter().zip(contents) {
        let key = (
            case.hospital_code().to_owned(),
            case.list_id().to_owned(),
            case.version(),
        );
        let warnings = match rechecks.remove(&key) {
            Some(rechecked) => rechecked,
            None => kept.get(&content).cloned().unwrap_or_default(),
        };
        if !warnings.is_empty() {
            found.insert(key, warnings);
        }
    }
    Ok(found)
}

/// For each of `cases` rechecked at or below its version with its content, that recheck.
async fn latest_rechecks<C: ConnectionTrait, V: StoredVersion + Sync>(
    conn: &C,
    cases: &[V],
) -> Result<HashMap<VersionKey, Vec<IntakeWarning>>, StoreError> {
    let mut found = HashMap::new();
    if cases.is_empty() {
        return Ok(found);
    }
    let lists: BTreeSet<&str> = cases.iter().map(StoredVersion::list_id).collect();
    let mut rows = Vec::new();
    for part in lists
        .into_iter()
        .collect::<Vec<_>>()
        .chunks(LISTS_PER_QUERY)
    {
        rows.extend(
            case_recheck::Entity::find()
                .filter(case_recheck::Column::ListId.is_in(part.iter().copied()))
                .order_by_desc(case_recheck::Column::Version)
                .all(conn)
                .await?,
        );
    }
    if rows.is_empty() {
        return Ok(found);
    }
    for case in cases {
        // Rows come newest first: the first that fits is the latest.
        let latest = rows.iter().find(|r| {
            r.hospital_code == case.hospital_code()
                && r.list_id == case.list_id()
                && r.version <= case.version()
                && r.content_hash == case.content_hash()
        });
        if let Some(row) = latest {
            found.insert(
                (
                    case.hospital_code().to_owned(),
                    case.list_id().to_owned(),
                    case.version(),
                ),
                from_json(&row.warnings_json)?,
            );
        }
    }
    Ok(found)
}
