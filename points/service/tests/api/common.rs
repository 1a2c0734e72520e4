//! A points server on a real socket, and the DOMAIN.md §3 table and cases the tests value.

use kernel::FundType;
use medpay_proto::common::v1::{Date, Decimal as WireDecimal, Money as WireMoney};
use medpay_proto::points::internal::v1::points_internal_service_client::PointsInternalServiceClient;
use medpay_proto::points::v1 as pb;
use medpay_proto::points::v1::points_service_client::PointsServiceClient;
pub use platform::testing::{error_reason, violated_fields, with_role};
use points_domain::tables::{CoefficientSet, DatedCoefficient, DrgGroupRate};
use points_domain::{SchemeKind, ValuationPolicy, ValuationTables};
use points_service::store::TableStore;
use points_service::{Migrator, PointsApi};
use rust_decimal::Decimal;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

pub const EMPLOYEE: i32 = 310;

pub struct Server {
    pub client: PointsServiceClient<Channel>,
    pub internal: PointsInternalServiceClient<Channel>,
    pub store: TableStore,
}

/// The calls the tests make most, each sent by the Hainan bureau (administrator for the audit
/// log) about the 460000 2025 employee tables.
impl Server {
    pub async fn put_table(
        &mut self,
        request: pb::PutTableRequest,
    ) -> Result<pb::PutTableResponse, Status> {
        self.client
            .put_table(bureau(request))
            .await
            .map(Response::into_inner)
    }

    pub async fn activate_table(
        &mut self,
        request: pb::ActivateTableRequest,
    ) -> Result<pb::ActivateTableResponse, Status> {
        self.client
            .activate_table(bureau(request))
            .await
            .map(Response::into_inner)
    }

    /// Version `version` of the table, the active one for 0.
    pub async fn get_table(&mut self, version: i32) -> Result<pb::ValuationTable, Status> {
        let response = self
            .client
            .get_table(bureau(pb::GetTableRequest {
                region_code: "460000".into(),
                year: 2025,
                fund_type: EMPLOYEE,
                version,
            }))
            .await?;
        Ok(response
            .into_inner()
            .table
            .expect("a found table is answered"))
    }

    /// Values `case` alone in 460000 under the 2025 tables.
    pub async fn value_case(
        &mut self,
        case: pb::CaseForValuation,
    ) -> Result<pb::CaseValuation, Status> {
        let response = self
            .client
            .value_case(bureau(pb::ValueCaseRequest {
                region_code: "460000".into(),
                year: 2025,
                case: Some(case),
            }))
            .await?;
        Ok(response
            .into_inner()
            .valuation
            .expect("a valued case is answered"))
    }

    /// Streams `messages` to ValueCases and collects every answer in the order received.
    pub async fn value_cases(
        &mut self,
        messages: Vec<pb::ValueCasesRequest>,
    ) -> Vec<pb::ValueCasesResponse> {
        let mut stream = self
            .client
            .value_cases(bureau(tokio_stream::iter(messages)))
            .await
            .expect("stream")
            .into_inner();
        let mut results = Vec::new();
        while let Some(result) = stream.message().await.expect("result") {
            results.push(result);
        }
        results
    }

    /// The audit entries `request` selects, read by an administrator of `scope`.
    pub async fn audit(
        &mut self,
        request: pb::ListAuditEntriesRequest,
        scope: &str,
    ) -> Result<pb::ListAuditEntriesResponse, Status> {
        let admin = with_role(request, "admin", scope, "admin");
        self.client
            .list_audit_entries(admin)
            .await
            .map(Response::into_inner)
    }
}

pub async fn start() -> Server {
    let store = TableStore::new(platform::testing::sqlite::<Migrator>().await);
    let routes = tonic::service::Routes::new(PointsApi::new(store.clone()).into_server())
        .add_service(PointsApi::new(store.clone()).into_internal_server());
    let channel = platform::testing::serve(routes).await;
    Server {
        client: PointsServiceClient::new(channel.clone()),
        internal: PointsInternalServiceClient::new(channel)
            .max_decoding_message_size(256 * 1024 * 1024)
            .max_encoding_message_size(256 * 1024 * 1024),
        store,
    }
}

pub fn as_caller<T>(message: T, scope: &str) -> Request<T> {
    with_role(message, "caller", scope, "bureau")
}

pub fn bureau<T>(message: T) -> Request<T> {
    as_caller(message, "460000")
}

pub fn money(yuan: &str) -> Option<WireMoney> {
    Some(WireMoney { yuan: yuan.into() })
}

pub fn decimal(value: &str) -> Option<WireDecimal> {
    Some(WireDecimal {
        value: value.into(),
    })
}

pub fn date(year: i32, month: i32, day: i32) -> Option<Date> {
    Some(Date { year, month, day })
}

/// The DOMAIN.md §3 region: DRG main method; all-DRG mean 10,000; GB11 mean 15,000 and base 150;
/// hospital H1 coefficient 1.05 from 2025.
pub fn document() -> (ValuationPolicy, ValuationTables) {
    document_of("460000", "150")
}

/// The DOMAIN.md §3 document for `region`, with GB11's base points set to `gb11_base`.
pub fn document_of(region: &str, gb11_base: &str) -> (ValuationPolicy, ValuationTables) {
    let region = region.parse().expect("region");
    let mut policy = ValuationPolicy::new(region, 2025, FundType::Employee);
    policy.main_method = SchemeKind::Drg;
    let mut tables = ValuationTables::new(region, 2025, FundType::Employee);
    tables.drg.all_case_mean_cost = "10000".parse().expect("money");
    tables.drg.groups.insert(
        "GB11".into(),
        DrgGroupRate {
            mean_cost: "15000".parse().expect("money"),
            base_points: gb11_base.parse().expect("points"),
            stable: true,
            per_diem_points: None,
        },
    );
    tables.coefficients.drg_by_hospital.insert(
        "H1".into(),
        CoefficientSet {
            all_groups: vec![DatedCoefficient {
                coefficient: Decimal::new(105, 2),
                effective_from: "2025-01-01".parse().expect("date"),
                effective_to: None,
            }],
            per_group: Default::default(),
        },
    );
    (policy, tables)
}

pub fn document_json(policy: &ValuationPolicy, tables: &ValuationTables) -> String {
    serde_json::json!({ "policy": policy, "tables": tables }).to_string()
}

pub fn put(request_id: &str, document_json: String) -> pb::PutTableRequest {
    pb::PutTableRequest {
        request_id: request_id.into(),
        region_code: "460000".into(),
        year: 2025,
        fund_type: EMPLOYEE,
        document_json,
        document: None,
    }
}

pub fn activate(request_id: &str, version: i32) -> pb::ActivateTableRequest {
    pb::ActivateTableRequest {
        request_id: request_id.into(),
        region_code: "460000".into(),
        year: 2025,
        fund_type: EMPLOYEE,
        version,
        effective_from: date(2025, 1, 1),
    }
}

/// Puts `document` as a draft of its region's 2025 employee table and activates it from `from`;
/// returns the version.
pub async fn put_and_activate_from(
    server: &mut Server,
    (policy, tables): (ValuationPolicy, ValuationTables),
    from: Option<Date>,
) -> i32 {
    let region = policy.region.to_string();
    let tag = format!(
        "{region}-{}",
        from.map_or(0, |d| d.year * 10_000 + d.month * 100 + d.day)
    );
    let put = server
        .put_table(pb::PutTableRequest {
            region_code: region.clone(),
            ..put(&format!("put-{tag}"), document_json(&policy, &tables))
        })
        .await
        .expect("put");
    let version = put.table.expect("table").version;
    server
        .activate_table(pb::ActivateTableRequest {
            region_code: region,
            effective_from: from,
            ..activate(&format!("activate-{tag}"), version)
        })
        .await
        .expect("activate");
    version
}

/// Puts the DOMAIN.md §3 document and activates it from the start of 2025.
pub async fn put_and_activate(server: &mut Server) {
    put_and_activate_from(server, document(), date(2025, 1, 1)).await;
}

pub fn case(id: &str, cost: &str) -> pb::CaseForValuation {
    pb::CaseForValuation {
        case_id: id.into(),
        hospital_code: "H1".into(),
        hospital_level: "2A".into(),
        fund_type: EMPLOYEE,
        group_code: "GB11".into(),
        adrg: "GB1".into(),
        group_status: "SUCCESS".into(),
        principal_diagnosis: "K25.000".into(),
        total_cost: money(cost),
        individual_burden: money("1000"),
        admission_date: date(2025, 3, 1),
        discharge_date: date(2025, 3, 6),
        discharge_type: "1".into(),
        medical_type: "住院".into(),
        department: "A03".into(),
        ..Default::default()
    }
}

pub async fn value(server: &mut Server, cost: &str) -> pb::CaseValuation {
    server.value_case(case("C1", cost)).await.expect("valued")
}
