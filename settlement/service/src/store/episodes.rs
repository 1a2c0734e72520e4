//! A person's stored per-diem stays, as the episode chain reads them
//! (`settlement_domain::episode`): current valued (or cleared) inpatient cases that name a
//! per-diem programme, with the prior episode days each was valued with.

use kernel::Date;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use settlement_domain::episode::EpisodeStay;

use crate::store::ledger::{StoreError, settlement_case, status};

/// How many persons one query names.
const PERSONS_PER_QUERY: usize = 500;

type Row = (String, String, String, String, i32, i32, i32);

fn corrupt(column: &'static str, value: i32, reason: &str) -> StoreError {
    StoreError::Corrupt(platform::db::CorruptRow {
        column,
        value: value.to_string(),
        reason: reason.to_owned(),
    })
}

fn date(column: &'static str, value: i32) -> Result<Date, StoreError> {
    Date::from_yyyymmdd(value).map_err(|e| corrupt(column, value, &e.to_string()))
}

/// The query of [`episode_stays`] for some of its persons: found through
/// `settlement_case_person_hospital`, so its cost follows the persons' own stays, not the ledger.
fn stays_of(
    persons: &[String],
    (discharged_from, admitted_until): (i32, i32),
) -> sea_orm::Select<settlement_case::Entity> {
    use settlement_case::Column;
    settlement_case::Entity::find()
        .select_only()
        .columns([
            Column::HospitalCode,
            Column::ListId,
            Column::PersonId,
            Column::EpisodeProgramme,
            Column::AdmissionDate,
            Column::DischargeDate,
            Column::PriorEpisodeDays,
        ])
        .filter(Column::PersonId.is_in(persons.iter().cloned()))
        .filter(Column::IsCurrent.eq(true))
        .filter(Column::Status.is_in([status::VALUED, status::CLEARED]))
        .filter(Column::EpisodeProgramme.ne(""))
        .filter(Column::DischargeDate.gte(discharged_from))
        .filter(Column::AdmissionDate.between(1, admitted_until))
        .order_by_asc(Column::HospitalCode)
        .order_by_asc(Column::ListId)
}

/// The stored per-diem stays of `persons` (any hospital) discharged on or after
/// `discharged_from` and admitted on or before `admitted_until` (`yyyymmdd`), each with its
/// stored prior days fixed, in (hospital, list id) order per query.
pub async fn episode_stays<C: ConnectionTrait>(
    conn: &C,
    persons: &[String],
    (discharged_from, admitted_until): (i32, i32),
) -> Result<Vec<EpisodeStay>, StoreError> {
    let mut stays = Vec::new();
    for persons in persons.chunks(PERSONS_PER_QUERY) {
        let rows: Vec<Row> = stays_of(persons, (discharged_from, admitted_until))
            .into_tuple()
            .all(conn)
            .await?;
        for (hospital_code, list_id, person_id, programme, admitted, discharged, prior) in rows {
            stays.push(EpisodeStay {
                hospital_code,
                list_id,
                person_id,
                programme,
                admission_date: date("admission_date", admitted)?,
                discharge_date: date("discharge_date", discharged)?,
                fixed_prior: Some(
                    u32::try_from(prior)
                        .map_err(|_| corrupt("prior_episode_days", prior, "is negative"))?,
                ),
            });
        }
    }
    Ok(stays)
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, QueryTrait};

    use crate::store::query_plan::{migrated_sqlite, plan};

    #[tokio::test]
    async fn a_persons_stays_are_found_through_the_person_index() {
        let db = migrated_sqlite().await;
        let persons: Vec<String> = (0..300).map(|i| format!("P{i}")).collect();
        let statement = super::stays_of(&persons, (20250101, 20251231)).build(DbBackend::Sqlite);
        let steps = plan(&db, statement).await;
        assert!(
            steps.starts_with("SEARCH settlement_case USING INDEX settlement_case_person_hospital"),
            "{steps}"
        );
    }
}
