//! `medpay serve <context>` on PostgreSQL, as production runs it: one context per process, the
//! database of `TEST_DATABASE_URL` (skipped without it; `.ci/run` sets it).

use integration_tests::{Medpay, config_with_county_key};
use medpay_proto::budget::v1 as budget;
use medpay_proto::grouping::v1 as grouping;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

#[tokio::test]
async fn one_context_per_process_on_postgresql() -> anyhow::Result<()> {
    let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return Ok(());
    };
    for context in ["budget", "grouping"] {
        let medpay = Medpay::serve(context, &url, &config_with_county_key())?;
        let channel = medpay.channel().await?;
        let health = HealthClient::new(channel.clone())
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await?
            .into_inner();
        assert_eq!(health.status, ServingStatus::Serving as i32);
        match context {
            "budget" => {
                let status = budget::budget_service_client::BudgetServiceClient::new(channel)
                    .get_budget(budget::GetBudgetRequest {
                        region_code: "460100".into(),
                        year: 2025,
                        fund_type: 310,
                        version: 0,
                    })
                    .await
                    .expect_err("no budget stored");
                assert_eq!(status.code(), Code::NotFound);
            }
            _ => {
                // Only the served context answers; the others are not mounted in this process.
                let listed =
                    grouping::grouping_service_client::GroupingServiceClient::new(channel.clone())
                        .list_schemes(grouping::ListSchemesRequest {
                            region_code: "460000".into(),
                            ..Default::default()
                        })
                        .await?
                        .into_inner();
                assert!(!listed.schemes.is_empty());
                let other = budget::budget_service_client::BudgetServiceClient::new(channel)
                    .get_budget(budget::GetBudgetRequest {
                        region_code: "460100".into(),
                        year: 2025,
                        fund_type: 310,
                        version: 0,
                    })
                    .await
                    .expect_err("budget is not served here");
                assert_eq!(other.code(), Code::Unimplemented);
            }
        }
        assert!(medpay.stop()?.success());
    }
    Ok(())
}
