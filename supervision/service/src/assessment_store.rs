//! Scorecards, assessment runs with each hospital's score and breakdown, credit grade changes,
//! and leads with their links to findings, written through the context's journal.

use std::collections::BTreeMap;

use kernel::{Date, Decimal, Money, RegionCode};
use platform::db::{CorruptRow, region_from_db, region_to_db};
use platform::journal::{Call, Effect, Once};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use supervision_domain::credit::{CreditChange, CreditGrade, CreditPolicy, credit_changes};
use supervision_domain::leads::{Lead, LeadChannel};

use crate::changes_store::next_seq;
use crate::store::{
    JOURNAL, StoreError, SupervisionStore, WriteError, finding_by_id, region_span,
    supervision_finding,
};

macro_rules! entity {
    ($module:ident, $table:literal, { $($(#[$attr:meta])* $field:ident: $ty:ty,)+ }) => {
        pub mod $module {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                $($(#[$attr])* pub $field: $ty,)+
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

entity!(supervision_scorecard, "supervision_scorecard", {
    #[sea_orm(primary_key, auto_increment = false)]
    region_code: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    year: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    version: i32,
    scorecard_json: String,
    put_by: String,
});

entity!(supervision_assessment_run, "supervision_assessment_run", {
    #[sea_orm(primary_key, auto_increment = false)]
    region_code: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    year: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    version: i32,
    scorecard_version: i32,
    hospitals: i32,
    run_by: String,
    /// 0: the default policy.
    credit_policy_version: i32,
});

entity!(supervision_assessment, "supervision_assessment", {
    #[sea_orm(primary_key, auto_increment = false)]
    region_code: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    year: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    version: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    hospital_code: String,
    /// The score × 100 (2 places).
    score_centi: i64,
    confirmed_findings: i32,
    confirmed_amount_fen: i64,
    credit_grade: String,
    breakdown_json: String,
});

entity!(supervision_credit_change, "supervision_credit_change", {
    /// The order changes were made in, from 1.
    #[sea_orm(primary_key, auto_increment = false)]
    seq: i32,
    region_code: i32,
    hospital_code: String,
    year: i32,
    assessment_version: i32,
    /// Empty for a hospital's first grade.
    from_grade: String,
    to_grade: String,
    reason: String,
    changed_by: String,
});

entity!(supervision_lead, "supervision_lead", {
    #[sea_orm(primary_key, auto_increment = false)]
    lead_id: String,
    seq: i32,
    region_code: i32,
    channel: String,
    received_on: i32,
    hospital_code: String,
    summary: String,
    recorded_by: String,
});

entity!(supervision_lead_link, "supervision_lead_link", {
    #[sea_orm(primary_key, auto_increment = false)]
    lead_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    finding_id: String,
    seq: i32,
    linked_by: String,
    /// The lead's region, which a distributed deployment shards the links by.
    region_code: i32,
});

/// A stored scorecard version (its document as checked and normalised).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredScorecard {
    pub region: RegionCode,
    pub year: i32,
    pub version: i32,
    pub scorecard_json: String,
    pub put_by: String,
}

/// An assessment run of a region and year.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAssessmentRun {
    pub region: RegionCode,
    pub year: i32,
    pub version: i32,
    pub scorecard_version: i32,
    pub hospitals: u32,
    pub run_by: String,
    /// The credit policy version it graded by; 0 for the default policy.
    pub credit_policy_version: i32,
}

/// An item's result as stored: decimal strings, `value` empty when there was no data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredItem {
    pub item_id: String,
    pub group: String,
    pub measure: String,
    pub value: String,
    pub weight: String,
    pub score: String,
}

/// A group's points as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredGroup {
    pub group: String,
    pub score: String,
    pub weight: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Breakdown {
    groups: Vec<StoredGroup>,
    items: Vec<StoredItem>,
}

/// A hospital's stored assessment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAssessment {
    pub hospital_code: String,
    pub score: Decimal,
    pub confirmed_findings: u32,
    pub confirmed_amount: Money,
    pub credit_grade: CreditGrade,
    pub groups: Vec<StoredGroup>,
    pub items: Vec<StoredItem>,
}

/// A stored change of credit grade.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCreditChange {
    pub region: RegionCode,
    pub year: i32,
    pub assessment_version: i32,
    pub change: CreditChange,
    pub changed_by: String,
}

/// A lead as asked to be recorded.
#[derive(Clone, Debug)]
pub struct NewLead {
    pub region: RegionCode,
    pub channel: LeadChannel,
    pub received_on: Date,
    pub hospital_code: String,
    pub summary: String,
    pub recorded_by: String,
}

fn corrupt(column: &'static str, value: impl ToString, reason: &str) -> StoreError {
    StoreError::Corrupt(CorruptRow {
        column,
        value: value.to_string(),
        reason: reason.to_owned(),
    })
}

fn grade_from_db(column: &'static str, text: &str) -> Result<CreditGrade, StoreError> {
    CreditGrade::parse(text).ok_or_else(|| corrupt(column, text, "not a credit grade"))
}

fn scorecard_from_row(row: supervision_scorecard::Model) -> Result<StoredScorecard, StoreError> {
    Ok(StoredScorecard {
        region: region_from_db(row.region_code)?,
        year: row.year,
        version: row.version,
        scorecard_json: row.scorecard_json,
        put_by: row.put_by,
    })
}

fn run_from_row(row: supervision_assessment_run::Model) -> Result<StoredAssessmentRun, StoreError> {
    Ok(StoredAssessmentRun {
        region: region_from_db(row.region_code)?,
        year: row.year,
        version: row.version,
        scorecard_version: row.scorecard_version,
        hospitals: u32::try_from(row.hospitals).unwrap_or_default(),
        run_by: row.run_by,
        credit_policy_version: row.credit_policy_version,
    })
}

fn assessment_from_row(row: supervision_assessment::Model) -> Result<StoredAssessment, StoreError> {
    let breakdown: Breakdown = serde_json::from_str(&row.breakdown_json)
        .map_err(|_| corrupt("breakdown_json", &row.breakdown_json, "not a breakdown"))?;
    Ok(StoredAssessment {
        hospital_code: row.hospital_code,
        score: Decimal::new(row.score_centi, 2),
        confirmed_findings: u32::try_from(row.confirmed_findings).unwrap_or_default(),
        confirmed_amount: Money::from_fen(row.confirmed_amount_fen),
        credit_grade: grade_from_db("credit_grade", &row.credit_grade)?,
        groups: breakdown.groups,
        items: breakdown.items,
    })
}

fn change_from_row(
    row: supervision_credit_change::Model,
) -> Result<StoredCreditChange, StoreError> {
    let from = match row.from_grade.as_str() {
        "" => None,
        text => Some(grade_from_db("from_grade", text)?),
    };
    Ok(StoredCreditChange {
        region: region_from_db(row.region_code)?,
        year: row.year,
        assessment_version: row.assessment_version,
        change: CreditChange {
            hospital_code: row.hospital_code,
            from,
            to: grade_from_db("to_grade", &row.to_grade)?,
            reason: row.reason,
        },
        changed_by: row.changed_by,
    })
}

/// The score × 100 as stored; a checked score has 2 places and lies within 0–100.
fn score_to_db(score: Decimal) -> Result<i64, StoreError> {
    let centi = (score * Decimal::ONE_HUNDRED).trunc();
    i64::try_from(centi).map_err(|_| corrupt("score_centi", score, "out of range"))
}

async fn lead_of<C: ConnectionTrait>(
    conn: &C,
    row: supervision_lead::Model,
) -> Result<Lead, StoreError> {
    let links = supervision_lead_link::Entity::find()
        .filter(supervision_lead_link::Column::LeadId.eq(row.lead_id.clone()))
        .order_by_asc(supervision_lead_link::Column::Seq)
        .all(conn)
        .await?;
    Ok(Lead {
        region: region_from_db(row.region_code)?,
        channel: LeadChannel::parse(&row.channel)
            .ok_or_else(|| corrupt("channel", &row.channel, "not a lead channel"))?,
        received_on: Date::from_yyyymmdd(row.received_on)
            .map_err(|_| corrupt("received_on", row.received_on, "not a date"))?,
        lead_id: row.lead_id,
        hospital_code: row.hospital_code,
        summary: row.summary,
        recorded_by: row.recorded_by,
        finding_ids: links.into_iter().map(|l| l.finding_id).collect(),
    })
}

/// The lead of `region` (or a region inside it) with this id.
async fn find_lead<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    lead_id: &str,
) -> Result<Option<supervision_lead::Model>, DbErr> {
    let (from, to) = region_span(region);
    supervision_lead::Entity::find_by_id(lead_id.to_owned())
        .filter(supervision_lead::Column::RegionCode.between(from, to))
        .one(conn)
        .await
}

impl SupervisionStore {
    /// Stores the scorecard as the next version of its region and year.
    pub async fn put_scorecard(
        &self,
        call: &Call,
        (region, year): (RegionCode, i32),
        scorecard_json: String,
        put_by: String,
        respond: impl FnOnce(&StoredScorecard) -> Vec<u8> + Send + 'static,
    ) -> Result<Once, WriteError> {
        JOURNAL
            .run_once(
                self.connection(),
                call,
                move |txn| -> Effect<'_, WriteError> {
                    Box::pin(async move {
                        let latest = latest_scorecard_of(txn, region, year).await?;
                        let stored = StoredScorecard {
                            region,
                            year,
                            version: latest.map_or(1, |s| s.version + 1),
                            scorecard_json,
                            put_by,
                        };
                        supervision_scorecard::ActiveModel {
                            region_code: Set(region_to_db(region)),
                            year: Set(year),
                            version: Set(stored.version),
                            scorecard_json: Set(stored.scorecard_json.clone()),
                            put_by: Set(stored.put_by.clone()),
                        }
                        .insert(txn)
                        .await?;
                        let detail = format!("scorecard v{} of {region} {year}", stored.version);
                        Ok((respond(&stored), detail))
                    })
                },
            )
            .await
    }

    /// The latest scorecard of exactly this region and year.
    pub async fn latest_scorecard(
        &self,
        region: RegionCode,
        year: i32,
    ) -> Result<Option<StoredScorecard>, StoreError> {
        latest_scorecard_of(self.connection(), region, year).await
    }

    /// Stores an assessment run as the next version of its region and year with every
    /// hospital's assessment, and records the credit grade of each hospital whose grade it
    /// changes (against the latest grade recorded in the region). `respond` gives the response
    /// from the run stored and the changes.
    pub async fn record_assessment(
        &self,
        call: &Call,
        run: StoredAssessmentRun,
        assessments: Vec<StoredAssessment>,
        policy: CreditPolicy,
        respond: impl FnOnce(&StoredAssessmentRun, &[StoredCreditChange]) -> Vec<u8> + Send + 'static,
    ) -> Result<Once, WriteError> {
        JOURNAL
            .run_once(
                self.connection(),
                call,
                move |txn| -> Effect<'_, WriteError> {
                    Box::pin(async move {
                        let latest = latest_run_of(txn, run.region, run.year).await?;
                        let run = StoredAssessmentRun {
                            version: latest.map_or(1, |r| r.version + 1),
                            ..run
                        };
                        let region = region_to_db(run.region);
                        supervision_assessment_run::ActiveModel {
                            region_code: Set(region),
                            year: Set(run.year),
                            version: Set(run.version),
                            scorecard_version: Set(run.scorecard_version),
                            hospitals: Set(i32::try_from(run.hospitals).unwrap_or(i32::MAX)),
                            run_by: Set(run.run_by.clone()),
                            credit_policy_version: Set(run.credit_policy_version),
                        }
                        .insert(txn)
                        .await?;
                        for a in &assessments {
                            let breakdown = Breakdown {
                                groups: a.groups.clone(),
                                items: a.items.clone(),
                            };
                            supervision_assessment::ActiveModel {
                                region_code: Set(region),
                                year: Set(run.year),
                                version: Set(run.version),
                                hospital_code: Set(a.hospital_code.clone()),
                                score_centi: Set(score_to_db(a.score)?),
                                confirmed_findings: Set(
                                    i32::try_from(a.confirmed_findings).unwrap_or(i32::MAX)
                                ),
                                confirmed_amount_fen: Set(a.confirmed_amount.to_fen().map_err(
                                    |e| corrupt("confirmed_amount_fen", "", &e.to_string()),
                                )?),
                                credit_grade: Set(a.credit_grade.as_str().to_owned()),
                                breakdown_json: Set(serde_json::to_string(&breakdown)
                                    .map_err(|e| corrupt("breakdown_json", "", &e.to_string()))?),
                            }
                            .insert(txn)
                            .await?;
                        }
                        let current = current_grades(txn, run.region).await?;
                        let changes = credit_changes(
                            &policy,
                            &current,
                            assessments
                                .iter()
                                .map(|a| (a.hospital_code.as_str(), a.score, a.confirmed_findings)),
                        );
                        let mut stored = Vec::with_capacity(changes.len());
                        let mut seq = next_seq::<supervision_credit_change::Entity, _>(
                            txn,
                            supervision_credit_change::Column::Seq,
                        )
                        .await?;
                        for change in changes {
                            supervision_credit_change::ActiveModel {
                                seq: Set(seq),
                                region_code: Set(region),
                                hospital_code: Set(change.hospital_code.clone()),
                                year: Set(run.year),
                                assessment_version: Set(run.version),
                                from_grade: Set(change.from.map_or("", |g| g.as_str()).to_owned()),
                                to_grade: Set(change.to.as_str().to_owned()),
                                reason: Set(change.reason.clone()),
                                changed_by: Set(run.run_by.clone()),
                            }
                            .insert(txn)
                            .await?;
                            seq += 1;
                            stored.push(StoredCreditChange {
                                region: run.region,
                                year: run.year,
                                assessment_version: run.version,
                                change,
                                changed_by: run.run_by.clone(),
                            });
                        }
                        let detail = format!(
                            "assessment v{} of {} {}: {} hospitals, {} credit changes",
                            run.version,
                            run.region,
                            run.year,
                            run.hospitals,
                            stored.len()
                        );
                        Ok((respond(&run, &stored), detail))
                    })
                },
            )
            .await
    }

    /// The run of a region and year: `version`, or the latest when `None`.
    pub async fn assessment_run(
        &self,
        region: RegionCode,
        year: i32,
        version: Option<i32>,
    ) -> Result<Option<StoredAssessmentRun>, StoreError> {
        match version {
            None => latest_run_of(self.connection(), region, year).await,
            Some(version) => supervision_assessment_run::Entity::find_by_id((
                region_to_db(region),
                year,
                version,
            ))
            .one(self.connection())
            .await?
            .map(run_from_row)
            .transpose(),
        }
    }

    /// The assessments of a run, of `hospital` only when given, in hospital code order.
    pub async fn assessments(
        &self,
        run: &StoredAssessmentRun,
        hospital: Option<&str>,
    ) -> Result<Vec<StoredAssessment>, StoreError> {
        use supervision_assessment::Column;
        let mut query = supervision_assessment::Entity::find()
            .filter(Column::RegionCode.eq(region_to_db(run.region)))
            .filter(Column::Year.eq(run.year))
            .filter(Column::Version.eq(run.version));
        if let Some(hospital) = hospital {
            query = query.filter(Column::HospitalCode.eq(hospital));
        }
        query
            .order_by_asc(Column::HospitalCode)
            .all(self.connection())
            .await?
            .into_iter()
            .map(assessment_from_row)
            .collect()
    }

    /// A hospital's credit grade changes in exactly this region, oldest first.
    pub async fn credit_history(
        &self,
        region: RegionCode,
        hospital: &str,
    ) -> Result<Vec<StoredCreditChange>, StoreError> {
        use supervision_credit_change::Column;
        supervision_credit_change::Entity::find()
            .filter(Column::RegionCode.eq(region_to_db(region)))
            .filter(Column::HospitalCode.eq(hospital))
            .order_by_asc(Column::Seq)
            .all(self.connection())
            .await?
            .into_iter()
            .map(change_from_row)
            .collect()
    }

    /// Records a lead with the next id of its region.
    pub async fn record_lead(
        &self,
        call: &Call,
        lead: NewLead,
        respond: impl FnOnce(&Lead) -> Vec<u8> + Send + 'static,
    ) -> Result<Once, WriteError> {
        JOURNAL
            .run_once(
                self.connection(),
                call,
                move |txn| -> Effect<'_, WriteError> {
                    Box::pin(async move {
                        let seq = next_seq::<supervision_lead::Entity, _>(
                            txn,
                            supervision_lead::Column::Seq,
                        )
                        .await?;
                        let stored = Lead {
                            lead_id: format!("{}-L{seq}", lead.region),
                            region: lead.region,
                            channel: lead.channel,
                            received_on: lead.received_on,
                            hospital_code: lead.hospital_code,
                            summary: lead.summary,
                            recorded_by: lead.recorded_by,
                            finding_ids: Vec::new(),
                        };
                        supervision_lead::ActiveModel {
                            lead_id: Set(stored.lead_id.clone()),
                            seq: Set(seq),
                            region_code: Set(region_to_db(stored.region)),
                            channel: Set(stored.channel.as_str().to_owned()),
                            received_on: Set(stored.received_on.to_yyyymmdd()),
                            hospital_code: Set(stored.hospital_code.clone()),
                            summary: Set(stored.summary.clone()),
                            recorded_by: Set(stored.recorded_by.clone()),
                        }
                        .insert(txn)
                        .await?;
                        let detail = format!(
                            "lead {} ({}) on {:?}",
                            stored.lead_id,
                            stored.channel.as_str(),
                            stored.hospital_code
                        );
                        Ok((respond(&stored), detail))
                    })
                },
            )
            .await
    }

    /// The leads of `region` and the regions inside it, of `hospital` only when given, newest
    /// first.
    pub async fn leads(
        &self,
        region: RegionCode,
        hospital: Option<&str>,
    ) -> Result<Vec<Lead>, StoreError> {
        use supervision_lead::Column;
        let (from, to) = region_span(region);
        let mut query =
            supervision_lead::Entity::find().filter(Column::RegionCode.between(from, to));
        if let Some(hospital) = hospital {
            query = query.filter(Column::HospitalCode.eq(hospital));
        }
        let rows = query
            .order_by_desc(Column::Seq)
            .all(self.connection())
            .await?;
        let mut leads = Vec::with_capacity(rows.len());
        for row in rows {
            leads.push(lead_of(self.connection(), row).await?);
        }
        Ok(leads)
    }

    /// Links a lead of `region` to a finding of `region` (each checked against the request's
    /// region and against each other by the domain's [`Lead::link`]).
    pub async fn link_lead(
        &self,
        call: &Call,
        region: RegionCode,
        (lead_id, finding_id): (String, String),
        linked_by: String,
        respond: impl FnOnce(&Lead) -> Vec<u8> + Send + 'static,
    ) -> Result<Once, WriteError> {
        JOURNAL
            .run_once(
                self.connection(),
                call,
                move |txn| -> Effect<'_, WriteError> {
                    Box::pin(async move {
                        let row = find_lead(txn, region, &lead_id)
                            .await?
                            .ok_or_else(|| WriteError::NoSuchLead(lead_id.clone()))?;
                        let lead_region = row.region_code;
                        let mut lead = lead_of(txn, row).await?;
                        let (from, to) = region_span(region);
                        let finding = match finding_by_id(&finding_id) {
                            Some(query) => {
                                query
                                    .filter(
                                        supervision_finding::Column::CaseRegionCode
                                            .between(from, to),
                                    )
                                    .one(txn)
                                    .await?
                            }
                            None => None,
                        }
                        .ok_or_else(|| WriteError::NoSuchFinding(finding_id.clone()))?;
                        lead.link(&finding_id, &finding.hospital_code)?;
                        let seq = next_seq::<supervision_lead_link::Entity, _>(
                            txn,
                            supervision_lead_link::Column::Seq,
                        )
                        .await?;
                        supervision_lead_link::ActiveModel {
                            lead_id: Set(lead.lead_id.clone()),
                            finding_id: Set(finding_id.clone()),
                            seq: Set(seq),
                            linked_by: Set(linked_by.clone()),
                            region_code: Set(lead_region),
                        }
                        .insert(txn)
                        .await?;
                        let detail = format!("lead {} → finding {finding_id}", lead.lead_id);
                        Ok((respond(&lead), detail))
                    })
                },
            )
            .await
    }
}

async fn latest_scorecard_of<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    year: i32,
) -> Result<Option<StoredScorecard>, StoreError> {
    use supervision_scorecard::Column;
    supervision_scorecard::Entity::find()
        .filter(Column::RegionCode.eq(region_to_db(region)))
        .filter(Column::Year.eq(year))
        .order_by_desc(Column::Version)
        .one(conn)
        .await?
        .map(scorecard_from_row)
        .transpose()
}

async fn latest_run_of<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
    year: i32,
) -> Result<Option<StoredAssessmentRun>, StoreError> {
    use supervision_assessment_run::Column;
    supervision_assessment_run::Entity::find()
        .filter(Column::RegionCode.eq(region_to_db(region)))
        .filter(Column::Year.eq(year))
        .order_by_desc(Column::Version)
        .one(conn)
        .await?
        .map(run_from_row)
        .transpose()
}

/// Each hospital's latest grade in exactly this region.
async fn current_grades<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
) -> Result<BTreeMap<String, CreditGrade>, StoreError> {
    use supervision_credit_change::Column;
    let mut grades = BTreeMap::new();
    for row in supervision_credit_change::Entity::find()
        .filter(Column::RegionCode.eq(region_to_db(region)))
        .order_by_asc(Column::Seq)
        .all(conn)
        .await?
    {
        grades.insert(row.hospital_code, grade_from_db("to_grade", &row.to_grade)?);
    }
    Ok(grades)
}
