//! Building a DIP directory from a history of cases, and loading it when asked (a journaled
//! write).

use std::collections::BTreeMap;

use grouping_dip::TreatmentType;
use grouping_dip::build::{BuildError, BuildOptions, build_from_csv};
use kernel::{Principal, RegionCode};
use medpay_proto::grouping::v1 as pb;
use platform::journal::{Call, Once};
use platform::wire::Violation;
use prost::Message;

use super::convert::{BuildRequest, report_to_wire, summary_to_wire};
use super::{BUILD_DIP_DIRECTORY, GroupingApi, decode_stored};
use crate::catalog::{DEMO_DIP_SOURCE, Engine, LoadedScheme, SchemeKey};
use crate::error::Error;
use crate::store::{StoreError, StoredScheme};

/// Bad history records listed in one BadRequest; the message says how many more there are.
const MAX_RECORD_VIOLATIONS: usize = 100;

/// The request field a build option comes from.
fn option_field(field: &str) -> &'static str {
    match field {
        "years" => "years",
        "min_cases" => "min_cases",
        "score_scale" => "score_scale",
        "year_weights" => "options.year_weights",
        "trim" => "options.trimming",
        "procedure_types" => "options.procedure_types_scheme_id",
        "auxiliary_policy" => "options.auxiliary_policy",
        "auxiliary_min_cases" => "options.auxiliary_min_cases",
        "cci_weights_tsv" => "options.cci_weights_tsv",
        "tumour_markers_tsv" => "options.tumour_markers_tsv",
        _ => "options",
    }
}

impl From<BuildError> for Error {
    fn from(error: BuildError) -> Self {
        match error {
            BuildError::BadHeader { why } => {
                Error::field("history_csv", format!("header (line 1): {why}"))
            }
            BuildError::InvalidRecords { problems } => {
                let total = problems.len();
                let mut violations: Vec<Violation> = problems
                    .iter()
                    .take(MAX_RECORD_VIOLATIONS)
                    .map(|p| {
                        (
                            "history_csv".to_owned(),
                            format!("line {}: {}: {}", p.line, p.kind.reason(), p.kind),
                        )
                    })
                    .collect();
                if total > MAX_RECORD_VIOLATIONS {
                    violations.push((
                        "history_csv".to_owned(),
                        format!("… and {} more bad records", total - MAX_RECORD_VIOLATIONS),
                    ));
                }
                Error::Invalid(violations)
            }
            BuildError::BadOptions { field, why } => Error::field(option_field(field), why),
            BuildError::BadTable { option, problems } => Error::Invalid(
                problems
                    .iter()
                    .take(MAX_RECORD_VIOLATIONS)
                    .map(|p| {
                        let place = if p.line == 0 {
                            "the table".to_owned()
                        } else {
                            format!("line {}", p.line)
                        };
                        (
                            option_field(option).to_owned(),
                            format!("{place}: {}: {}", p.kind.reason(), p.kind),
                        )
                    })
                    .collect(),
            ),
            BuildError::NoCases => Error::field(
                "history_csv",
                "has no case in a year with a positive weight",
            ),
            BuildError::Overflow => Error::Refused(
                "OVERFLOW",
                "the history's cost sums overflow the decimal range".to_owned(),
            ),
            BuildError::Io { message } => {
                Error::Internal(format!("the history could not be read: {message}"))
            }
            BuildError::Directory(error) => {
                Error::Internal(format!("the built directory is invalid: {error}"))
            }
        }
    }
}

impl GroupingApi {
    /// The build options of a request; every bad field is reported at once.
    fn build_options(
        &self,
        region: RegionCode,
        body: &pb::BuildDipDirectoryRequest,
    ) -> Result<BuildOptions, Error> {
        let request = BuildRequest {
            region,
            procedure_types: self
                .procedure_types(body.options.as_ref().unwrap_or(&Default::default())),
            body,
        };
        BuildOptions::try_from(request).map_err(Error::Invalid)
    }

    /// The procedure-type table the build classifies procedures with: a loaded DIP directory's,
    /// or the demo directory's.
    fn procedure_types(
        &self,
        options: &pb::DipBuildOptions,
    ) -> Result<BTreeMap<String, TreatmentType>, Violation> {
        let field = "options.procedure_types_scheme_id";
        let scheme = if options.procedure_types_scheme_id.is_empty() {
            self.catalog
                .summaries()
                .into_iter()
                .find(|s| s.source == DEMO_DIP_SOURCE)
                .and_then(|s| self.catalog.get(&s.key))
                .ok_or_else(|| {
                    (
                        field.to_owned(),
                        "the demo DIP directory is not loaded".to_owned(),
                    )
                })?
        } else {
            let key = SchemeKey {
                id: options.procedure_types_scheme_id.clone(),
                version: options.procedure_types_version.clone(),
            };
            self.catalog.get(&key).ok_or_else(|| {
                (
                    field.to_owned(),
                    format!("scheme {} version {:?} is not loaded", key.id, key.version),
                )
            })?
        };
        match &scheme.engine {
            Engine::Dip(directory) => Ok(directory
                .procedure_types()
                .map(|(code, treatment)| (code.to_owned(), treatment))
                .collect()),
            Engine::Drg(_) => Err((
                field.to_owned(),
                format!(
                    "{} is a DRG scheme, not a DIP directory",
                    scheme.summary.key.id
                ),
            )),
        }
    }

    /// Builds a directory from the request's history; with `load`, also loads and remembers it
    /// once per request id.
    pub(crate) async fn build_dip(
        &self,
        principal: &Principal,
        region: RegionCode,
        body: pb::BuildDipDirectoryRequest,
    ) -> Result<pb::BuildDipDirectoryResponse, Error> {
        // Only a build that loads is a write; fingerprinting copies the history, so only then.
        let call = if body.load {
            if body.request_id.is_empty() {
                return Err(Error::field("request_id", "is required when load is set"));
            }
            let call = Call::new(
                &principal.caller_id,
                &body.request_id,
                BUILD_DIP_DIRECTORY,
                &body,
                Some(region),
            );
            if let Some(stored) = self.registry.replay(&call).await? {
                return decode_stored(&stored);
            }
            Some(call)
        } else {
            None
        };
        let options = self.build_options(region, &body)?;
        let history = body.history_csv;
        // Building is CPU-bound (seconds for millions of cases): off the async workers.
        let built =
            tokio::task::spawn_blocking(move || build_from_csv(history.as_bytes(), &options))
                .await
                .map_err(|e| Error::Internal(format!("the build did not finish: {e}")))??;
        let files = built
            .directory
            .files()
            .map_err(|e| Error::Internal(format!("the built directory does not serialize: {e}")))?;
        let mut response = pb::BuildDipDirectoryResponse {
            files: files.into_iter().collect(),
            report: Some(report_to_wire(&built.report)),
            scheme: None,
        };
        let Some(call) = call else {
            return Ok(response);
        };
        // Loaded exactly as LoadScheme loads an upload of the returned files.
        let loaded = LoadedScheme::dip_from_files(&response.files)
            .map_err(|e| Error::Internal(format!("the built directory does not load: {e}")))?;
        let summary = loaded.summary.clone();
        let exists = || {
            Error::AlreadyExists(
                "SCHEME_VERSION_EXISTS",
                format!(
                    "scheme {} version {} is already loaded; build with another \
                     options.directory_version or options.directory_id",
                    summary.key.id, summary.key.version
                ),
            )
        };
        if self.catalog.get(&summary.key).is_some()
            || self
                .registry
                .has_scheme(&summary.key.id, &summary.key.version)
                .await?
        {
            return Err(exists());
        }
        response.scheme = Some(summary_to_wire(&summary));
        let files_json = serde_json::to_string(&response.files)
            .map_err(|e| Error::Internal(format!("files do not serialize: {e}")))?;
        let stored = StoredScheme {
            scheme_id: summary.key.id.clone(),
            version: summary.key.version.clone(),
            kind: summary.kind.as_str().to_owned(),
            name: summary.name.clone(),
            source: summary.source.clone(),
            files_json: Some(files_json),
        };
        let detail = format!(
            "region {region}: built and loaded {} {} ({} groups from {} cases)",
            summary.key.id,
            summary.key.version,
            built.report.groups.len(),
            built.report.cases_read
        );
        match self
            .registry
            .save_scheme_once(&stored, &call, detail, response.encode_to_vec())
            .await
        {
            Ok(Once::Done(_)) => {
                self.catalog.insert(loaded);
                tracing::info!(scheme = %summary.key.id, version = %summary.key.version, caller = %principal.caller_id, "DIP directory built and loaded");
                Ok(response)
            }
            Ok(Once::Replayed(stored)) => decode_stored(&stored),
            Err(error @ StoreError::Reused(_)) => Err(error.into()),
            // Another request loaded the same version meanwhile.
            Err(_)
                if self
                    .registry
                    .has_scheme(&summary.key.id, &summary.key.version)
                    .await
                    .unwrap_or(false) =>
            {
                Err(exists())
            }
            Err(error) => Err(error.into()),
        }
    }
}
