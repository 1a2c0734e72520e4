//! Special-case review (特例单议, DOMAIN.md §3 special cases) as a state machine:
//! application with material → two reviewers drawn from the expert registry, never from the
//! applying institution → decision (fee-for-service or extra points, or rejected) → at most one
//! appeal, reviewed by a fresh pair → binding into settlement. Every step is recorded.
//!
//! The number of applications is capped per hospital: DRG ≤ 5 % of discharges, DIP ≤ 5 ‰
//! (parameters of [`SpecialCasePolicy`]).

use kernel::{Decimal, Points};
use serde::{Deserialize, Serialize};

use crate::case_key::CaseKey;
use crate::error::SettlementError;
use crate::payment_mode::PaymentMode;
use kernel::date::DateTime;

/// Parameters of special-case review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpecialCasePolicy {
    /// DRG: applications ≤ this share of discharges (default 0.05).
    pub drg_quota_ratio: Decimal,
    /// DIP: applications ≤ this share of discharges (default 0.005).
    pub dip_quota_ratio: Decimal,
    /// Reviewers per review (default 2).
    pub reviewers_per_review: usize,
}

impl Default for SpecialCasePolicy {
    fn default() -> Self {
        Self {
            drg_quota_ratio: Decimal::new(5, 2),
            dip_quota_ratio: Decimal::new(5, 3),
            reviewers_per_review: 2,
        }
    }
}

/// Which quota applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValuationMethod {
    Drg,
    Dip,
}

impl ValuationMethod {
    /// The quota of a case paid `mode`; only points-valued cases (DRG or DIP) are reviewed.
    pub fn of_mode(mode: PaymentMode) -> Option<Self> {
        match mode {
            PaymentMode::Drg => Some(ValuationMethod::Drg),
            PaymentMode::Dip => Some(ValuationMethod::Dip),
            _ => None,
        }
    }
}

/// A hospital's use of its quota in the period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaUsage {
    pub hospital_code: String,
    pub method: ValuationMethod,
    pub discharges: u64,
    /// Applications already made in the period.
    pub applications: u64,
}

/// Whether one more application fits the quota: applications + 1 ≤ discharges × ratio.
pub fn check_quota(usage: &QuotaUsage, policy: &SpecialCasePolicy) -> Result<(), SettlementError> {
    let ratio = match usage.method {
        ValuationMethod::Drg => policy.drg_quota_ratio,
        ValuationMethod::Dip => policy.dip_quota_ratio,
    };
    let limit = Decimal::from(usage.discharges) * ratio;
    if Decimal::from(usage.applications) + Decimal::ONE > limit {
        return Err(SettlementError::QuotaExceeded {
            hospital_code: usage.hospital_code.clone(),
            used: usage.applications,
            limit: limit.normalize().to_string(),
        });
    }
    Ok(())
}

/// An expert in the registry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expert {
    pub expert_id: String,
    /// The institution the expert works at.
    pub institution_code: String,
}

/// Grounds for an application (DOMAIN.md §3 typical grounds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecialCaseGround {
    VeryLongStay,
    VeryHighCost,
    IntensiveCare,
    NewDrugOrTechnology,
    Ungroupable,
    Other,
}

/// What the reviewers decide.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "points")]
pub enum ReviewDecision {
    /// Paid fee-for-service, outside points.
    FeeForService,
    /// Extra points added to the case.
    ExtraPoints(Points),
    Rejected,
}

/// The kind of a decision, by the name the wire and the records use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DecisionKind {
    FeeForService,
    ExtraPoints,
    Rejected,
}

impl DecisionKind {
    pub const ALL: [DecisionKind; 3] = [
        DecisionKind::FeeForService,
        DecisionKind::ExtraPoints,
        DecisionKind::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::FeeForService => "fee_for_service",
            DecisionKind::ExtraPoints => "extra_points",
            DecisionKind::Rejected => "rejected",
        }
    }
}

/// A name that is no decision.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not fee_for_service, extra_points or rejected")]
pub struct UnknownDecision(pub String);

impl std::str::FromStr for DecisionKind {
    type Err = UnknownDecision;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        DecisionKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| UnknownDecision(text.to_owned()))
    }
}

impl ReviewDecision {
    pub fn kind(&self) -> DecisionKind {
        match self {
            ReviewDecision::FeeForService => DecisionKind::FeeForService,
            ReviewDecision::ExtraPoints(_) => DecisionKind::ExtraPoints,
            ReviewDecision::Rejected => DecisionKind::Rejected,
        }
    }

    /// The decision of `kind`; `extra_points` are read only for [`DecisionKind::ExtraPoints`].
    pub fn of_kind<E>(
        kind: DecisionKind,
        extra_points: impl FnOnce() -> Result<Points, E>,
    ) -> Result<Self, E> {
        Ok(match kind {
            DecisionKind::FeeForService => ReviewDecision::FeeForService,
            DecisionKind::ExtraPoints => ReviewDecision::ExtraPoints(extra_points()?),
            DecisionKind::Rejected => ReviewDecision::Rejected,
        })
    }
}

/// Where an application stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    Applied,
    UnderReview,
    Decided,
    UnderAppeal,
    /// Bound into settlement: final.
    Bound,
}

impl ReviewState {
    pub const ALL: [ReviewState; 5] = [
        ReviewState::Applied,
        ReviewState::UnderReview,
        ReviewState::Decided,
        ReviewState::UnderAppeal,
        ReviewState::Bound,
    ];

    /// The name the wire and the records use.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Applied => "applied",
            ReviewState::UnderReview => "under_review",
            ReviewState::Decided => "decided",
            ReviewState::UnderAppeal => "under_appeal",
            ReviewState::Bound => "bound",
        }
    }
}

/// A name that is no review state.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a review state")]
pub struct UnknownReviewState(pub String);

impl std::str::FromStr for ReviewState {
    type Err = UnknownReviewState;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ReviewState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
            .ok_or_else(|| UnknownReviewState(text.to_owned()))
    }
}

/// A recorded step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewStep {
    pub at: DateTime,
    /// `applied`, `reviewers_drawn`, `decided`, `appealed`, `appeal_reviewers_drawn`, `bound`.
    pub action: String,
    /// Who acted (hospital code, expert ids, agency).
    pub actors: Vec<String>,
    pub note: String,
}

/// A special-case application and its whole history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialCaseApplication {
    pub application_id: String,
    pub case: CaseKey,
    pub grounds: Vec<SpecialCaseGround>,
    /// References to the submitted material (document ids).
    pub material: Vec<String>,
    state: ReviewState,
    reviewers: Vec<String>,
    decision: Option<ReviewDecision>,
    appealed: bool,
    history: Vec<ReviewStep>,
}

/// splitmix64: a small, well-mixed generator, so a draw is reproducible from its seed.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Draws `count` reviewers deterministically from `seed`, never from `applicant_institution`
/// and never one of `excluded` (e.g. the first pair, on appeal). The registry's order does not
/// matter: eligible experts are sorted by id before the draw.
pub fn draw_reviewers(
    application_id: &str,
    registry: &[Expert],
    applicant_institution: &str,
    excluded: &[String],
    count: usize,
    seed: u64,
) -> Result<Vec<String>, SettlementError> {
    // An expert listed at several institutions is out if any of them is the applicant.
    let conflicted: Vec<&str> = registry
        .iter()
        .filter(|e| e.institution_code == applicant_institution)
        .map(|e| e.expert_id.as_str())
        .collect();
    let mut eligible: Vec<&str> = registry
        .iter()
        .filter(|e| !conflicted.contains(&e.expert_id.as_str()))
        .filter(|e| !excluded.contains(&e.expert_id))
        .map(|e| e.expert_id.as_str())
        .collect();
    eligible.sort_unstable();
    eligible.dedup();
    if eligible.len() < count {
        return Err(SettlementError::NotEnoughReviewers {
            application_id: application_id.to_owned(),
            needed: count,
            available: eligible.len(),
        });
    }
    let mut state = seed;
    for i in 0..count {
        let remaining = (eligible.len() - i) as u64;
        let j = i + (splitmix64(&mut state) % remaining) as usize;
        eligible.swap(i, j);
    }
    Ok(eligible[..count].iter().map(|s| (*s).to_owned()).collect())
}

impl SpecialCaseApplication {
    /// A hospital applies; refused without material or beyond the quota.
    pub fn apply(
        application_id: impl Into<String>,
        case: CaseKey,
        grounds: Vec<SpecialCaseGround>,
        material: Vec<String>,
        quota: &QuotaUsage,
        policy: &SpecialCasePolicy,
        at: DateTime,
    ) -> Result<Self, SettlementError> {
        let application_id = application_id.into();
        if material.iter().all(|m| m.trim().is_empty()) {
            return Err(SettlementError::NoMaterial { application_id });
        }
        check_quota(quota, policy)?;
        let history = vec![ReviewStep {
            at,
            action: "applied".into(),
            actors: vec![case.hospital_code.clone()],
            note: format!("material: {}", material.join(", ")),
        }];
        Ok(Self {
            application_id,
            case,
            grounds,
            material,
            state: ReviewState::Applied,
            reviewers: Vec::new(),
            decision: None,
            appealed: false,
            history,
        })
    }

    pub fn state(&self) -> ReviewState {
        self.state
    }

    /// The reviewers of the current review (the appeal pair after an appeal).
    pub fn reviewers(&self) -> &[String] {
        &self.reviewers
    }

    pub fn decision(&self) -> Option<&ReviewDecision> {
        self.decision.as_ref()
    }

    /// Every step, oldest first.
    pub fn history(&self) -> &[ReviewStep] {
        &self.history
    }

    fn illegal(&self, action: &'static str) -> SettlementError {
        SettlementError::IllegalTransition {
            application_id: self.application_id.clone(),
            action,
            state: self.state.as_str(),
        }
    }

    /// Draws the review pair: Applied → UnderReview.
    pub fn assign_reviewers(
        &mut self,
        registry: &[Expert],
        policy: &SpecialCasePolicy,
        seed: u64,
        at: DateTime,
    ) -> Result<(), SettlementError> {
        if self.state != ReviewState::Applied {
            return Err(self.illegal("assign reviewers"));
        }
        self.reviewers = draw_reviewers(
            &self.application_id,
            registry,
            &self.case.hospital_code,
            &[],
            policy.reviewers_per_review,
            seed,
        )?;
        self.state = ReviewState::UnderReview;
        self.history.push(ReviewStep {
            at,
            action: "reviewers_drawn".into(),
            actors: self.reviewers.clone(),
            note: format!("seed {seed}"),
        });
        Ok(())
    }

    /// The assigned reviewers decide: UnderReview or UnderAppeal → Decided. Every assigned
    /// reviewer must sign, and only they.
    pub fn decide(
        &mut self,
        decision: ReviewDecision,
        signed_by: &[String],
        at: DateTime,
    ) -> Result<(), SettlementError> {
        if !matches!(
            self.state,
            ReviewState::UnderReview | ReviewState::UnderAppeal
        ) {
            return Err(self.illegal("decide"));
        }
        if let Some(stranger) = signed_by.iter().find(|s| !self.reviewers.contains(s)) {
            return Err(SettlementError::ReviewerNotAssigned {
                application_id: self.application_id.clone(),
                expert_id: stranger.clone(),
            });
        }
        if let Some(missing) = self.reviewers.iter().find(|r| !signed_by.contains(r)) {
            return Err(SettlementError::ReviewerNotAssigned {
                application_id: self.application_id.clone(),
                expert_id: format!("{missing} (signature missing)"),
            });
        }
        if let ReviewDecision::ExtraPoints(points) = &decision
            && points.is_negative()
        {
            return Err(SettlementError::NegativePoints {
                record: self.application_id.clone(),
                field: "extra_points",
                value: *points,
            });
        }
        self.history.push(ReviewStep {
            at,
            action: "decided".into(),
            actors: signed_by.to_vec(),
            note: format!("{decision:?}"),
        });
        self.decision = Some(decision);
        self.state = ReviewState::Decided;
        Ok(())
    }

    /// The hospital appeals once: Decided → UnderAppeal, reviewed by a fresh pair (not the first
    /// reviewers, not from the applicant).
    pub fn appeal(
        &mut self,
        reason: &str,
        registry: &[Expert],
        policy: &SpecialCasePolicy,
        seed: u64,
        at: DateTime,
    ) -> Result<(), SettlementError> {
        if self.state != ReviewState::Decided || self.appealed {
            return Err(self.illegal("appeal"));
        }
        let reviewers = draw_reviewers(
            &self.application_id,
            registry,
            &self.case.hospital_code,
            &self.reviewers,
            policy.reviewers_per_review,
            seed,
        )?;
        self.history.push(ReviewStep {
            at,
            action: "appealed".into(),
            actors: vec![self.case.hospital_code.clone()],
            note: reason.to_owned(),
        });
        self.history.push(ReviewStep {
            at,
            action: "appeal_reviewers_drawn".into(),
            actors: reviewers.clone(),
            note: format!("seed {seed}"),
        });
        self.reviewers = reviewers;
        self.appealed = true;
        self.state = ReviewState::UnderAppeal;
        Ok(())
    }

    /// Binds the decision into settlement: Decided → Bound (final).
    pub fn bind(&mut self, agency: &str, at: DateTime) -> Result<(), SettlementError> {
        if self.state != ReviewState::Decided {
            return Err(self.illegal("bind"));
        }
        self.state = ReviewState::Bound;
        self.history.push(ReviewStep {
            at,
            action: "bound".into(),
            actors: vec![agency.to_owned()],
            note: String::new(),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_names_read_back() {
        for kind in DecisionKind::ALL {
            assert_eq!(kind.as_str().parse::<DecisionKind>(), Ok(kind));
        }
        let extra = ReviewDecision::of_kind(DecisionKind::ExtraPoints, || {
            Ok::<_, ()>(Points::from_scaled(25_000))
        });
        assert_eq!(extra.map(|d| d.kind()), Ok(DecisionKind::ExtraPoints));
        assert!("maybe".parse::<DecisionKind>().is_err());
        for state in ReviewState::ALL {
            assert_eq!(state.as_str().parse::<ReviewState>(), Ok(state));
        }
    }
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn at() -> DateTime {
        "2026-02-01 09:00".parse().expect("dt")
    }

    fn registry() -> Vec<Expert> {
        (0..8)
            .map(|i| Expert {
                expert_id: format!("E{i}"),
                institution_code: format!("H{}", i % 4),
            })
            .collect()
    }

    fn usage(method: ValuationMethod, discharges: u64, applications: u64) -> QuotaUsage {
        QuotaUsage {
            hospital_code: "H0".into(),
            method,
            discharges,
            applications,
        }
    }

    fn application() -> SpecialCaseApplication {
        SpecialCaseApplication::apply(
            "SC1",
            CaseKey {
                hospital_code: "H0".into(),
                list_id: "L1".into(),
            },
            vec![SpecialCaseGround::VeryHighCost],
            vec!["DOC-1".into()],
            &usage(ValuationMethod::Drg, 1000, 0),
            &SpecialCasePolicy::default(),
            at(),
        )
        .expect("applies")
    }

    #[test]
    fn quota_boundaries() {
        let policy = SpecialCasePolicy::default();
        // DRG 5 % of 1,000 = 50: the 50th application fits, the 51st does not.
        assert!(check_quota(&usage(ValuationMethod::Drg, 1000, 49), &policy).is_ok());
        let err = check_quota(&usage(ValuationMethod::Drg, 1000, 50), &policy).expect_err("over");
        assert_eq!(err.reason(), "SPECIAL_CASE_QUOTA_EXCEEDED");
        // DIP 5 ‰ of 1,000 = 5.
        assert!(check_quota(&usage(ValuationMethod::Dip, 1000, 4), &policy).is_ok());
        assert!(check_quota(&usage(ValuationMethod::Dip, 1000, 5), &policy).is_err());
        assert!(check_quota(&usage(ValuationMethod::Dip, 199, 0), &policy).is_err());
    }

    #[test]
    fn full_workflow_with_one_appeal_is_recorded() {
        let mut app = application();
        let policy = SpecialCasePolicy::default();
        app.assign_reviewers(&registry(), &policy, 42, at())
            .expect("drawn");
        let first = app.reviewers().to_vec();
        assert_eq!(first.len(), 2);
        app.decide(ReviewDecision::Rejected, &first, at())
            .expect("decided");
        app.appeal("new evidence", &registry(), &policy, 7, at())
            .expect("appeal");
        let second = app.reviewers().to_vec();
        assert!(second.iter().all(|r| !first.contains(r)));
        app.decide(
            ReviewDecision::ExtraPoints(Points::round(dec!(120.5))),
            &second,
            at(),
        )
        .expect("decided on appeal");
        app.bind("AGENCY-460000", at()).expect("bound");
        assert_eq!(app.state(), ReviewState::Bound);
        let actions: Vec<&str> = app.history().iter().map(|s| s.action.as_str()).collect();
        assert_eq!(
            actions,
            vec![
                "applied",
                "reviewers_drawn",
                "decided",
                "appealed",
                "appeal_reviewers_drawn",
                "decided",
                "bound"
            ]
        );
    }

    #[test]
    fn illegal_transitions_are_rejected() {
        let policy = SpecialCasePolicy::default();
        let mut app = application();
        let reasons = |r: Result<(), SettlementError>| r.expect_err("illegal").reason();
        assert_eq!(
            reasons(app.decide(ReviewDecision::FeeForService, &[], at())),
            "ILLEGAL_TRANSITION"
        );
        assert_eq!(reasons(app.bind("A", at())), "ILLEGAL_TRANSITION");
        assert_eq!(
            reasons(app.appeal("x", &registry(), &policy, 1, at())),
            "ILLEGAL_TRANSITION"
        );
        app.assign_reviewers(&registry(), &policy, 1, at())
            .expect("drawn");
        assert_eq!(
            reasons(app.assign_reviewers(&registry(), &policy, 1, at())),
            "ILLEGAL_TRANSITION"
        );
        assert_eq!(reasons(app.bind("A", at())), "ILLEGAL_TRANSITION");
        let pair = app.reviewers().to_vec();
        // Only the assigned reviewers decide, and both must sign.
        assert_eq!(
            reasons(app.decide(ReviewDecision::FeeForService, &pair[..1], at())),
            "REVIEWER_NOT_ASSIGNED"
        );
        assert_eq!(
            reasons(app.decide(ReviewDecision::FeeForService, &["E99".to_owned()], at())),
            "REVIEWER_NOT_ASSIGNED"
        );
        app.decide(ReviewDecision::FeeForService, &pair, at())
            .expect("decided");
        app.appeal("x", &registry(), &policy, 1, at())
            .expect("first appeal");
        let pair = app.reviewers().to_vec();
        app.decide(ReviewDecision::FeeForService, &pair, at())
            .expect("decided");
        // One appeal only.
        assert_eq!(
            reasons(app.appeal("again", &registry(), &policy, 2, at())),
            "ILLEGAL_TRANSITION"
        );
        app.bind("A", at()).expect("bound");
        assert_eq!(reasons(app.bind("A", at())), "ILLEGAL_TRANSITION");
        assert_eq!(
            reasons(app.decide(ReviewDecision::Rejected, &pair, at())),
            "ILLEGAL_TRANSITION"
        );
    }

    #[test]
    fn applications_need_material_and_quota() {
        let key = CaseKey {
            hospital_code: "H0".into(),
            list_id: "L1".into(),
        };
        let policy = SpecialCasePolicy::default();
        let err = SpecialCaseApplication::apply(
            "SC2",
            key.clone(),
            vec![],
            vec![" ".into()],
            &usage(ValuationMethod::Drg, 1000, 0),
            &policy,
            at(),
        )
        .expect_err("no material");
        assert_eq!(err.reason(), "NO_MATERIAL");
        let err = SpecialCaseApplication::apply(
            "SC3",
            key,
            vec![],
            vec!["DOC".into()],
            &usage(ValuationMethod::Drg, 20, 1),
            &policy,
            at(),
        )
        .expect_err("over quota");
        assert_eq!(err.reason(), "SPECIAL_CASE_QUOTA_EXCEEDED");
    }

    #[test]
    fn the_draw_is_deterministic_and_fails_without_enough_experts() {
        let a = draw_reviewers("SC", &registry(), "H0", &[], 2, 99).expect("a");
        let mut shuffled = registry();
        shuffled.reverse();
        let b = draw_reviewers("SC", &shuffled, "H0", &[], 2, 99).expect("b");
        assert_eq!(a, b);
        let only_own = vec![Expert {
            expert_id: "E0".into(),
            institution_code: "H0".into(),
        }];
        let err = draw_reviewers("SC", &only_own, "H0", &[], 2, 1).expect_err("none");
        assert_eq!(err.reason(), "NOT_ENOUGH_REVIEWERS");
    }

    proptest! {
        #[test]
        fn reviewers_never_come_from_the_applicant(
            experts in proptest::collection::vec((0u32..50, 0u32..5), 0..30),
            applicant in 0u32..5,
            seed in any::<u64>(),
        ) {
            let registry: Vec<Expert> = experts
                .iter()
                .map(|(id, inst)| Expert { expert_id: format!("E{id}"), institution_code: format!("H{inst}") })
                .collect();
            let applicant = format!("H{applicant}");
            match draw_reviewers("SC", &registry, &applicant, &[], 2, seed) {
                Ok(drawn) => {
                    prop_assert_eq!(drawn.len(), 2);
                    prop_assert_ne!(&drawn[0], &drawn[1]);
                    for id in &drawn {
                        prop_assert!(registry.iter().any(|e| &e.expert_id == id));
                        prop_assert!(registry
                            .iter()
                            .filter(|e| &e.expert_id == id)
                            .all(|e| e.institution_code != applicant));
                    }
                }
                Err(err) => prop_assert_eq!(err.reason(), "NOT_ENOUGH_REVIEWERS"),
            }
        }
    }
}
