//! The year's hospital assessment (考核评价), run after screening and before the clearing: the
//! bureau puts the shipped demo scorecard for the province and runs it, so each clearing returns
//! the quality deposit by the hospital's score (settlement reads the scores from supervision when
//! the year inputs give none, and names the source on the statement).

use std::collections::BTreeMap;

use kernel::RegionCode;
use medpay_proto::supervision::v1 as supervision;
use medpay_proto::supervision::v1::supervision_assessment_service_client::SupervisionAssessmentServiceClient;

use super::{Channel, YEAR};

/// What the assessment run gave.
pub struct Assessment {
    /// Version of the region-year's assessment run.
    pub version: i32,
    pub hospitals: u32,
    /// Hospitals per credit grade given or changed by the run.
    pub grades: BTreeMap<String, u32>,
}

impl Assessment {
    /// One line for the progress output: `assessment v1: 120 hospitals (credit A 80, B 30, …)`.
    pub fn line(&self) -> String {
        let grades: Vec<String> = self
            .grades
            .iter()
            .map(|(grade, count)| format!("{grade} {count}"))
            .collect();
        format!(
            "assessment v{}: {} hospitals scored (credit {})",
            self.version,
            self.hospitals,
            grades.join(", ")
        )
    }
}

/// Puts the demo scorecard for `region` and the paid year and runs it; request ids name the
/// region and year, so a repeated demo replays both from the journal.
pub async fn assess(channel: Channel, region: RegionCode) -> anyhow::Result<Assessment> {
    let mut client = SupervisionAssessmentServiceClient::new(channel);
    client
        .put_scorecard(supervision::PutScorecardRequest {
            request_id: format!("demo-scorecard-{region}-{YEAR}"),
            region_code: region.to_string(),
            year: YEAR,
            scorecard_json: String::new(),
            use_demo: true,
        })
        .await?;
    let answer = client
        .run_assessment(supervision::RunAssessmentRequest {
            request_id: format!("demo-assessment-{region}-{YEAR}"),
            region_code: region.to_string(),
            year: YEAR,
        })
        .await?
        .into_inner();
    let run = answer
        .run
        .ok_or_else(|| anyhow::anyhow!("RunAssessment answered no run"))?;
    let mut grades = BTreeMap::new();
    for change in answer.credit_changes {
        *grades.entry(change.to_grade).or_insert(0) += 1;
    }
    Ok(Assessment {
        version: run.version,
        hospitals: run.hospitals,
        grades,
    })
}
