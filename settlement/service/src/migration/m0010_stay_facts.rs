//! The facts the rules across a person's stays read (15-day readmission halving), as columns of
//! the case ledger: the person, the admission date and the planned-readmission flag. Inpatient
//! cases stored before have them only in their list (`case_json`); they are copied here, so a
//! run over old and new cases pairs them alike.

use sea_orm::{ConnectionTrait, Statement};
use sea_orm_migration::prelude::*;

pub struct StayFacts;

impl MigrationName for StayFacts {
    fn name(&self) -> &str {
        "m0010_stay_facts"
    }
}

#[derive(DeriveIden)]
enum SettlementCase {
    Table,
    HospitalCode,
    ListId,
    Version,
    PersonId,
    AdmissionDate,
    PlannedReadmission,
}

/// (person, admission `yyyymmdd`, planned readmission) of a stored inpatient list.
fn stay_facts(case_json: &str) -> Result<(String, i32, bool), DbErr> {
    let unreadable = |why: String| DbErr::Migration(format!("a stored list {why}"));
    let list: serde_json::Value =
        serde_json::from_str(case_json).map_err(|e| unreadable(format!("is not JSON: {e}")))?;
    let person = list["header"]["psn_no"].as_str().unwrap_or_default();
    let admitted = list["stay"]["admitted_at"]
        .as_str()
        .ok_or_else(|| unreadable("has no stay.admitted_at".to_owned()))?;
    let date: kernel::DateTime = admitted
        .parse()
        .map_err(|e| unreadable(format!("has stay.admitted_at {admitted:?}: {e}")))?;
    let planned = list["stay"]["planned_readmission_31d"]
        .as_bool()
        .unwrap_or(false);
    Ok((person.to_owned(), date.date().to_yyyymmdd(), planned))
}

#[async_trait::async_trait]
impl MigrationTrait for StayFacts {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ColumnDef::new(SettlementCase::PersonId)
                .string()
                .not_null()
                .default("")
                .to_owned(),
            ColumnDef::new(SettlementCase::AdmissionDate)
                .integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(SettlementCase::PlannedReadmission)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
        ] {
            // One column per statement: SQLite alters one at a time.
            manager
                .alter_table(
                    Table::alter()
                        .table(SettlementCase::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT hospital_code, list_id, version, case_json FROM settlement_case \
                 WHERE record_kind = 'inpatient'",
            ))
            .await?;
        for row in rows {
            let hospital_code: String = row.try_get_by_index(0)?;
            let list_id: String = row.try_get_by_index(1)?;
            let version: i32 = row.try_get_by_index(2)?;
            let json: String = row.try_get_by_index(3)?;
            let (person, admitted, planned) = stay_facts(&json)?;
            manager
                .exec_stmt(
                    Query::update()
                        .table(SettlementCase::Table)
                        .value(SettlementCase::PersonId, person)
                        .value(SettlementCase::AdmissionDate, admitted)
                        .value(SettlementCase::PlannedReadmission, planned)
                        .and_where(Expr::col(SettlementCase::HospitalCode).eq(hospital_code))
                        .and_where(Expr::col(SettlementCase::ListId).eq(list_id))
                        .and_where(Expr::col(SettlementCase::Version).eq(version))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            SettlementCase::PersonId,
            SettlementCase::AdmissionDate,
            SettlementCase::PlannedReadmission,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(SettlementCase::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_facts_are_read_from_a_stored_list() {
        let list = r#"{"header":{"psn_no":"P9"},"stay":{"admitted_at":"2025-03-01 08:30","planned_readmission_31d":true}}"#;
        assert_eq!(
            stay_facts(list).ok(),
            Some(("P9".to_owned(), 20250301, true))
        );
        let unplanned = r#"{"header":{"psn_no":"P9"},"stay":{"admitted_at":"2025-03-01 08:30"}}"#;
        assert_eq!(stay_facts(unplanned).ok().map(|f| f.2), Some(false));
        assert!(stay_facts(r#"{"header":{},"stay":{}}"#).is_err());
    }
}
