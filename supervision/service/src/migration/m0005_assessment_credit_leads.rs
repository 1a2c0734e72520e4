//! Scorecards and assessment runs with each hospital's score, credit grade changes, and leads
//! with their links to findings.

use sea_orm_migration::prelude::*;

pub struct AssessmentCreditLeads;

impl MigrationName for AssessmentCreditLeads {
    fn name(&self) -> &str {
        "m0005_assessment_credit_leads"
    }
}

#[derive(DeriveIden)]
enum SupervisionScorecard {
    Table,
    RegionCode,
    Year,
    Version,
    ScorecardJson,
    PutBy,
}

#[derive(DeriveIden)]
enum SupervisionAssessmentRun {
    Table,
    RegionCode,
    Year,
    Version,
    ScorecardVersion,
    Hospitals,
    RunBy,
}

#[derive(DeriveIden)]
enum SupervisionAssessment {
    Table,
    RegionCode,
    Year,
    Version,
    HospitalCode,
    ScoreCenti,
    ConfirmedFindings,
    ConfirmedAmountFen,
    CreditGrade,
    BreakdownJson,
}

#[derive(DeriveIden)]
enum SupervisionCreditChange {
    Table,
    Seq,
    RegionCode,
    HospitalCode,
    Year,
    AssessmentVersion,
    FromGrade,
    ToGrade,
    Reason,
    ChangedBy,
}

#[derive(DeriveIden)]
enum SupervisionLead {
    Table,
    LeadId,
    Seq,
    RegionCode,
    Channel,
    ReceivedOn,
    HospitalCode,
    Summary,
    RecordedBy,
}

#[derive(DeriveIden)]
enum SupervisionLeadLink {
    Table,
    LeadId,
    FindingId,
    Seq,
    LinkedBy,
}

fn int(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).integer().not_null().to_owned()
}

fn big(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).big_integer().not_null().to_owned()
}

fn text(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).text().not_null().to_owned()
}

fn string(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).string().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for AssessmentCreditLeads {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use SupervisionAssessment as A;
        use SupervisionAssessmentRun as R;
        use SupervisionCreditChange as C;
        use SupervisionLead as L;
        use SupervisionLeadLink as K;
        use SupervisionScorecard as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(int(S::RegionCode))
                    .col(int(S::Year))
                    .col(int(S::Version))
                    .col(text(S::ScorecardJson))
                    .col(text(S::PutBy))
                    .primary_key(
                        Index::create()
                            .col(S::RegionCode)
                            .col(S::Year)
                            .col(S::Version),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(int(R::RegionCode))
                    .col(int(R::Year))
                    .col(int(R::Version))
                    .col(int(R::ScorecardVersion))
                    .col(int(R::Hospitals))
                    .col(text(R::RunBy))
                    .primary_key(
                        Index::create()
                            .col(R::RegionCode)
                            .col(R::Year)
                            .col(R::Version),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(int(A::RegionCode))
                    .col(int(A::Year))
                    .col(int(A::Version))
                    .col(string(A::HospitalCode))
                    .col(big(A::ScoreCenti))
                    .col(int(A::ConfirmedFindings))
                    .col(big(A::ConfirmedAmountFen))
                    .col(text(A::CreditGrade))
                    .col(text(A::BreakdownJson))
                    .primary_key(
                        Index::create()
                            .col(A::RegionCode)
                            .col(A::Year)
                            .col(A::Version)
                            .col(A::HospitalCode),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(int(C::Seq).primary_key().to_owned())
                    .col(int(C::RegionCode))
                    .col(string(C::HospitalCode))
                    .col(int(C::Year))
                    .col(int(C::AssessmentVersion))
                    .col(text(C::FromGrade))
                    .col(text(C::ToGrade))
                    .col(text(C::Reason))
                    .col(text(C::ChangedBy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(L::Table)
                    .col(string(L::LeadId).primary_key().to_owned())
                    .col(int(L::Seq))
                    .col(int(L::RegionCode))
                    .col(text(L::Channel))
                    .col(int(L::ReceivedOn))
                    .col(string(L::HospitalCode))
                    .col(text(L::Summary))
                    .col(text(L::RecordedBy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(K::Table)
                    .col(string(K::LeadId))
                    .col(string(K::FindingId))
                    .col(int(K::Seq))
                    .col(text(K::LinkedBy))
                    .primary_key(Index::create().col(K::LeadId).col(K::FindingId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SupervisionLeadLink::Table.into_iden(),
            SupervisionLead::Table.into_iden(),
            SupervisionCreditChange::Table.into_iden(),
            SupervisionAssessment::Table.into_iden(),
            SupervisionAssessmentRun::Table.into_iden(),
            SupervisionScorecard::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
