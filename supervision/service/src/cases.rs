//! The cases screening reads, from the settlement context's ledger over
//! `medpay.settlement.internal.v1`: the port, its gRPC implementation, and (`stored`) the reading
//! of a stored settlement list into the domain's [`InpatientList`] and of a stored outpatient or
//! pharmacy settlement into its [`AmbulatorySettlement`].

use futures::StreamExt;
use kernel::{Principal, RegionCode, YearMonth};
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::internal::v1 as pb;
use medpay_proto::settlement::internal::v1::settlement_internal_service_client::SettlementInternalServiceClient;
use medpay_proto::settlement::v1::ListCasesRequest;
use platform::peer::{PEER_MESSAGE_LIMIT, PeerCredentials};
use supervision_domain::{AmbulatorySettlement, EarlierCosts, InpatientList};
use tonic::transport::Channel;
use tonic::{Code, Status};

mod stored;

pub use stored::{
    ambulatory_settlement, earlier_costs, inpatient_list, inpatient_stay, monitored_list,
};

/// How reading cases from the settlement context failed; the run stored nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CaseSourceError {
    /// The settlement context refused the caller or this service.
    #[error("settlement refused: {0}")]
    Denied(String),
    /// The settlement context could not be reached or failed.
    #[error("settlement unavailable: {0}")]
    Unavailable(String),
    /// A stored list supervision cannot read.
    #[error("case {hospital}/{list_id}: {reason}")]
    Unreadable {
        hospital: String,
        list_id: String,
        reason: String,
    },
}

impl From<Status> for CaseSourceError {
    fn from(status: Status) -> Self {
        match status.code() {
            Code::PermissionDenied | Code::Unauthenticated => {
                CaseSourceError::Denied(status.message().to_owned())
            }
            _ => CaseSourceError::Unavailable(status.message().to_owned()),
        }
    }
}

/// Where screening reads a region's current inpatient lists of a month.
#[async_trait::async_trait]
pub trait CaseSource: Send + Sync {
    /// The current inpatient lists of `region` (and the regions inside it) discharged in
    /// `month`, asked on behalf of `principal`.
    async fn inpatient_lists(
        &self,
        principal: &Principal,
        region: RegionCode,
        month: YearMonth,
    ) -> Result<Vec<InpatientList>, CaseSourceError>;

    /// The same lists as the monitoring indicators read them, handed to `visit` one at a time so
    /// that a reader folding them never holds a month: a source may give each list without its
    /// fee lines but with what they add up to per category ([`InpatientList::line_totals`]),
    /// which is all the indicators read of them. This default reads the month whole first.
    async fn each_monitored_list(
        &self,
        principal: &Principal,
        region: RegionCode,
        month: YearMonth,
        visit: &mut (dyn FnMut(InpatientList) + Send),
    ) -> Result<(), CaseSourceError> {
        for list in self.inpatient_lists(principal, region, month).await? {
            visit(list);
        }
        Ok(())
    }

    /// What the growth rates read of the same lists ([`EarlierCosts`]), handed to `visit` one at
    /// a time; this default reads each list whole.
    async fn each_earlier_costs(
        &self,
        principal: &Principal,
        region: RegionCode,
        month: YearMonth,
        visit: &mut (dyn FnMut(EarlierCosts) + Send),
    ) -> Result<(), CaseSourceError> {
        let mut whole = |list: InpatientList| visit(EarlierCosts::from(&list));
        self.each_monitored_list(principal, region, month, &mut whole)
            .await
    }

    /// The cases of `month` as the rules across stays read them, for the month before a
    /// screened one: its inpatient lists without their fee lines (see [`inpatient_stay`]) and,
    /// when `ambulatory`, its ambulatory settlements whole. This default reads the lists whole.
    async fn earlier_month_cases(
        &self,
        principal: &Principal,
        region: RegionCode,
        month: YearMonth,
        ambulatory: bool,
    ) -> Result<MonthCases, CaseSourceError> {
        if ambulatory {
            return self.month_cases(principal, region, month).await;
        }
        Ok(MonthCases {
            lists: self.inpatient_lists(principal, region, month).await?,
            ambulatory: Vec::new(),
        })
    }

    /// The current outpatient, chronic-outpatient and pharmacy settlements of `region` (and the
    /// regions inside it) settled in `month`, which rules 7 and 8 pair with the stays. This
    /// default has none: a source without them screens the other rules only.
    async fn ambulatory_settlements(
        &self,
        _principal: &Principal,
        _region: RegionCode,
        _month: YearMonth,
    ) -> Result<Vec<AmbulatorySettlement>, CaseSourceError> {
        Ok(Vec::new())
    }

    /// The inpatient lists discharged in `month` and the ambulatory settlements settled in it,
    /// as screening reads a month; this default asks for each apart.
    async fn month_cases(
        &self,
        principal: &Principal,
        region: RegionCode,
        month: YearMonth,
    ) -> Result<MonthCases, CaseSourceError> {
        Ok(MonthCases {
            lists: self.inpatient_lists(principal, region, month).await?,
            ambulatory: self
                .ambulatory_settlements(principal, region, month)
                .await?,
        })
    }
}

/// What screening reads of one month.
#[derive(Clone, Debug, Default)]
pub struct MonthCases {
    pub lists: Vec<InpatientList>,
    pub ambulatory: Vec<AmbulatorySettlement>,
}

/// The record kinds of the ledger, as settlement's StreamCases names them.
const INPATIENT: &str = "inpatient";
const AMBULATORY_KINDS: [&str; 3] = ["outpatient", "chronic_outpatient", "pharmacy"];

/// Every record kind of the ledger: the inpatient lists and the ambulatory settlements.
const EVERY_KIND: [&str; 4] = [
    INPATIENT,
    AMBULATORY_KINDS[0],
    AMBULATORY_KINDS[1],
    AMBULATORY_KINDS[2],
];

/// How settlement is asked to stream the inpatient lists: whole, or without their fee lines
/// and with what those add up to per category (`without_fee_lines`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ListShape {
    Whole,
    WithoutFeeLines,
}

/// How an inpatient list is read from its streamed case: whole ([`inpatient_list`]), as the
/// monitoring reads it ([`monitored_list`]), as a stay ([`inpatient_stay`]) or as its costs
/// ([`earlier_costs`]).
type ReadList<T> = fn(&pb::StreamCasesResponse) -> Result<T, CaseSourceError>;

/// The case source over settlement's internal `StreamCases`.
#[derive(Clone)]
pub struct GrpcCases {
    client: SettlementInternalServiceClient<Channel>,
    credentials: PeerCredentials,
}

impl GrpcCases {
    /// A source over `channel`; `api_key`, when set, is sent as `authorization: Bearer`.
    pub fn new(channel: Channel, api_key: Option<&str>) -> Result<Self, String> {
        let credentials = PeerCredentials::from_api_key(api_key)?;
        Ok(Self {
            client: SettlementInternalServiceClient::new(channel)
                .max_decoding_message_size(PEER_MESSAGE_LIMIT),
            credentials,
        })
    }
}

impl GrpcCases {
    /// Settlement's stream of the current lists of `region` discharged in `month`.
    async fn stream(
        &self,
        principal: &Principal,
        region: RegionCode,
        month: YearMonth,
        (kinds, shape): (&[&str], ListShape),
    ) -> Result<tonic::Streaming<pb::StreamCasesResponse>, CaseSourceError> {
        // The caller's principal travels with the call (a gateway in between replaces it with
        // the api key's), so settlement scopes the stream to what the caller may see.
        let request = self.credentials.request_for(
            principal,
            pb::StreamCasesRequest {
                filter: Some(ListCasesRequest {
                    region_code: region.to_string(),
                    period: Some(common::YearMonth {
                        year: month.year(),
                        month: i32::try_from(month.month()).unwrap_or_default(),
                    }),
                    ..Default::default()
                }),
                record_kinds: kinds.iter().map(|kind| (*kind).to_owned()).collect(),
                without_fee_lines: shape == ListShape::WithoutFeeLines,
            },
        )?;
        Ok(self
            .client
            .clone()
            .stream_cases(request)
            .await?
            .into_inner())
    }

    /// The month's inpatient lists, streamed in `shape`, each read by `read` and handed to
    /// `visit`.
    async fn each_list<T>(
        &self,
        (principal, region, month): (&Principal, RegionCode, YearMonth),
        (shape, read): (ListShape, ReadList<T>),
        visit: &mut (dyn FnMut(T) + Send),
    ) -> Result<(), CaseSourceError> {
        let mut stream = self
            .stream(principal, region, month, (&[INPATIENT], shape))
            .await?;
        while let Some(message) = stream.next().await {
            visit(read(&message?)?);
        }
        Ok(())
    }

    /// The month's records of `kinds` from one stream: the inpatient lists read by `read` and
    /// the ambulatory settlements whole. A server from before `record_kind` streams inpatient
    /// lists only, and says nothing.
    async fn month_read(
        &self,
        (principal, region, month): (&Principal, RegionCode, YearMonth),
        kinds: &[&str],
        (shape, read): (ListShape, ReadList<InpatientList>),
    ) -> Result<MonthCases, CaseSourceError> {
        let mut stream = self
            .stream(principal, region, month, (kinds, shape))
            .await?;
        let mut cases = MonthCases::default();
        while let Some(message) = stream.next().await {
            let message = message?;
            match message.record_kind.as_str() {
                "" | INPATIENT => cases.lists.push(read(&message)?),
                _ => cases.ambulatory.push(ambulatory_settlement(&message)?),
            }
        }
        Ok(cases)
    }
}

#[async_trait::async_trait]
impl CaseSource for GrpcCases {
    /// Asks for each list without its fee lines, with their totals ([`monitored_list`]).
    async fn each_monitored_list(
        &self,
        principal: &Principal,
        region: RegionCode,
        month: YearMonth,
        visit: &mut (dyn FnMut(InpatientList) + Send),
    ) -> Result<(), CaseSourceError> {
        let read = (ListShape::WithoutFeeLines, monitored_list as ReadList<_>);
        self.each_list((principal, region, month), read, visit)
            .await
    }

    /// Asks for each list without its fee lines and reads only its costs: the lines, diagnoses
    /// and dates make up most of a list and the growth rates need none of them.
    async fn each_earlier_costs(
        &self,
        principal: &Principal,
        region: RegionCode,
        month: YearMonth,
        visit: &mut (dyn FnMut(EarlierCosts) + Send),
    ) -> Result<(), CaseSourceError> {
        let read = (ListShape::WithoutFeeLines, earlier_costs as ReadList<_>);
        self.each_list((principal, region, month), read, visit)
            .await
    }

    async fn ambulatory_settlements(
        &self,
        principal: &Principal,
        region: RegionCode,
        month: YearMonth,
    ) -> Result<Vec<AmbulatorySettlement>, CaseSourceError> {
        let mut stream = self
            .stream(
                principal,
                region,
                month,
                (&AMBULATORY_KINDS, ListShape::Whole),
            )
            .await?;
        let mut settlements = Vec::new();
        while let Some(message) = stream.next().await {
            let message = message?;
            if message.record_kind.is_empty() {
                // A server from before `record_kinds` ignored the ask and streamed lists.
                return Ok(Vec::new());
            }
            settlements.push(ambulatory_settlement(&message)?);
        }
        Ok(settlements)
    }

    /// One stream of every kind for the month.
    async fn month_cases(
        &self,
        principal: &Principal,
        region: RegionCode,
        month: YearMonth,
    ) -> Result<MonthCases, CaseSourceError> {
        let read = (ListShape::Whole, inpatient_list as ReadList<_>);
        self.month_read((principal, region, month), &EVERY_KIND, read)
            .await
    }

    async fn earlier_month_cases(
        &self,
        principal: &Principal,
        region: RegionCode,
        month: YearMonth,
        ambulatory: bool,
    ) -> Result<MonthCases, CaseSourceError> {
        let kinds: &[&str] = if ambulatory {
            &EVERY_KIND
        } else {
            &[INPATIENT]
        };
        // The stays are asked without their fee lines, which they are read without.
        let read = (ListShape::WithoutFeeLines, inpatient_stay as ReadList<_>);
        self.month_read((principal, region, month), kinds, read)
            .await
    }

    async fn inpatient_lists(
        &self,
        principal: &Principal,
        region: RegionCode,
        month: YearMonth,
    ) -> Result<Vec<InpatientList>, CaseSourceError> {
        let mut lists = Vec::new();
        let mut keep = |list: InpatientList| lists.push(list);
        let read = (ListShape::Whole, inpatient_list as ReadList<_>);
        self.each_list((principal, region, month), read, &mut keep)
            .await?;
        Ok(lists)
    }
}
