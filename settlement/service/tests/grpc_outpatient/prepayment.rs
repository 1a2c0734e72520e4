//! The monthly outpatient prepayment over real sockets, with the real points and budget servers:
//! twelve months prepay each budgeted institution its annual budget to the fen (December taking
//! the residue), a month is prepaid once, and the year end deducts the stored prepayments.

use super::*;

fn month(request_id: &str, month: i32) -> pb::RunOutpatientPrepaymentRequest {
    pb::RunOutpatientPrepaymentRequest {
        request_id: request_id.into(),
        region_code: REGION.into(),
        period: Some(common::YearMonth { year: 2025, month }),
        fund_type: FUND,
    }
}

#[tokio::test]
async fn twelve_months_prepay_the_annual_budget_and_the_year_end_deducts_them() {
    let mut settlement = start_settlement().await;
    seed(&settlement).await;
    settlement
        .outpatient
        .put_outpatient_enrolment(as_agency(enrolment("e-1")))
        .await
        .expect("enrolment");

    let mut months = Vec::new();
    for m in 1..=12 {
        let answer = settlement
            .outpatient
            .run_outpatient_prepayment(as_agency(month(&format!("m-{m}"), m)))
            .await
            .expect("prepayment")
            .into_inner();
        assert!(!answer.already_stored);
        months.push(answer);
    }
    let amounts = |code: &str| -> Vec<Money> {
        months
            .iter()
            .map(|answer| {
                let line = answer
                    .statements
                    .iter()
                    .find(|s| s.hospital_code == code)
                    .unwrap_or_else(|| panic!("line of {code}"));
                money(line.amount.as_ref())
            })
            .collect()
    };
    let y = Money::from_yuan;
    // C1: 1,200,000 / 12 = 100,000 every month.
    assert!(amounts("C1").iter().all(|a| *a == y(100_000)));
    // C3: 470,000 + 15,000 = 485,000; / 12 = 40,416.666… → 40,416.67 × 11 = 444,583.37;
    // December 485,000 − 444,583.37 = 40,416.63.
    let c3 = amounts("C3");
    assert!(
        c3[..11]
            .iter()
            .all(|a| *a == "40416.67".parse().expect("money"))
    );
    assert_eq!(c3[11], "40416.63".parse().expect("money"));
    assert_eq!(c3.iter().copied().sum::<Money>(), y(485_000));
    let march = &months[2];
    let c3_line = &march.statements[2];
    assert_eq!(
        (
            c3_line.month,
            money(c3_line.per_capita_budget.as_ref()),
            money(c3_line.chronic_budget.as_ref()),
            money(c3_line.annual_budget.as_ref()),
        ),
        (3, y(470_000), y(15_000), y(485_000))
    );
    // 100,000 × 2 + 40,416.67.
    assert_eq!(
        money(march.total.as_ref()),
        "240416.67".parse().expect("money")
    );

    // A month is prepaid once: another request answers the stored run.
    let again = settlement
        .outpatient
        .run_outpatient_prepayment(as_agency(month("m-3-again", 3)))
        .await
        .expect("again")
        .into_inner();
    assert!(again.already_stored);
    assert_eq!(again.run_id, march.run_id);
    assert_eq!(again.statements, march.statements);

    // The run is an ordinary run: typed statements and the export.
    let listed = settlement
        .runs
        .list_statements(as_agency(pb::ListStatementsRequest {
            region_code: REGION.into(),
            run_id: months[11].run_id.clone(),
            page_size: 10,
            ..Default::default()
        }))
        .await
        .expect("statements")
        .into_inner()
        .statements;
    let Some(pb::statement::Detail::OutpatientPrepayment(december)) = listed[2].detail.clone()
    else {
        panic!("a typed outpatient prepayment line");
    };
    assert_eq!(
        money(december.amount.as_ref()),
        "40416.63".parse().expect("money")
    );
    let csv = settlement
        .runs
        .export_statements(as_agency(pb::ExportStatementsRequest {
            region_code: REGION.into(),
            run_id: months[11].run_id.clone(),
            format: pb::ExportFormat::Csv as i32,
        }))
        .await
        .expect("export")
        .into_inner()
        .content;
    let csv = String::from_utf8(csv).expect("utf-8");
    assert_eq!(
        csv,
        "hospital_code,month,per_capita_budget,chronic_budget,annual_budget,amount\n\
         C1,12,1200000.00,0.00,1200000.00,100000.00\n\
         C2,12,1200000.00,0.00,1200000.00,100000.00\n\
         C3,12,470000.00,15000.00,485000.00,40416.63\n"
    );
    assert_eq!(
        settlement_service::runs::export::sha256_hex(csv.as_bytes()),
        months[11].statements_digest
    );

    // Typed prepayments beside stored ones: refused by the field.
    let mut typed = run("r-typed", "");
    typed.prepaid = vec![pb::OutpatientPrepaid {
        hospital_code: "C1".into(),
        amount: yuan("1.00"),
    }];
    let refused = settlement
        .outpatient
        .run_outpatient_clearing(as_agency(typed))
        .await
        .expect_err("both");
    assert_eq!(refused.code(), Code::InvalidArgument);
    let fields: Vec<String> = refused
        .get_details_bad_request()
        .expect("field violations")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, ["prepaid"]);

    // The year end deducts the twelve months: prepaid = the annual budget, and
    // prepaid + balance = payable to the fen.
    let year = settlement
        .outpatient
        .run_outpatient_clearing(as_agency(run("r-1", "")))
        .await
        .expect("year end")
        .into_inner();
    assert_eq!(year.prepaid_source, "stored");
    assert_eq!(
        year.prepayment_run_ids,
        months.iter().map(|m| m.run_id.clone()).collect::<Vec<_>>()
    );
    let line = |code: &str| {
        let s = year
            .statements
            .iter()
            .find(|s| s.hospital_code == code)
            .unwrap_or_else(|| panic!("statement of {code}"));
        (
            money(s.payable.as_ref()),
            money(s.prepaid.as_ref()),
            money(s.balance.as_ref()),
        )
    };
    // C1 paid its budget (surplus retained): nothing left; C2 overspent into the shared band:
    // 1,260,000 − 1,200,000 = 60,000 still owed; C3 spent its budget exactly.
    assert_eq!(line("C1"), (y(1_200_000), y(1_200_000), Money::ZERO));
    assert_eq!(line("C2"), (y(1_260_000), y(1_200_000), y(60_000)));
    assert_eq!(line("C3"), (y(485_000), y(485_000), Money::ZERO));
    // Paid in APG points, never prepaid.
    assert_eq!(line("H9").1, Money::ZERO);
}

#[tokio::test]
async fn a_prepayment_needs_an_enrolment_and_a_month() {
    let mut settlement = start_settlement().await;
    let refused = settlement
        .outpatient
        .run_outpatient_prepayment(as_agency(month("m-1", 1)))
        .await
        .expect_err("nothing enrolled");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(
        refused
            .get_error_details()
            .error_info()
            .map(|i| i.reason.clone()),
        Some("NO_OUTPATIENT_ENROLMENT".to_owned())
    );
    let bad = settlement
        .outpatient
        .run_outpatient_prepayment(as_agency(month("m-13", 13)))
        .await
        .expect_err("month 13");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("period"), "{}", bad.message());
    // Nothing prepaid, so the year end deducts nothing.
    let runs = settlement
        .runs
        .list_runs(as_agency(pb::ListRunsRequest {
            region_code: REGION.into(),
            kind: "outpatient_prepayment".into(),
            page_size: 10,
            ..Default::default()
        }))
        .await
        .expect("runs")
        .into_inner()
        .runs;
    assert!(runs.is_empty());
}
