//! What a money mode pays (per diem, day surgery, fixed rate, fee-for-service, paid at cost) as a
//! column of the case ledger, so that prepayment and clearing pay every mode without reading each
//! case's valuation document. Cases stored before keep that amount only in `valuation_json`
//! (`"amount": "9730.00"`); it is copied into the column here, so they are paid alike.

use sea_orm::{ConnectionTrait, Statement};
use sea_orm_migration::prelude::*;

pub struct CaseAmount;

impl MigrationName for CaseAmount {
    fn name(&self) -> &str {
        "m0009_case_amount"
    }
}

#[derive(DeriveIden)]
enum SettlementCase {
    Table,
    HospitalCode,
    ListId,
    Version,
    AmountFen,
}

/// The amount a stored valuation document names, in fen; `None` for a points-paid case.
fn documented_amount(valuation_json: &str) -> Result<Option<i64>, DbErr> {
    if valuation_json.is_empty() {
        return Ok(None);
    }
    let document: serde_json::Value = serde_json::from_str(valuation_json)
        .map_err(|e| DbErr::Migration(format!("a stored valuation is not JSON: {e}")))?;
    match document.get("amount").and_then(serde_json::Value::as_str) {
        None | Some("") => Ok(None),
        Some(text) => {
            let amount: kernel::Money = text.parse().map_err(|e| {
                DbErr::Migration(format!("a stored valuation's amount {text:?}: {e}"))
            })?;
            amount
                .to_fen()
                .map(Some)
                .map_err(|e| DbErr::Migration(e.to_string()))
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CaseAmount {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SettlementCase::Table)
                    .add_column(
                        ColumnDef::new(SettlementCase::AmountFen)
                            .big_integer()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT hospital_code, list_id, version, valuation_json FROM settlement_case \
                 WHERE valuation_json LIKE '%\"amount\":\"%'",
            ))
            .await?;
        for row in rows {
            let hospital_code: String = row.try_get_by_index(0)?;
            let list_id: String = row.try_get_by_index(1)?;
            let version: i32 = row.try_get_by_index(2)?;
            let json: String = row.try_get_by_index(3)?;
            let Some(fen) = documented_amount(&json)? else {
                continue;
            };
            manager
                .exec_stmt(
                    Query::update()
                        .table(SettlementCase::Table)
                        .value(SettlementCase::AmountFen, fen)
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
        manager
            .alter_table(
                Table::alter()
                    .table(SettlementCase::Table)
                    .drop_column(SettlementCase::AmountFen)
                    .to_owned(),
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_amount_is_read_from_a_stored_valuation() {
        assert_eq!(
            documented_amount(r#"{"amount":"9730.00","payment_mode":"PER_DIEM"}"#).ok(),
            Some(Some(973_000))
        );
        assert_eq!(documented_amount(r#"{"amount":null}"#).ok(), Some(None));
        assert_eq!(documented_amount("").ok(), Some(None));
        assert!(documented_amount(r#"{"amount":"nine"}"#).is_err());
    }
}
