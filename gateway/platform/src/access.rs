//! Which roles may call which method: one table for every contract, enforced by the edge layer
//! in front of every server before a request reaches a service.
//!
//! A method not in the table is refused (deny by default), and a test compares the table with the
//! compiled contracts so that a new method cannot ship without a role. Regions are a separate
//! check, made by each service on the request and again on the object it touches.

use kernel::{Principal, Role};
use tonic::Status;

use crate::status::permission_denied;

use Role::{Admin, Configure, Hospital, Read, Review, Run, Service, Submit};

/// `(service, method, roles any one of which may call it)` for every public method.
const PUBLIC_METHODS: &[(&str, &str, &[Role])] = &[
    // Grouping: reading and grouping are reads; the registry is configuration.
    ("medpay.grouping.v1.GroupingService", "GroupCase", &[Read]),
    ("medpay.grouping.v1.GroupingService", "GroupCases", &[Read]),
    ("medpay.grouping.v1.GroupingService", "ExplainCase", &[Read]),
    ("medpay.grouping.v1.GroupingService", "ListSchemes", &[Read]),
    ("medpay.grouping.v1.GroupingService", "GetScheme", &[Read]),
    (
        "medpay.grouping.v1.GroupingService",
        "LoadScheme",
        &[Configure],
    ),
    (
        "medpay.grouping.v1.GroupingService",
        "ActivateScheme",
        &[Configure],
    ),
    (
        "medpay.grouping.v1.GroupingService",
        "BuildDipDirectory",
        &[Configure],
    ),
    // Points: tables are configuration, calibration recomputes them from history (a run).
    ("medpay.points.v1.PointsService", "GetTable", &[Read]),
    ("medpay.points.v1.PointsService", "PutTable", &[Configure]),
    (
        "medpay.points.v1.PointsService",
        "ActivateTable",
        &[Configure],
    ),
    ("medpay.points.v1.PointsService", "ValueCase", &[Read]),
    ("medpay.points.v1.PointsService", "ValueCases", &[Read]),
    ("medpay.points.v1.PointsService", "Calibrate", &[Run]),
    (
        "medpay.points.v1.PointsService",
        "PreviewPointValue",
        &[Read],
    ),
    // Budget.
    (
        "medpay.budget.v1.BudgetService",
        "CreateBudget",
        &[Configure],
    ),
    (
        "medpay.budget.v1.BudgetService",
        "AdjustBudget",
        &[Configure],
    ),
    ("medpay.budget.v1.BudgetService", "GetBudget", &[Read]),
    ("medpay.budget.v1.BudgetService", "ListBudgets", &[Read]),
    ("medpay.budget.v1.BudgetService", "Allocate", &[Run]),
    ("medpay.budget.v1.BudgetService", "GetQuotas", &[Read]),
    (
        "medpay.budget.v1.BudgetService",
        "PutSharingPolicy",
        &[Configure],
    ),
    ("medpay.budget.v1.BudgetService", "ComputeSharing", &[Read]),
    // Settlement: intake, the ledger and the institution registry.
    (
        "medpay.settlement.v1.SettlementService",
        "SubmitCases",
        &[Submit],
    ),
    (
        "medpay.settlement.v1.SettlementService",
        "SubmitCaseBatch",
        &[Submit],
    ),
    (
        "medpay.settlement.v1.SettlementService",
        "ListCases",
        &[Read],
    ),
    (
        "medpay.settlement.v1.SettlementService",
        "ExportCases",
        &[Read],
    ),
    ("medpay.settlement.v1.SettlementService", "GetCase", &[Read]),
    (
        "medpay.settlement.v1.SettlementService",
        "PutInstitution",
        &[Configure],
    ),
    (
        "medpay.settlement.v1.SettlementService",
        "GetInstitution",
        &[Read],
    ),
    (
        "medpay.settlement.v1.SettlementService",
        "ListInstitutions",
        &[Read],
    ),
    (
        "medpay.settlement.v1.SettlementService",
        "PutAgreement",
        &[Configure],
    ),
    // Revaluation stores new versions of cases already taken in: it moves money as a run does.
    (
        "medpay.settlement.v1.SettlementService",
        "RevalueCases",
        &[Run],
    ),
    // Settlement runs: policies are configuration, runs move money, a hospital answers its own
    // statements (the service checks the statement's institution).
    (
        "medpay.settlement.v1.SettlementRunService",
        "PutSettlementPolicy",
        &[Configure],
    ),
    (
        "medpay.settlement.v1.SettlementRunService",
        "GetSettlementPolicy",
        &[Read],
    ),
    // The region's main inpatient method chooses its policies' defaults: configuration.
    (
        "medpay.settlement.v1.SettlementRunService",
        "PutMainInpatientMethod",
        &[Configure],
    ),
    (
        "medpay.settlement.v1.SettlementRunService",
        "GetMainInpatientMethod",
        &[Read],
    ),
    (
        "medpay.settlement.v1.SettlementRunService",
        "PutHospitalYearInputs",
        &[Configure],
    ),
    (
        "medpay.settlement.v1.SettlementRunService",
        "RunPrepayment",
        &[Run],
    ),
    // The bureau publishes the budget point value from the ledger (it moves money as a run
    // does); agencies and hospitals of the region read it.
    (
        "medpay.settlement.v1.SettlementRunService",
        "PublishDipBudgetPointValue",
        &[Run],
    ),
    (
        "medpay.settlement.v1.SettlementRunService",
        "GetDipBudgetPointValue",
        &[Read, Hospital],
    ),
    // Outpatient: the enrolment is configuration, the year end a run.
    (
        "medpay.settlement.v1.OutpatientService",
        "PutOutpatientEnrolment",
        &[Configure],
    ),
    (
        "medpay.settlement.v1.OutpatientService",
        "RunOutpatientClearing",
        &[Run],
    ),
    (
        "medpay.settlement.v1.OutpatientService",
        "RunOutpatientPrepayment",
        &[Run],
    ),
    (
        "medpay.settlement.v1.SettlementRunService",
        "CloseMonth",
        &[Run],
    ),
    (
        "medpay.settlement.v1.SettlementRunService",
        "RunClearing",
        &[Run],
    ),
    (
        "medpay.settlement.v1.SettlementRunService",
        "GetRun",
        &[Read],
    ),
    (
        "medpay.settlement.v1.SettlementRunService",
        "ListRuns",
        &[Read],
    ),
    (
        "medpay.settlement.v1.SettlementRunService",
        "ListStatements",
        &[Read, Hospital],
    ),
    (
        "medpay.settlement.v1.SettlementRunService",
        "ExportStatements",
        &[Read, Hospital],
    ),
    (
        "medpay.settlement.v1.SettlementRunService",
        "ConfirmStatement",
        &[Hospital],
    ),
    (
        "medpay.settlement.v1.SettlementRunService",
        "ObjectToStatement",
        &[Hospital],
    ),
    (
        "medpay.settlement.v1.SettlementRunService",
        "ResolveDispute",
        &[Review],
    ),
    (
        "medpay.settlement.v1.SettlementRunService",
        "ListDisputes",
        &[Read, Review, Hospital],
    ),
    (
        "medpay.settlement.v1.SettlementRunService",
        "RunShadowSettlement",
        &[Run],
    ),
    // Special cases: an agency or a hospital applies and appeals; reviewers decide.
    (
        "medpay.settlement.v1.SpecialCaseService",
        "PutExpert",
        &[Configure],
    ),
    (
        "medpay.settlement.v1.SpecialCaseService",
        "ListExperts",
        &[Read, Review],
    ),
    (
        "medpay.settlement.v1.SpecialCaseService",
        "ApplySpecialCase",
        &[Submit, Hospital],
    ),
    (
        "medpay.settlement.v1.SpecialCaseService",
        "AssignReviewers",
        &[Review],
    ),
    (
        "medpay.settlement.v1.SpecialCaseService",
        "DecideSpecialCase",
        &[Review],
    ),
    (
        "medpay.settlement.v1.SpecialCaseService",
        "AppealSpecialCase",
        &[Submit, Hospital],
    ),
    (
        "medpay.settlement.v1.SpecialCaseService",
        "BindSpecialCase",
        &[Review],
    ),
    (
        "medpay.settlement.v1.SpecialCaseService",
        "GetSpecialCase",
        &[Read, Review, Hospital],
    ),
    (
        "medpay.settlement.v1.SpecialCaseService",
        "ListSpecialCases",
        &[Read, Review, Hospital],
    ),
    // Supervision.
    (
        "medpay.supervision.v1.SupervisionService",
        "ListRules",
        &[Read],
    ),
    (
        "medpay.supervision.v1.SupervisionService",
        "ScreenCases",
        &[Run],
    ),
    // A hospital reads its own findings and deductions (the service holds it to its
    // institution) and answers its own findings; rule levels and parameters are configuration.
    (
        "medpay.supervision.v1.SupervisionService",
        "ListFindings",
        &[Read, Review, Hospital],
    ),
    (
        "medpay.supervision.v1.SupervisionService",
        "GetRule",
        &[Read],
    ),
    (
        "medpay.supervision.v1.SupervisionService",
        "ReviewFinding",
        &[Review],
    ),
    // Supervision reports: reads; a hospital sees its own rows, sums and findings only.
    (
        "medpay.supervision.v1.SupervisionReportsService",
        "GetIndicators",
        &[Read, Review, Hospital],
    ),
    (
        "medpay.supervision.v1.SupervisionReportsService",
        "GetMonitoringReport",
        &[Read, Review, Hospital],
    ),
    (
        "medpay.supervision.v1.SupervisionReportsService",
        "ExportIndicators",
        &[Read, Review, Hospital],
    ),
    (
        "medpay.supervision.v1.SupervisionReportsService",
        "GetPeriodReport",
        &[Read, Review, Hospital],
    ),
    (
        "medpay.supervision.v1.SupervisionReportsService",
        "ExportPeriodReport",
        &[Read, Review, Hospital],
    ),
    (
        "medpay.supervision.v1.SupervisionService",
        "ChangeRuleLevel",
        &[Configure],
    ),
    (
        "medpay.supervision.v1.SupervisionService",
        "SetRuleParameters",
        &[Configure],
    ),
    (
        "medpay.supervision.v1.SupervisionService",
        "RespondToFinding",
        &[Submit, Hospital],
    ),
    (
        "medpay.supervision.v1.SupervisionService",
        "ListDeductions",
        &[Read, Hospital],
    ),
    // Assessment: the scorecard is configuration, a run is a run; a hospital reads its own
    // assessment and credit (the service holds it to its institution). Leads are the
    // reviewers' (they name reporters' complaints), not the hospitals'.
    (
        "medpay.supervision.v1.SupervisionAssessmentService",
        "PutScorecard",
        &[Configure],
    ),
    (
        "medpay.supervision.v1.SupervisionAssessmentService",
        "GetScorecard",
        &[Read, Review, Hospital],
    ),
    (
        "medpay.supervision.v1.SupervisionAssessmentService",
        "PutCreditPolicy",
        &[Configure],
    ),
    (
        "medpay.supervision.v1.SupervisionAssessmentService",
        "GetCreditPolicy",
        &[Read, Review, Hospital],
    ),
    (
        "medpay.supervision.v1.SupervisionAssessmentService",
        "RunAssessment",
        &[Run],
    ),
    (
        "medpay.supervision.v1.SupervisionAssessmentService",
        "GetAssessment",
        &[Read, Review, Hospital],
    ),
    (
        "medpay.supervision.v1.SupervisionAssessmentService",
        "ListAssessments",
        &[Read, Review, Hospital],
    ),
    (
        "medpay.supervision.v1.SupervisionAssessmentService",
        "GetCredit",
        &[Read, Review, Hospital],
    ),
    (
        "medpay.supervision.v1.SupervisionAssessmentService",
        "RecordLead",
        &[Review],
    ),
    (
        "medpay.supervision.v1.SupervisionAssessmentService",
        "ListLeads",
        &[Read, Review],
    ),
    (
        "medpay.supervision.v1.SupervisionAssessmentService",
        "LinkLeadToFinding",
        &[Review],
    ),
];

/// Every method of an internal contract (`medpay.<context>.internal.v1`) is for other medpay
/// services only.
const INTERNAL_ROLES: &[Role] = &[Service];

/// Methods any service offers to administrators.
const ADMIN_METHODS: &[&str] = &["ListAuditEntries"];

/// Whether `service` (a fully qualified gRPC service name) is an internal contract.
pub fn is_internal_service(service: &str) -> bool {
    service.starts_with("medpay.") && service.contains(".internal.")
}

/// The roles that may call `path` (`/package.Service/Method`), or `None` for a method medpay
/// does not know, which nobody may call.
pub fn roles_for(path: &str) -> Option<&'static [Role]> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    if is_internal_service(service) {
        return Some(INTERNAL_ROLES);
    }
    if service.starts_with("medpay.admin.") || ADMIN_METHODS.contains(&method) {
        return service.starts_with("medpay.").then_some(&[Admin][..]);
    }
    PUBLIC_METHODS
        .iter()
        .find(|(s, m, _)| *s == service && *m == method)
        .map(|(_, _, roles)| *roles)
}

/// The health and reflection methods every server answers, besides medpay's contracts.
const STANDARD_METHODS: &[&str] = &[
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/// `path` itself when it is a method some medpay server serves (every method of the compiled
/// contracts, health and reflection), `None` otherwise. The set is fixed at build time, so a
/// caller cannot make it grow: what metrics label a request by.
pub fn known_method(path: &str) -> Option<&'static str> {
    static KNOWN: std::sync::OnceLock<std::collections::HashSet<String>> =
        std::sync::OnceLock::new();
    KNOWN
        .get_or_init(|| {
            let mut known: std::collections::HashSet<String> = STANDARD_METHODS
                .iter()
                .map(|path| (*path).to_owned())
                .collect();
            // The descriptor set is compiled into medpay-proto; it always decodes.
            let set = <prost_types::FileDescriptorSet as prost::Message>::decode(
                medpay_proto::FILE_DESCRIPTOR_SET,
            )
            .unwrap_or_default();
            for file in set.file {
                let package = file.package.unwrap_or_default();
                for service in file.service {
                    let name = service.name.unwrap_or_default();
                    for method in service.method {
                        let method = method.name.unwrap_or_default();
                        known.insert(format!("/{package}.{name}/{method}"));
                    }
                }
            }
            known
        })
        .get(path)
        .map(String::as_str)
}

/// Checks that `principal` holds a role that may call `path`: PERMISSION_DENIED with reason
/// `ROLE_REQUIRED` naming the roles otherwise, `METHOD_UNKNOWN` for a method not in the table.
pub fn authorize_method(principal: &Principal, path: &str) -> Result<(), Status> {
    let Some(roles) = roles_for(path) else {
        return Err(permission_denied(
            "METHOD_UNKNOWN",
            format!("{path} is not a method of medpay"),
        ));
    };
    if roles.iter().any(|role| principal.holds(*role)) {
        return Ok(());
    }
    let names = roles
        .iter()
        .map(|role| role.as_str())
        .collect::<Vec<_>>()
        .join(" or ");
    Err(permission_denied(
        "ROLE_REQUIRED",
        format!(
            "caller {} needs the role {names} to call {path}",
            principal.caller_id
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn principal(roles: &[Role]) -> Principal {
        Principal {
            caller_id: "c".into(),
            scopes: vec!["460000".parse().expect("code")],
            roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
            institution: None,
        }
    }

    fn compiled_methods() -> Vec<String> {
        let set = prost_types::FileDescriptorSet::decode(medpay_proto::FILE_DESCRIPTOR_SET)
            .expect("descriptor set");
        let mut paths = Vec::new();
        for file in set.file {
            let package = file.package.clone().unwrap_or_default();
            for service in &file.service {
                for method in &service.method {
                    paths.push(format!(
                        "/{package}.{}/{}",
                        service.name.clone().unwrap_or_default(),
                        method.name.clone().unwrap_or_default()
                    ));
                }
            }
        }
        paths
    }

    #[test]
    fn every_compiled_method_has_roles_and_every_row_is_a_compiled_method() {
        let compiled = compiled_methods();
        assert!(compiled.len() > 55, "{} methods", compiled.len());
        for path in &compiled {
            assert!(roles_for(path).is_some(), "{path} has no roles");
        }
        for (service, method, _) in PUBLIC_METHODS {
            let path = format!("/{service}/{method}");
            assert!(compiled.contains(&path), "{path} is not in the contracts");
        }
    }

    #[test]
    fn known_methods_are_the_compiled_ones_and_the_standard_ones_only() {
        for path in compiled_methods() {
            assert_eq!(known_method(&path), Some(path.as_str()));
        }
        assert!(known_method("/grpc.health.v1.Health/Check").is_some());
        for unknown in [
            "/grpc.health.v1.Health/Other",
            "/medpay.points.internal.v1.PointsInternalService/Made",
            "/medpay.budget.v1.BudgetService/ListAuditEntriesX",
            "",
            "/",
        ] {
            assert_eq!(known_method(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn supervision_levels_and_parameters_are_configuration_and_hospitals_answer_their_findings() {
        let service = "/medpay.supervision.v1.SupervisionService";
        for method in ["ChangeRuleLevel", "SetRuleParameters"] {
            let path = format!("{service}/{method}");
            assert!(authorize_method(&principal(&[Configure]), &path).is_ok());
            for role in [Read, Submit, Hospital, Review, Run, Admin, Service] {
                assert!(
                    authorize_method(&principal(&[role]), &path).is_err(),
                    "{role} may not call {method}"
                );
            }
        }
        let respond = format!("{service}/RespondToFinding");
        for role in [Submit, Hospital] {
            assert!(authorize_method(&principal(&[role]), &respond).is_ok());
        }
        for role in [Read, Review, Configure, Run, Admin, Service] {
            assert!(
                authorize_method(&principal(&[role]), &respond).is_err(),
                "{role}"
            );
        }
        let deductions = format!("{service}/ListDeductions");
        for role in [Read, Hospital] {
            assert!(authorize_method(&principal(&[role]), &deductions).is_ok());
        }
        for role in [Submit, Review, Configure, Run, Admin, Service] {
            assert!(
                authorize_method(&principal(&[role]), &deductions).is_err(),
                "{role}"
            );
        }
    }

    #[test]
    fn internal_methods_are_for_services_only() {
        let path = "/medpay.points.internal.v1.PointsInternalService/ValueBatch";
        assert!(authorize_method(&principal(&[Service]), path).is_ok());
        let everyone_else: Vec<Role> = Role::ALL.into_iter().filter(|r| *r != Service).collect();
        let denied = authorize_method(&principal(&everyone_else), path).expect_err("not service");
        assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    }

    #[test]
    fn the_bureau_publishes_the_budget_point_value_and_the_region_reads_it() {
        let service = "/medpay.settlement.v1.SettlementRunService";
        let publish = format!("{service}/PublishDipBudgetPointValue");
        let read = format!("{service}/GetDipBudgetPointValue");
        for role in Role::ALL {
            assert_eq!(
                authorize_method(&principal(&[role]), &publish).is_ok(),
                role == Run,
                "{role} publishing"
            );
            assert_eq!(
                authorize_method(&principal(&[role]), &read).is_ok(),
                matches!(role, Read | Hospital),
                "{role} reading"
            );
        }
    }

    #[test]
    fn writes_need_their_role_and_unknown_methods_nobody_may_call() {
        let put_table = "/medpay.points.v1.PointsService/PutTable";
        assert!(authorize_method(&principal(&[Configure]), put_table).is_ok());
        for role in [Read, Submit, Hospital, Review, Run, Admin, Service] {
            assert!(
                authorize_method(&principal(&[role]), put_table).is_err(),
                "{role} may not put a table"
            );
        }
        let unknown = authorize_method(
            &principal(&Role::ALL),
            "/medpay.points.v1.PointsService/DropTable",
        )
        .expect_err("unknown");
        assert!(unknown.message().contains("not a method"));
        assert!(roles_for("/other.Service/ListAuditEntries").is_none());
        assert_eq!(
            roles_for("/medpay.budget.v1.BudgetService/ListAuditEntries"),
            Some(&[Admin][..])
        );
    }
}
