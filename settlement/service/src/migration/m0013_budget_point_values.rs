//! Published DIP budget point values (预算点值): a version per region, year and fund, with the
//! inputs it was computed from, so a prepayment can name the exact version it priced with.

use sea_orm_migration::prelude::*;

pub struct BudgetPointValues;

impl MigrationName for BudgetPointValues {
    fn name(&self) -> &str {
        "m0013_budget_point_values"
    }
}

#[derive(DeriveIden)]
enum SettlementBudgetPointValue {
    Table,
    RegionCode,
    Year,
    FundType,
    Version,
    /// × 10⁴, as points are stored.
    PointValueScaled,
    InputsJson,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for BudgetPointValues {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use SettlementBudgetPointValue as T;
        let integer = |column: T| ColumnDef::new(column).integer().not_null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(integer(T::RegionCode))
                    .col(integer(T::Year))
                    .col(integer(T::FundType))
                    .col(integer(T::Version))
                    .col(ColumnDef::new(T::PointValueScaled).big_integer().not_null())
                    .col(ColumnDef::new(T::InputsJson).text().not_null())
                    .col(ColumnDef::new(T::CreatedBy).string().not_null())
                    .col(ColumnDef::new(T::CreatedAt).big_integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(T::RegionCode)
                            .col(T::Year)
                            .col(T::FundType)
                            .col(T::Version),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(SettlementBudgetPointValue::Table)
                    .to_owned(),
            )
            .await
    }
}
