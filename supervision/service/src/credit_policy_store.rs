//! Credit thresholds per region and year (`supervision_credit_policy`), each put as the next
//! version through the context's journal, like scorecards.

use kernel::{Decimal, RegionCode};
use platform::db::{CorruptRow, region_from_db, region_to_db};
use platform::journal::{Call, Effect, Once};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};
use supervision_domain::credit::CreditPolicy;

use crate::store::{JOURNAL, StoreError, SupervisionStore, WriteError};

pub mod supervision_credit_policy {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "supervision_credit_policy")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub region_code: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub year: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i32,
        /// Scores × 100 (a checked policy's scores have at most 2 places).
        pub a_min_score_centi: i64,
        pub a_max_findings: i32,
        pub b_min_score_centi: i64,
        pub b_max_findings: i32,
        pub c_min_score_centi: i64,
        pub put_by: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A stored version of a region-year's credit thresholds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCreditPolicy {
    pub region: RegionCode,
    pub year: i32,
    pub version: i32,
    pub policy: CreditPolicy,
    pub put_by: String,
}

fn corrupt(column: &'static str, value: impl ToString, reason: &str) -> StoreError {
    StoreError::Corrupt(CorruptRow {
        column,
        value: value.to_string(),
        reason: reason.to_owned(),
    })
}

fn centi(column: &'static str, score: Decimal) -> Result<i64, StoreError> {
    i64::try_from((score * Decimal::ONE_HUNDRED).trunc())
        .map_err(|_| corrupt(column, score, "out of range"))
}

fn count(column: &'static str, value: i32) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| corrupt(column, value, "a negative count"))
}

/// A stored score as it was put: 40, not 40.00, so the grades' reasons read as the policy.
fn score(centi: i64) -> Decimal {
    Decimal::new(centi, 2).normalize()
}

fn policy_from_row(
    row: supervision_credit_policy::Model,
) -> Result<StoredCreditPolicy, StoreError> {
    Ok(StoredCreditPolicy {
        region: region_from_db(row.region_code)?,
        year: row.year,
        version: row.version,
        policy: CreditPolicy {
            a_min_score: score(row.a_min_score_centi),
            a_max_findings: count("a_max_findings", row.a_max_findings)?,
            b_min_score: score(row.b_min_score_centi),
            b_max_findings: count("b_max_findings", row.b_max_findings)?,
            c_min_score: score(row.c_min_score_centi),
        },
        put_by: row.put_by,
    })
}

impl SupervisionStore {
    /// Stores a checked policy as the next version of its region and year.
    pub async fn put_credit_policy(
        &self,
        call: &Call,
        (region, year): (RegionCode, i32),
        policy: CreditPolicy,
        put_by: String,
        respond: impl FnOnce(&StoredCreditPolicy) -> Vec<u8> + Send + 'static,
    ) -> Result<Once, WriteError> {
        JOURNAL
            .run_once(
                self.connection(),
                call,
                move |txn| -> Effect<'_, WriteError> {
                    Box::pin(async move {
                        let latest = latest_policy_of(txn, region, year).await?;
                        let stored = StoredCreditPolicy {
                            region,
                            year,
                            version: latest.map_or(1, |p| p.version + 1),
                            policy,
                            put_by,
                        };
                        let findings = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
                        supervision_credit_policy::ActiveModel {
                            region_code: Set(region_to_db(region)),
                            year: Set(year),
                            version: Set(stored.version),
                            a_min_score_centi: Set(centi("a_min_score_centi", policy.a_min_score)?),
                            a_max_findings: Set(findings(policy.a_max_findings)),
                            b_min_score_centi: Set(centi("b_min_score_centi", policy.b_min_score)?),
                            b_max_findings: Set(findings(policy.b_max_findings)),
                            c_min_score_centi: Set(centi("c_min_score_centi", policy.c_min_score)?),
                            put_by: Set(stored.put_by.clone()),
                        }
                        .insert(txn)
                        .await?;
                        let detail =
                            format!("credit policy v{} of {region} {year}", stored.version);
                        Ok((respond(&stored), detail))
                    })
                },
            )
            .await
    }

    /// The latest credit policy put for exactly this region and year.
    pub async fn latest_credit_policy(
        &self,
        region: RegionCode,
        year: i32,
    ) -> Result<Option<StoredCreditPolicy>, StoreError> {
        latest_policy_of(self.connection(), region, year).await
    }
}

async fn latest_policy_of<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    year: i32,
) -> Result<Option<StoredCreditPolicy>, StoreError> {
    use supervision_credit_policy::Column;
    supervision_credit_policy::Entity::find()
        .filter(Column::RegionCode.eq(region_to_db(region)))
        .filter(Column::Year.eq(year))
        .order_by_desc(Column::Version)
        .one(conn)
        .await?
        .map(policy_from_row)
        .transpose()
}
