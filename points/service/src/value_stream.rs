//! Valuing wire cases: one region and year, each case with the table version in force on its
//! discharge date, one at a time (`ValueCase`, the internal `ValueBatch`) or as a stream
//! (`ValueCases`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::Stream;
use kernel::FundType;
use medpay_proto::points::v1 as pb;
use points_domain::CaseForValuation;
use tonic::{Code, Status, Streaming};
use tonic_types::StatusExt;

use crate::breakdown::WireWriter;
use crate::convert::CaseToValue;
use crate::error::{CaseError, Error};
use crate::table_choice::{Chooser, Timeline};

/// Values the wire cases of one region and year, each with the table version in force on its
/// discharge date.
pub struct CaseValuer {
    chooser: Chooser,
    writer: WireWriter,
}

/// How far [`CaseValuer::start`] got with a case.
#[expect(
    clippy::large_enum_variant,
    reason = "a step is moved once, right after it is made; boxing the valuation would allocate for every case"
)]
pub enum Step {
    /// Valued, or refused.
    Done(Result<pb::CaseValuation, CaseError>),
    /// The table versions of the case's fund must be read first ([`Chooser::load`]); then
    /// [`CaseValuer::finish`] values it.
    Load(FundType, Box<CaseForValuation>),
}

impl CaseValuer {
    pub fn new(chooser: Chooser) -> Self {
        Self {
            chooser,
            writer: WireWriter::new(),
        }
    }

    pub fn chooser(&mut self) -> &mut Chooser {
        &mut self.chooser
    }

    /// Values a case at once when its fund's table versions are known, which is every case but
    /// the first of each fund.
    pub fn start(&mut self, case: Option<pb::CaseForValuation>) -> Step {
        let case = match case {
            Some(case) => case,
            None => {
                return Step::Done(Err(CaseError::Case(Error::field("case", "is required"))));
            }
        };
        match CaseToValue::try_from(case) {
            Err(error) => Step::Done(Err(CaseError::Case(error))),
            Ok(CaseToValue(domain)) if self.chooser.knows(domain.fund_type) => {
                Step::Done(self.finish(domain))
            }
            Ok(CaseToValue(domain)) => Step::Load(domain.fund_type, Box::new(domain)),
        }
    }

    /// Values a converted case whose fund's table versions are known.
    pub fn finish(&mut self, mut case: CaseForValuation) -> Result<pb::CaseValuation, CaseError> {
        let table = self.chooser.choose(case.fund_type, case.discharge_date)?;
        let document = &table.document;
        // The wire case carries no scheme: a region values its cases by its main method.
        case.grouping.scheme = document.policy.main_method;
        let valuation = points_domain::valuate(&document.policy, &document.tables, &case)
            .map_err(|e| CaseError::Case(e.into()))?;
        Ok(self
            .writer
            .valuation(std::mem::take(&mut case.list_id), &valuation, &table))
    }

    /// Values one case, reading its fund's table versions first when needed.
    pub async fn value(
        &mut self,
        case: Option<pb::CaseForValuation>,
    ) -> Result<pb::CaseValuation, CaseError> {
        match self.start(case) {
            Step::Done(result) => result,
            Step::Load(fund, case) => {
                let timeline = self.chooser.load(fund).await.map_err(CaseError::Service)?;
                self.chooser.learn(fund, timeline);
                self.finish(*case)
            }
        }
    }
}

/// The answer for a case that could not be valued, with its status's message and reason.
pub fn case_failure(sequence: u64, error: Error) -> pb::ValueCasesResponse {
    let status = Status::from(error);
    let error_reason = if status.code() == Code::InvalidArgument {
        "INVALID_CASE".to_owned()
    } else {
        status
            .get_error_details()
            .error_info()
            .map(|info| info.reason.clone())
            .unwrap_or_else(|| "VALUATION_REFUSED".to_owned())
    };
    pb::ValueCasesResponse {
        sequence,
        valuation: None,
        error: status.message().to_owned(),
        error_reason,
    }
}

pub type ValueStream = Pin<Box<dyn Stream<Item = Result<pb::ValueCasesResponse, Status>> + Send>>;

type Loading = Pin<Box<dyn Future<Output = Result<Timeline, Error>> + Send>>;

/// A case of a stream waiting for its fund's table versions.
struct Waiting {
    sequence: u64,
    fund: FundType,
    case: Box<CaseForValuation>,
    loading: Loading,
}

/// One ValueCases stream: reads the next message when the response body asks for the next
/// result, and values it in place. Only the first case of each fund waits (for its table
/// versions); every other case is valued without creating a future, in the task that writes the
/// response, so no per-case hand-over between tasks, and while the client's messages are already
/// buffered the encoder fills whole frames before writing.
pub struct Valuing {
    region_text: String,
    valuer: CaseValuer,
    input: Streaming<pb::ValueCasesRequest>,
    first: Option<pb::ValueCasesRequest>,
    sequence: u64,
    waiting: Option<Waiting>,
    /// Set once the stream failed; it then ends.
    failed: bool,
}

impl Valuing {
    /// The stream of `valuer`'s answers to `first`, then to every later message of `input`; a
    /// later message may repeat the first one's region, not name another.
    pub fn new(
        region_text: String,
        valuer: CaseValuer,
        first: pb::ValueCasesRequest,
        input: Streaming<pb::ValueCasesRequest>,
    ) -> Self {
        Self {
            region_text,
            valuer,
            input,
            first: Some(first),
            sequence: 0,
            waiting: None,
            failed: false,
        }
    }
}

/// The answer for the case at `sequence`: its valuation, or why it has none; only a service
/// failure fails the call.
pub fn answer(
    sequence: u64,
    result: Result<pb::CaseValuation, CaseError>,
) -> Result<pb::ValueCasesResponse, Status> {
    match result {
        Ok(valuation) => Ok(pb::ValueCasesResponse {
            sequence,
            valuation: Some(valuation),
            ..Default::default()
        }),
        Err(CaseError::Case(error)) => Ok(case_failure(sequence, error)),
        Err(CaseError::Service(error)) => Err(error.into()),
    }
}

impl Stream for Valuing {
    type Item = Result<pb::ValueCasesResponse, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.failed {
            return Poll::Ready(None);
        }
        if let Some(waiting) = this.waiting.as_mut() {
            let loaded = ready!(waiting.loading.as_mut().poll(cx));
            let Some(Waiting {
                sequence,
                fund,
                case,
                ..
            }) = this.waiting.take()
            else {
                return Poll::Ready(None);
            };
            let item = match loaded {
                Ok(timeline) => {
                    this.valuer.chooser().learn(fund, timeline);
                    answer(sequence, this.valuer.finish(*case))
                }
                Err(error) => Err(error.into()),
            };
            this.failed = item.is_err();
            return Poll::Ready(Some(item));
        }
        let message = match this.first.take() {
            Some(first) => first,
            None => match ready!(Pin::new(&mut this.input).poll_next(cx)) {
                None => return Poll::Ready(None),
                Some(Ok(message)) => message,
                Some(Err(status)) => {
                    this.failed = true;
                    return Poll::Ready(Some(Err(status)));
                }
            },
        };
        let sequence = this.sequence;
        this.sequence += 1;
        let step = if !message.region_code.is_empty() && message.region_code != this.region_text {
            Step::Done(Err(CaseError::Case(Error::field(
                "region_code",
                "the stream's region is set by its first message",
            ))))
        } else {
            this.valuer.start(message.case)
        };
        match step {
            Step::Done(result) => {
                let item = answer(sequence, result);
                this.failed = item.is_err();
                Poll::Ready(Some(item))
            }
            Step::Load(fund, case) => {
                this.waiting = Some(Waiting {
                    sequence,
                    fund,
                    case,
                    loading: Box::pin(this.valuer.chooser().load(fund)),
                });
                // Poll the read at once: it registers the waker, or is already done.
                self.poll_next(cx)
            }
        }
    }
}
