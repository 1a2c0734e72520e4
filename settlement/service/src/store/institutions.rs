//! The registry of designated institutions and their service agreements, stored.
//!
//! Every version of an institution is a row keyed by (code, effective date), so a case is read
//! against the institution as it was on the day of the stay; an agreement is one row per
//! (institution, agreement id) whose period or status a later request may change (the audit
//! journal keeps who changed it and why). Dates are `yyyymmdd` integers.

use std::collections::BTreeMap;

use kernel::RegionCode;
use kernel::date::Date;
use platform::db::{region_from_db, region_to_db};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Alias, ExprTrait, Query};
use sea_orm::{ConnectionTrait, QueryOrder, QuerySelect, Set};
use settlement_domain::institution::{Institution, InstitutionRecord, ServiceAgreement};
pub use settlement_domain::registry::{AGREEMENT_STATUSES, LEVELS, RegistryRefusal, TYPES};
use settlement_domain::registry::{
    Latest, agreement_status_of, check_agreement_scope, check_new_version, level_of, type_of,
};

use crate::store::ledger::{StoreError, region_span};

pub mod institution {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlement_institution")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        /// `yyyymmdd`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub effective_from: i32,
        pub region_code: i32,
        pub name: String,
        pub level: String,
        pub institution_type: String,
        pub alliance_code: String,
        pub reason: String,
        pub request_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod agreement {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlement_agreement")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub institution_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub agreement_id: String,
        pub valid_from: i32,
        pub valid_to: i32,
        pub status: String,
        pub reason: String,
        pub request_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One version of an institution, as stored and sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstitutionRow {
    pub code: String,
    pub name: String,
    pub region: RegionCode,
    /// One of [`LEVELS`].
    pub level: String,
    /// One of [`TYPES`].
    pub institution_type: String,
    /// Empty when not in an alliance.
    pub alliance_code: String,
    /// `yyyymmdd`.
    pub effective_from: i32,
    pub reason: String,
}

/// A stored agreement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgreementRow {
    pub agreement_id: String,
    /// `yyyymmdd`, inclusive.
    pub valid_from: i32,
    /// `yyyymmdd`, inclusive.
    pub valid_to: i32,
    /// One of [`AGREEMENT_STATUSES`].
    pub status: String,
}

/// Why a registry write was refused.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Refused(#[from] RegistryRefusal),
    #[error(transparent)]
    Reused(#[from] platform::journal::RequestIdReused),
}

impl From<DbErr> for RegistryError {
    fn from(error: DbErr) -> Self {
        RegistryError::Store(StoreError::Database(error))
    }
}

fn institution_from_model(row: institution::Model) -> Result<InstitutionRow, StoreError> {
    Ok(InstitutionRow {
        region: region_from_db(row.region_code)?,
        code: row.code,
        name: row.name,
        level: row.level,
        institution_type: row.institution_type,
        alliance_code: row.alliance_code,
        effective_from: row.effective_from,
        reason: row.reason,
    })
}

fn agreement_from_model(row: agreement::Model) -> AgreementRow {
    AgreementRow {
        agreement_id: row.agreement_id,
        valid_from: row.valid_from,
        valid_to: row.valid_to,
        status: row.status,
    }
}

/// The domain record of an institution: its versions and agreements. Rows whose dates do not
/// exist are skipped (the writers refuse them, so none are stored).
pub fn to_record(
    history: &[InstitutionRow],
    agreements: &[AgreementRow],
) -> Option<InstitutionRecord> {
    let mut versions = history.iter().filter_map(|row| {
        let from = Date::from_yyyymmdd(row.effective_from).ok()?;
        Some((
            from,
            Institution {
                code: row.code.clone(),
                name: row.name.clone(),
                pooling_region: row.region,
                level: level_of(&row.level),
                institution_type: type_of(&row.institution_type),
                medical_alliance: (!row.alliance_code.is_empty())
                    .then(|| row.alliance_code.clone()),
            },
        ))
    });
    let (first_from, first) = versions.next()?;
    let mut record = InstitutionRecord::new(first_from, first);
    for (from, version) in versions {
        // Stored in order of effective date, so a change is always after the previous one.
        let _ = record.record_change(from, version);
    }
    for row in agreements {
        if let (Ok(start), Ok(end)) = (
            Date::from_yyyymmdd(row.valid_from),
            Date::from_yyyymmdd(row.valid_to),
        ) && let Ok(agreement) = ServiceAgreement::new(
            &row.agreement_id,
            start,
            end,
            agreement_status_of(&row.status),
        ) {
            record.add_agreement(agreement);
        }
    }
    Some(record)
}

/// Every version of an institution, oldest first.
pub async fn history<C: ConnectionTrait>(
    conn: &C,
    code: &str,
) -> Result<Vec<InstitutionRow>, StoreError> {
    institution::Entity::find()
        .filter(institution::Column::Code.eq(code))
        .order_by_asc(institution::Column::EffectiveFrom)
        .all(conn)
        .await?
        .into_iter()
        .map(institution_from_model)
        .collect()
}

/// The agreements of an institution, by start date.
pub async fn agreements<C: ConnectionTrait>(
    conn: &C,
    code: &str,
) -> Result<Vec<AgreementRow>, StoreError> {
    Ok(agreement::Entity::find()
        .filter(agreement::Column::InstitutionCode.eq(code))
        .order_by_asc(agreement::Column::ValidFrom)
        .order_by_asc(agreement::Column::AgreementId)
        .all(conn)
        .await?
        .into_iter()
        .map(agreement_from_model)
        .collect())
}

/// The codes among `codes` whose current registration lies in `region` or a region inside it.
pub async fn registered_in<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    codes: &[String],
) -> Result<std::collections::BTreeSet<String>, StoreError> {
    if codes.is_empty() {
        return Ok(std::collections::BTreeSet::new());
    }
    let mut latest: BTreeMap<String, i32> = BTreeMap::new();
    for row in institution::Entity::find()
        .filter(institution::Column::Code.is_in(codes.iter().cloned()))
        .order_by_asc(institution::Column::EffectiveFrom)
        .all(conn)
        .await?
    {
        latest.insert(row.code, row.region_code);
    }
    let (from, to) = region_span(region);
    Ok(latest
        .into_iter()
        .filter(|(_, code)| (from..=to).contains(code))
        .map(|(institution, _)| institution)
        .collect())
}

/// The records of the given institutions, for intake's agreement check (two queries for any
/// number of institutions).
pub async fn records<C: ConnectionTrait>(
    conn: &C,
    codes: &[String],
) -> Result<BTreeMap<String, InstitutionRecord>, StoreError> {
    if codes.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut histories: BTreeMap<String, Vec<InstitutionRow>> = BTreeMap::new();
    for row in institution::Entity::find()
        .filter(institution::Column::Code.is_in(codes.iter().cloned()))
        .order_by_asc(institution::Column::Code)
        .order_by_asc(institution::Column::EffectiveFrom)
        .all(conn)
        .await?
    {
        let row = institution_from_model(row)?;
        histories.entry(row.code.clone()).or_default().push(row);
    }
    let mut deals: BTreeMap<String, Vec<AgreementRow>> = BTreeMap::new();
    for row in agreement::Entity::find()
        .filter(agreement::Column::InstitutionCode.is_in(codes.iter().cloned()))
        .all(conn)
        .await?
    {
        deals
            .entry(row.institution_code.clone())
            .or_default()
            .push(agreement_from_model(row));
    }
    Ok(histories
        .into_iter()
        .filter_map(|(code, history)| {
            let agreements = deals.remove(&code).unwrap_or_default();
            to_record(&history, &agreements).map(|record| (code, record))
        })
        .collect())
}

/// Records a version of an institution; returns how many versions it now has. A change of an
/// existing institution must take effect after its latest version.
pub async fn put_institution<C: ConnectionTrait>(
    conn: &C,
    row: &InstitutionRow,
    request_id: &str,
) -> Result<usize, RegistryError> {
    put_institution_within(conn, row, request_id, |_| true).await
}

/// [`put_institution`] for a caller: the region the institution is registered in now must also
/// be one `may_act_for` accepts (the caller's scope), so nobody re-registers another region's
/// institution into their own.
pub async fn put_institution_within<C: ConnectionTrait>(
    conn: &C,
    row: &InstitutionRow,
    request_id: &str,
    may_act_for: impl Fn(RegionCode) -> bool,
) -> Result<usize, RegistryError> {
    let existing = history(conn, &row.code).await?;
    let latest = existing.last().map(|latest| Latest {
        region: latest.region,
        effective_from: latest.effective_from,
    });
    check_new_version(
        &row.code,
        latest,
        row.effective_from,
        &row.reason,
        may_act_for,
    )?;
    institution::ActiveModel {
        code: Set(row.code.clone()),
        effective_from: Set(row.effective_from),
        region_code: Set(region_to_db(row.region)),
        name: Set(row.name.clone()),
        level: Set(row.level.clone()),
        institution_type: Set(row.institution_type.clone()),
        alliance_code: Set(row.alliance_code.clone()),
        reason: Set(row.reason.clone()),
        request_id: Set(request_id.to_owned()),
    }
    .insert(conn)
    .await?;
    Ok(existing.len() + 1)
}

/// Adds an agreement, or changes the period or status of a known one; returns every agreement
/// of the institution. The institution must be registered in `region` or a region inside it.
pub async fn put_agreement<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    institution_code: &str,
    row: &AgreementRow,
    reason: &str,
    request_id: &str,
) -> Result<Vec<AgreementRow>, RegistryError> {
    let history = history(conn, institution_code).await?;
    check_agreement_scope(
        institution_code,
        history.last().map(|current| current.region),
        region,
    )?;
    let model = agreement::ActiveModel {
        institution_code: Set(institution_code.to_owned()),
        agreement_id: Set(row.agreement_id.clone()),
        valid_from: Set(row.valid_from),
        valid_to: Set(row.valid_to),
        status: Set(row.status.clone()),
        reason: Set(reason.to_owned()),
        request_id: Set(request_id.to_owned()),
    };
    let known =
        agreement::Entity::find_by_id((institution_code.to_owned(), row.agreement_id.clone()))
            .one(conn)
            .await?
            .is_some();
    if known {
        model.update(conn).await?;
    } else {
        model.insert(conn).await?;
    }
    Ok(agreements(conn, institution_code).await?)
}

/// Current versions of the institutions of `region` and the regions inside it, by code: the
/// first `limit` whose code is greater than `after`. The latest version of each institution
/// decides where it is listed; the primary key (code, effective date) serves both the walk by
/// code and each institution's latest version.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<InstitutionRow>, StoreError> {
    use institution::Column;
    let (from, to) = region_span(region);
    let later = Alias::new("later");
    // No version of the same institution with a later effective date.
    let superseded = Query::select()
        .expr(Expr::val(1))
        .from_as(institution::Entity, later.clone())
        .and_where(
            Expr::col((later.clone(), Column::Code)).equals((institution::Entity, Column::Code)),
        )
        .and_where(
            Expr::col((later, Column::EffectiveFrom))
                .gt(Expr::col((institution::Entity, Column::EffectiveFrom))),
        )
        .to_owned();
    let mut query = institution::Entity::find()
        .filter(Column::RegionCode.between(from, to))
        .filter(Expr::exists(superseded).not());
    if let Some(after) = after {
        query = query.filter(Column::Code.gt(after));
    }
    query
        .order_by_asc(Column::Code)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(institution_from_model)
        .collect()
}
