//! The level changes and rule parameters regions record, and hospitals' responses to findings,
//! written through the context's journal.

use kernel::{Principal, RegionCode};
use platform::db::{CorruptRow, region_from_db, region_to_db};
use platform::journal::{Call, Effect, Once};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, QuerySelect, Set};
use supervision_domain::lifecycle::{LevelChange, PolicyChanges, RuleParameters, check_step};
use supervision_domain::review::Tally;
use supervision_domain::{FindingStatus, RuleId, RuleLevel, ScreeningPolicy};

use crate::migration::REVIEWED;
use crate::store::{
    JOURNAL, StoreError, StoredFinding, SupervisionStore, WriteError, finding_by_id,
    finding_from_row, finding_update, region_span, supervision_finding,
};

pub mod supervision_level_change {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "supervision_level_change")]
    pub struct Model {
        /// The order changes were made in, from 1.
        #[sea_orm(primary_key, auto_increment = false)]
        pub seq: i32,
        pub region_code: i32,
        pub year: i32,
        pub rule_number: i32,
        pub from_level: String,
        pub to_level: String,
        pub changed_by: String,
        pub reason: String,
        pub confirmed: i32,
        pub dismissed: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod supervision_rule_parameters {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "supervision_rule_parameters")]
    pub struct Model {
        /// The order the sets were made in, from 1.
        #[sea_orm(primary_key, auto_increment = false)]
        pub seq: i32,
        pub region_code: i32,
        pub year: i32,
        pub rule_number: i32,
        /// The domain's overrides, as JSON.
        pub overrides_json: String,
        pub set_by: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A change of level as asked for; the store finds the level in force and the evidence.
#[derive(Clone, Debug)]
pub struct LevelRequest {
    pub region: RegionCode,
    pub year: i32,
    pub rule: RuleId,
    pub to: RuleLevel,
    pub changed_by: String,
    pub reason: String,
}

/// A hospital's response as asked for.
#[derive(Clone, Debug)]
pub struct ResponseRequest {
    pub region: RegionCode,
    pub finding_id: String,
    pub text: String,
    pub principal: Principal,
}

fn corrupt(column: &'static str, value: impl ToString, reason: &str) -> StoreError {
    StoreError::Corrupt(CorruptRow {
        column,
        value: value.to_string(),
        reason: reason.to_owned(),
    })
}

fn rule_from_db(number: i32) -> Result<RuleId, StoreError> {
    u8::try_from(number)
        .ok()
        .and_then(RuleId::from_number)
        .ok_or_else(|| corrupt("rule_number", number, "not a rule number"))
}

fn level_from_db(column: &'static str, text: &str) -> Result<RuleLevel, StoreError> {
    match text {
        "weak" => Ok(RuleLevel::Weak),
        "general" => Ok(RuleLevel::General),
        "strong" => Ok(RuleLevel::Strong),
        other => Err(corrupt(column, other, "not a rule level")),
    }
}

fn count(value: i32) -> u32 {
    u32::try_from(value).unwrap_or_default()
}

fn stored_count(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// The changes made for `region` and the regions above it, each kind in the order made.
async fn changes_of<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
) -> Result<PolicyChanges, StoreError> {
    let chain: Vec<i32> = region.self_and_ancestors().map(region_to_db).collect();
    let levels = supervision_level_change::Entity::find()
        .filter(supervision_level_change::Column::RegionCode.is_in(chain.clone()))
        .order_by_asc(supervision_level_change::Column::Seq)
        .all(conn)
        .await?
        .into_iter()
        .map(|row| {
            Ok(LevelChange {
                region: region_from_db(row.region_code)?,
                year: row.year,
                rule: rule_from_db(row.rule_number)?,
                from: level_from_db("from_level", &row.from_level)?,
                to: level_from_db("to_level", &row.to_level)?,
                changed_by: row.changed_by,
                reason: row.reason,
                evidence: Tally {
                    confirmed: count(row.confirmed),
                    dismissed: count(row.dismissed),
                },
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let parameters = supervision_rule_parameters::Entity::find()
        .filter(supervision_rule_parameters::Column::RegionCode.is_in(chain))
        .order_by_asc(supervision_rule_parameters::Column::Seq)
        .all(conn)
        .await?
        .into_iter()
        .map(|row| {
            Ok(RuleParameters {
                region: region_from_db(row.region_code)?,
                year: row.year,
                rule: rule_from_db(row.rule_number)?,
                overrides: serde_json::from_str(&row.overrides_json)
                    .map_err(|_| corrupt("overrides_json", &row.overrides_json, "not overrides"))?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(PolicyChanges { levels, parameters })
}

/// The next sequence number of a table whose `seq` column is given.
pub(crate) async fn next_seq<E, C>(conn: &C, column: E::Column) -> Result<i32, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let latest: Option<Option<i32>> = E::find()
        .select_only()
        .column_as(column.max(), "latest")
        .into_tuple()
        .one(conn)
        .await?;
    Ok(latest.flatten().unwrap_or(0) + 1)
}

/// The rule's reviewed findings on the cases of `region` and the regions inside it, screened in
/// a month up to the end of `year`.
async fn evidence<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    year: i32,
    rule: RuleId,
) -> Result<Tally, DbErr> {
    use supervision_finding::Column;
    let (from, to) = region_span(region);
    let mut tally = Tally::default();
    for status in [FindingStatus::Confirmed, FindingStatus::Dismissed] {
        let found = supervision_finding::Entity::find()
            .filter(Column::RuleNumber.eq(i32::from(rule.number())))
            .filter(Column::Status.eq(status.as_str()))
            .filter(Expr::cust(REVIEWED))
            .filter(Column::CaseRegionCode.between(from, to))
            .filter(Column::Period.lte(year.saturating_mul(100).saturating_add(12)))
            .count(conn)
            .await?;
        let found = u32::try_from(found).unwrap_or(u32::MAX);
        match status {
            FindingStatus::Confirmed => tally.confirmed = found,
            _ => tally.dismissed = found,
        }
    }
    Ok(tally)
}

impl SupervisionStore {
    /// The changes made for `region` and the regions above it.
    pub async fn policy_changes(&self, region: RegionCode) -> Result<PolicyChanges, StoreError> {
        changes_of(self.connection(), region).await
    }

    /// Records a level change one step from the level in force (`configured` is the configured
    /// policy of the region and year, under the stored changes), with the rule's reviewed
    /// findings as evidence; `respond` gives the response from the change and every change.
    pub async fn change_level(
        &self,
        call: &Call,
        configured: ScreeningPolicy,
        request: LevelRequest,
        respond: impl FnOnce(&LevelChange, &PolicyChanges) -> Vec<u8> + Send + 'static,
    ) -> Result<Once, WriteError> {
        JOURNAL
            .run_once(
                self.connection(),
                call,
                move |txn| -> Effect<'_, WriteError> {
                    Box::pin(async move {
                        let mut changes = changes_of(txn, request.region).await?;
                        let from = changes
                            .apply(configured, request.region, request.year)
                            .level(request.rule);
                        check_step(request.rule, from, request.to)?;
                        let evidence =
                            evidence(txn, request.region, request.year, request.rule).await?;
                        let seq = next_seq::<supervision_level_change::Entity, _>(
                            txn,
                            supervision_level_change::Column::Seq,
                        )
                        .await?;
                        supervision_level_change::ActiveModel {
                            seq: Set(seq),
                            region_code: Set(region_to_db(request.region)),
                            year: Set(request.year),
                            rule_number: Set(i32::from(request.rule.number())),
                            from_level: Set(from.as_str().to_owned()),
                            to_level: Set(request.to.as_str().to_owned()),
                            changed_by: Set(request.changed_by.clone()),
                            reason: Set(request.reason.clone()),
                            confirmed: Set(stored_count(evidence.confirmed)),
                            dismissed: Set(stored_count(evidence.dismissed)),
                        }
                        .insert(txn)
                        .await?;
                        let change = LevelChange {
                            region: request.region,
                            year: request.year,
                            rule: request.rule,
                            from,
                            to: request.to,
                            changed_by: request.changed_by,
                            reason: request.reason,
                            evidence,
                        };
                        changes.levels.push(change.clone());
                        let detail = format!(
                            "rule {} {} → {} in {} from {} ({} confirmed, {} dismissed)",
                            change.rule,
                            from.as_str(),
                            change.to.as_str(),
                            change.region,
                            change.year,
                            evidence.confirmed,
                            evidence.dismissed
                        );
                        Ok((respond(&change, &changes), detail))
                    })
                },
            )
            .await
    }

    /// Records a rule's parameters for a region from a year on; `respond` gives the response
    /// from every change, this one included.
    pub async fn set_parameters(
        &self,
        call: &Call,
        set: RuleParameters,
        set_by: String,
        respond: impl FnOnce(&PolicyChanges) -> Vec<u8> + Send + 'static,
    ) -> Result<Once, WriteError> {
        JOURNAL
            .run_once(
                self.connection(),
                call,
                move |txn| -> Effect<'_, WriteError> {
                    Box::pin(async move {
                        let mut changes = changes_of(txn, set.region).await?;
                        let overrides_json = serde_json::to_string(&set.overrides)
                            .map_err(|e| corrupt("overrides_json", "", &e.to_string()))?;
                        let seq = next_seq::<supervision_rule_parameters::Entity, _>(
                            txn,
                            supervision_rule_parameters::Column::Seq,
                        )
                        .await?;
                        supervision_rule_parameters::ActiveModel {
                            seq: Set(seq),
                            region_code: Set(region_to_db(set.region)),
                            year: Set(set.year),
                            rule_number: Set(i32::from(set.rule.number())),
                            overrides_json: Set(overrides_json.clone()),
                            set_by: Set(set_by),
                        }
                        .insert(txn)
                        .await?;
                        let detail = format!(
                            "rule {} parameters in {} from {}: {overrides_json}",
                            set.rule, set.region, set.year
                        );
                        changes.parameters.push(set);
                        Ok((respond(&changes), detail))
                    })
                },
            )
            .await
    }

    /// Records a hospital's response to an open finding of `request.region`, checked against the
    /// finding's own hospital, once per request.
    pub async fn respond_to_finding(
        &self,
        call: &Call,
        request: ResponseRequest,
        respond: impl FnOnce(&StoredFinding) -> Vec<u8> + Send + 'static,
    ) -> Result<Once, WriteError> {
        JOURNAL
            .run_once(
                self.connection(),
                call,
                move |txn| -> Effect<'_, WriteError> {
                    Box::pin(async move {
                        let row = match finding_by_id(&request.finding_id) {
                            Some(query) => query.one(txn).await?,
                            None => None,
                        };
                        let row = row
                            .filter(|row| row.region_code == region_to_db(request.region))
                            .ok_or_else(|| WriteError::NoSuchFinding(request.finding_id.clone()))?;
                        let mut finding = finding_from_row(row)?;
                        if !request
                            .principal
                            .may_reach_institution(&finding.hospital_code)
                        {
                            return Err(WriteError::NotYourFinding {
                                caller: request.principal.caller_id.clone(),
                                finding_id: finding.finding_id,
                                hospital: finding.hospital_code,
                            });
                        }
                        if finding.status != FindingStatus::Open {
                            return Err(supervision_domain::AlreadyDecided(finding.status).into());
                        }
                        if !finding.response.is_empty() {
                            return Err(WriteError::AlreadyAnswered(finding.finding_id));
                        }
                        finding.response = request.text;
                        finding.responder = request.principal.caller_id;
                        supervision_finding::ActiveModel {
                            response: Set(finding.response.clone()),
                            responder: Set(finding.responder.clone()),
                            ..finding_update(&finding)
                        }
                        .update(txn)
                        .await?;
                        let detail = format!(
                            "finding {} answered by {}",
                            finding.finding_id, finding.responder
                        );
                        Ok((respond(&finding), detail))
                    })
                },
            )
            .await
    }
}
