//! The data-quality warnings kept with each record content (`store::warnings`): validation's
//! warnings and the codes the grouping scheme did not know, per (hospital, list id, content hash).

use sea_orm_migration::prelude::*;

pub struct CaseWarnings;

impl MigrationName for CaseWarnings {
    fn name(&self) -> &str {
        "m0014_case_warnings"
    }
}

#[derive(DeriveIden)]
enum SettlementCaseWarning {
    Table,
    HospitalCode,
    ListId,
    ContentHash,
    Seq,
    Level,
    Code,
    Field,
    Detail,
}

#[async_trait::async_trait]
impl MigrationTrait for CaseWarnings {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use SettlementCaseWarning as T;
        let text = |column: T| ColumnDef::new(column).string().not_null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(text(T::HospitalCode))
                    .col(text(T::ListId))
                    .col(text(T::ContentHash))
                    .col(ColumnDef::new(T::Seq).integer().not_null())
                    .col(text(T::Level))
                    .col(text(T::Code))
                    .col(text(T::Field))
                    .col(ColumnDef::new(T::Detail).text().not_null())
                    .primary_key(
                        Index::create()
                            .col(T::HospitalCode)
                            .col(T::ListId)
                            .col(T::ContentHash)
                            .col(T::Seq),
                    )
                    .to_owned(),
            )
            .await?;
        // Reads look the warnings of a page of cases up by list id.
        manager
            .create_index(
                Index::create()
                    .name("settlement_case_warning_list")
                    .table(T::Table)
                    .col(T::ListId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SettlementCaseWarning::Table).to_owned())
            .await
    }
}
