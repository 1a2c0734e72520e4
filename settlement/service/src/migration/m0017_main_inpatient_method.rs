//! A region's main inpatient payment method per year, in versions: it chooses the defaults of the
//! region's settlement policies (DOMAIN.md §5 Hainan precise defaults where it is DIP).

use sea_orm_migration::prelude::*;

pub struct MainInpatientMethod;

impl MigrationName for MainInpatientMethod {
    fn name(&self) -> &str {
        "m0017_main_inpatient_method"
    }
}

#[derive(DeriveIden)]
enum SettlementMainMethod {
    Table,
    RegionCode,
    Year,
    Version,
    Method,
    Reason,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for MainInpatientMethod {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use SettlementMainMethod as T;
        let integer = |column: T| ColumnDef::new(column).integer().not_null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(integer(T::RegionCode))
                    .col(integer(T::Year))
                    .col(integer(T::Version))
                    .col(ColumnDef::new(T::Method).string().not_null())
                    .col(ColumnDef::new(T::Reason).text().not_null())
                    .col(ColumnDef::new(T::CreatedBy).string().not_null())
                    .col(ColumnDef::new(T::CreatedAt).big_integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(T::RegionCode)
                            .col(T::Year)
                            .col(T::Version),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SettlementMainMethod::Table).to_owned())
            .await
    }
}
