//! The outpatient enrolment (primary institutions per capita, chronic diseases): a version per
//! region, year and fund, so an outpatient run names the exact version it read.

use sea_orm_migration::prelude::*;

pub struct OutpatientEnrolment;

impl MigrationName for OutpatientEnrolment {
    fn name(&self) -> &str {
        "m0015_outpatient_enrolment"
    }
}

#[derive(DeriveIden)]
enum SettlementOutpatientEnrolment {
    Table,
    RegionCode,
    Year,
    FundType,
    Version,
    EnrolmentJson,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for OutpatientEnrolment {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use SettlementOutpatientEnrolment as T;
        let integer = |column: T| ColumnDef::new(column).integer().not_null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(integer(T::RegionCode))
                    .col(integer(T::Year))
                    .col(integer(T::FundType))
                    .col(integer(T::Version))
                    .col(ColumnDef::new(T::EnrolmentJson).text().not_null())
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
                    .table(SettlementOutpatientEnrolment::Table)
                    .to_owned(),
            )
            .await
    }
}
