//! Credit thresholds per region and year, versioned, and the policy version each assessment run
//! graded by.

use sea_orm_migration::prelude::*;

pub struct CreditPolicy;

impl MigrationName for CreditPolicy {
    fn name(&self) -> &str {
        "m0006_credit_policy"
    }
}

#[derive(DeriveIden)]
enum SupervisionCreditPolicy {
    Table,
    RegionCode,
    Year,
    Version,
    AMinScoreCenti,
    AMaxFindings,
    BMinScoreCenti,
    BMaxFindings,
    CMinScoreCenti,
    PutBy,
}

#[derive(DeriveIden)]
enum SupervisionAssessmentRun {
    Table,
    CreditPolicyVersion,
}

#[async_trait::async_trait]
impl MigrationTrait for CreditPolicy {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use SupervisionCreditPolicy as P;
        let int = |column: P| ColumnDef::new(column).integer().not_null().to_owned();
        let big = |column: P| ColumnDef::new(column).big_integer().not_null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .col(int(P::RegionCode))
                    .col(int(P::Year))
                    .col(int(P::Version))
                    .col(big(P::AMinScoreCenti))
                    .col(int(P::AMaxFindings))
                    .col(big(P::BMinScoreCenti))
                    .col(int(P::BMaxFindings))
                    .col(big(P::CMinScoreCenti))
                    .col(ColumnDef::new(P::PutBy).text().not_null())
                    .primary_key(
                        Index::create()
                            .col(P::RegionCode)
                            .col(P::Year)
                            .col(P::Version),
                    )
                    .to_owned(),
            )
            .await?;
        // Runs stored before graded by the default policy: version 0.
        manager
            .alter_table(
                Table::alter()
                    .table(SupervisionAssessmentRun::Table)
                    .add_column(
                        ColumnDef::new(SupervisionAssessmentRun::CreditPolicyVersion)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SupervisionAssessmentRun::Table)
                    .drop_column(SupervisionAssessmentRun::CreditPolicyVersion)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(SupervisionCreditPolicy::Table)
                    .to_owned(),
            )
            .await
    }
}
