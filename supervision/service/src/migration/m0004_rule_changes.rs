//! Rule level changes and rule parameters a region records over the configured policy, and a
//! hospital's response to a finding.

use sea_orm_migration::prelude::*;

pub struct RuleChangesAndResponses;

impl MigrationName for RuleChangesAndResponses {
    fn name(&self) -> &str {
        "m0004_rule_changes_and_responses"
    }
}

#[derive(DeriveIden)]
enum SupervisionLevelChange {
    Table,
    Seq,
    RegionCode,
    Year,
    RuleNumber,
    FromLevel,
    ToLevel,
    ChangedBy,
    Reason,
    Confirmed,
    Dismissed,
}

#[derive(DeriveIden)]
enum SupervisionRuleParameters {
    Table,
    Seq,
    RegionCode,
    Year,
    RuleNumber,
    OverridesJson,
    SetBy,
}

#[derive(DeriveIden)]
enum FindingResponse {
    #[sea_orm(iden = "supervision_finding")]
    Table,
    Response,
    Responder,
    RespondedBeforeReview,
}

fn int(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).integer().not_null().to_owned()
}

fn text(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).text().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for RuleChangesAndResponses {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use SupervisionLevelChange as L;
        use SupervisionRuleParameters as P;
        manager
            .create_table(
                Table::create()
                    .table(L::Table)
                    .col(int(L::Seq).primary_key().to_owned())
                    .col(int(L::RegionCode))
                    .col(int(L::Year))
                    .col(int(L::RuleNumber))
                    .col(text(L::FromLevel))
                    .col(text(L::ToLevel))
                    .col(text(L::ChangedBy))
                    .col(text(L::Reason))
                    .col(int(L::Confirmed))
                    .col(int(L::Dismissed))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .col(int(P::Seq).primary_key().to_owned())
                    .col(int(P::RegionCode))
                    .col(int(P::Year))
                    .col(int(P::RuleNumber))
                    .col(text(P::OverridesJson))
                    .col(text(P::SetBy))
                    .to_owned(),
            )
            .await?;
        for column in [FindingResponse::Response, FindingResponse::Responder] {
            manager
                .alter_table(
                    Table::alter()
                        .table(FindingResponse::Table)
                        .add_column(ColumnDef::new(column).text().not_null().default(""))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(FindingResponse::Table)
                    .add_column(
                        ColumnDef::new(FindingResponse::RespondedBeforeReview)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            FindingResponse::Response,
            FindingResponse::Responder,
            FindingResponse::RespondedBeforeReview,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(FindingResponse::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(
                Table::drop()
                    .table(SupervisionRuleParameters::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(SupervisionLevelChange::Table)
                    .to_owned(),
            )
            .await
    }
}
