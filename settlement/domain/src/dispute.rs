//! Statement disputes (DOMAIN.md §5 year end): the hospital confirms its clearing statement or
//! objects with reasons; an objection is resolved by the agency, upheld (the statement is
//! amended and reissued) or dismissed. Every step is recorded.

use serde::{Deserialize, Serialize};

use crate::error::SettlementError;
use kernel::date::DateTime;

/// Where a statement stands with its hospital.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeState {
    /// Issued, awaiting the hospital's answer.
    Issued,
    Confirmed,
    Objected,
    /// The objection was upheld: the statement is amended and reissued.
    Upheld,
    /// The objection was dismissed: the statement stands.
    Dismissed,
}

impl DisputeState {
    /// The state as statements list it: an upheld or dismissed objection is `resolved`.
    pub fn listed_name(self) -> &'static str {
        match self {
            DisputeState::Upheld | DisputeState::Dismissed => "resolved",
            other => other.name(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            DisputeState::Issued => "issued",
            DisputeState::Confirmed => "confirmed",
            DisputeState::Objected => "objected",
            DisputeState::Upheld => "upheld",
            DisputeState::Dismissed => "dismissed",
        }
    }
}

/// A step on a statement's dispute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DisputeAction {
    Confirm,
    Object(Vec<String>),
    Resolve { upheld: bool, resolution: String },
}

impl DisputeAction {
    /// The method that takes this step.
    pub fn method(&self) -> &'static str {
        match self {
            DisputeAction::Confirm => "ConfirmStatement",
            DisputeAction::Object(_) => "ObjectToStatement",
            DisputeAction::Resolve { .. } => "ResolveDispute",
        }
    }
}

/// A recorded step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeStep {
    pub at: DateTime,
    pub state: DisputeState,
    pub actor: String,
    pub reasons: Vec<String>,
}

/// A statement's confirmation or dispute.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementDispute {
    /// The statement (run id and hospital code, as the service names it).
    pub statement_id: String,
    pub hospital_code: String,
    state: DisputeState,
    history: Vec<DisputeStep>,
}

impl StatementDispute {
    /// A statement issued to its hospital.
    pub fn issue(
        statement_id: impl Into<String>,
        hospital_code: impl Into<String>,
        at: DateTime,
    ) -> Self {
        Self {
            statement_id: statement_id.into(),
            hospital_code: hospital_code.into(),
            state: DisputeState::Issued,
            history: vec![DisputeStep {
                at,
                state: DisputeState::Issued,
                actor: "agency".into(),
                reasons: Vec::new(),
            }],
        }
    }

    pub fn state(&self) -> DisputeState {
        self.state
    }

    pub fn history(&self) -> &[DisputeStep] {
        &self.history
    }

    fn step(
        &mut self,
        action: &'static str,
        from: DisputeState,
        to: DisputeState,
        actor: &str,
        reasons: Vec<String>,
        at: DateTime,
    ) -> Result<(), SettlementError> {
        if self.state != from {
            return Err(SettlementError::DisputeTransition {
                statement_id: self.statement_id.clone(),
                action,
                state: self.state.name(),
            });
        }
        self.state = to;
        self.history.push(DisputeStep {
            at,
            state: to,
            actor: actor.to_owned(),
            reasons,
        });
        Ok(())
    }

    /// The hospital confirms: Issued → Confirmed.
    pub fn confirm(&mut self, at: DateTime) -> Result<(), SettlementError> {
        let actor = self.hospital_code.clone();
        self.step(
            "confirm",
            DisputeState::Issued,
            DisputeState::Confirmed,
            &actor,
            Vec::new(),
            at,
        )
    }

    /// The hospital objects with at least one reason: Issued → Objected.
    pub fn object(&mut self, reasons: Vec<String>, at: DateTime) -> Result<(), SettlementError> {
        let reasons: Vec<String> = reasons
            .into_iter()
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty())
            .collect();
        if reasons.is_empty() {
            return Err(SettlementError::ObjectionWithoutReason {
                statement_id: self.statement_id.clone(),
            });
        }
        let actor = self.hospital_code.clone();
        self.step(
            "object",
            DisputeState::Issued,
            DisputeState::Objected,
            &actor,
            reasons,
            at,
        )
    }

    /// The agency resolves an objection: Objected → Upheld or Dismissed.
    pub fn resolve(
        &mut self,
        upheld: bool,
        agency: &str,
        note: String,
        at: DateTime,
    ) -> Result<(), SettlementError> {
        let to = if upheld {
            DisputeState::Upheld
        } else {
            DisputeState::Dismissed
        };
        self.step(
            "resolve",
            DisputeState::Objected,
            to,
            agency,
            vec![note],
            at,
        )
    }
}

impl StatementDispute {
    /// Takes `action` by `actor` (the agency, when it resolves).
    pub fn take(
        &mut self,
        action: DisputeAction,
        actor: &str,
        at: DateTime,
    ) -> Result<(), SettlementError> {
        match action {
            DisputeAction::Confirm => self.confirm(at),
            DisputeAction::Object(reasons) => self.object(reasons, at),
            DisputeAction::Resolve { upheld, resolution } => {
                self.resolve(upheld, actor, resolution, at)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime {
        "2026-04-01 10:00".parse().expect("dt")
    }

    #[test]
    fn confirm_or_object_then_resolve() {
        let mut confirmed = StatementDispute::issue("RUN1/H1", "H1", at());
        confirmed.confirm(at()).expect("confirm");
        assert_eq!(confirmed.state(), DisputeState::Confirmed);
        let err = confirmed
            .object(vec!["late".into()], at())
            .expect_err("already confirmed");
        assert_eq!(err.reason(), "ILLEGAL_DISPUTE_TRANSITION");

        let mut disputed = StatementDispute::issue("RUN1/H2", "H2", at());
        let err = disputed
            .object(vec![" ".into()], at())
            .expect_err("no reason");
        assert_eq!(err.reason(), "OBJECTION_WITHOUT_REASON");
        disputed
            .object(
                vec!["case L7 valued without its special-case points".into()],
                at(),
            )
            .expect("object");
        assert!(disputed.confirm(at()).is_err());
        disputed
            .resolve(
                true,
                "AGENCY",
                "points added, statement reissued".into(),
                at(),
            )
            .expect("resolve");
        assert_eq!(disputed.state(), DisputeState::Upheld);
        assert!(
            disputed
                .resolve(false, "AGENCY", String::new(), at())
                .is_err()
        );
        let states: Vec<DisputeState> = disputed.history().iter().map(|s| s.state).collect();
        assert_eq!(
            states,
            vec![
                DisputeState::Issued,
                DisputeState::Objected,
                DisputeState::Upheld
            ]
        );
    }
}
