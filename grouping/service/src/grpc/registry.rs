//! The scheme registry behind the API: start-up reload of remembered schemes, loading a scheme,
//! activating one for a region, and finding the scheme in force for a case.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use kernel::{Date, Principal, RegionCode};
use medpay_proto::common::v1 as common;
use medpay_proto::grouping::v1 as pb;
use platform::journal::{Call, Once};
use platform::wire::{Violation, date, today};
use prost::Message;

use super::convert::{ActivationInput, activation_to_wire, kind_from_wire, summary_to_wire};
use super::{ACTIVATE_SCHEME, GroupingApi, decode_stored};
use crate::catalog::{LoadedScheme, SchemeCatalog, SchemeKey, SchemeKind};
use crate::error::Error;
use crate::store::{ActivationTimeline, RegistryStore, StoreError, StoredActivation, StoredScheme};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the demo scheme does not load: {0}")]
    Demo(String),
    #[error("the scheme registry cannot be read: {0}")]
    Store(String),
}

/// No scheme for a case: (stable reason, message).
pub(crate) type NoScheme = (&'static str, String);

impl GroupingApi {
    /// A catalogue with the demo scheme and every scheme the registry remembers. A remembered
    /// scheme that no longer loads is logged and left out; it does not stop the service.
    pub async fn start(registry: RegistryStore) -> Result<Self, StartError> {
        let catalog = SchemeCatalog::with_demo().map_err(StartError::Demo)?;
        for stored in registry
            .schemes()
            .await
            .map_err(|e| StartError::Store(e.to_string()))?
        {
            match reload(&stored) {
                Ok(scheme) => {
                    catalog.insert(scheme);
                }
                Err(error) => tracing::error!(
                    scheme = %stored.scheme_id, version = %stored.version, %error,
                    "remembered scheme no longer loads"
                ),
            }
        }
        Ok(Self::new(registry, Arc::new(catalog)))
    }

    /// Activates the shipped demo scheme for `region` from `effective_from` when the region has
    /// no activation yet, so that `medpay up` groups out of the box. Audited like any
    /// activation; a region that already has one is left alone.
    pub async fn activate_demo_if_unset(
        &self,
        region: RegionCode,
        effective_from: Date,
    ) -> Result<bool, StoreError> {
        if self
            .registry
            .latest_activation_date(region)
            .await?
            .is_some()
        {
            return Ok(false);
        }
        let Some(demo) = self
            .catalog
            .summaries()
            .into_iter()
            .find(|s| s.source == "builtin:demo")
        else {
            return Ok(false);
        };
        let activation = StoredActivation {
            region,
            effective_from,
            scheme_id: demo.key.id.clone(),
            version: demo.key.version.clone(),
            activated_by: "medpay up".into(),
        };
        let response = pb::ActivateSchemeResponse {
            activation: Some(activation_to_wire(activation.clone())),
        };
        // Journaled as the request an administrator would send for the same activation.
        let request = pb::ActivateSchemeRequest {
            request_id: format!("demo-default-{region}"),
            region_code: region.to_string(),
            scheme_id: activation.scheme_id.clone(),
            version: activation.version.clone(),
            effective_from: response.activation.as_ref().and_then(|a| a.effective_from),
        };
        let call = Call::new(
            "medpay up",
            &request.request_id,
            ACTIVATE_SCHEME,
            &request,
            Some(region),
        );
        // The audit detail keeps the stored `yyyymmdd` form of the date.
        let detail = format!(
            "region {region}: {} {} from {} (demo default)",
            demo.key.id,
            demo.key.version,
            effective_from.to_yyyymmdd()
        );
        self.registry
            .activate(&activation, &call, detail, response.encode_to_vec())
            .await?;
        Ok(true)
    }

    /// A loaded scheme by id and version.
    pub(crate) fn loaded(
        &self,
        scheme_id: &str,
        version: &str,
    ) -> Result<Arc<LoadedScheme>, Error> {
        let key = SchemeKey {
            id: scheme_id.to_owned(),
            version: version.to_owned(),
        };
        self.catalog.get(&key).ok_or_else(|| {
            Error::NotFound(
                "SCHEME_NOT_FOUND",
                format!("scheme {} version {:?} is not loaded", key.id, key.version),
            )
        })
    }

    /// The scheme named by the request, or the one active for the region on the date.
    pub(crate) async fn resolve(
        &self,
        region: RegionCode,
        scheme_id: &str,
        version: &str,
        as_of: Option<&common::Date>,
    ) -> Result<Arc<LoadedScheme>, Error> {
        if !scheme_id.is_empty() {
            return self.loaded(scheme_id, version);
        }
        let on = match as_of {
            Some(as_of) => date("as_of", as_of).map_err(|v| Error::Invalid(vec![v]))?,
            None => today(),
        };
        let timeline = self.registry.timeline(region).await?;
        self.scheme_in_force(&timeline, region, on)
            .map_err(|(reason, message)| Error::Precondition(reason, message))
    }

    /// The scheme `timeline` has in force on `on`, or why there is none.
    pub(crate) fn scheme_in_force(
        &self,
        timeline: &ActivationTimeline,
        region: RegionCode,
        on: Date,
    ) -> Result<Arc<LoadedScheme>, NoScheme> {
        let Some(activation) = timeline.in_force(on).cloned() else {
            return Err((
                "NO_ACTIVE_SCHEME",
                format!(
                    "no grouping scheme is active for region {region} on {}",
                    on.to_yyyymmdd()
                ),
            ));
        };
        let key = SchemeKey {
            id: activation.scheme_id,
            version: activation.version,
        };
        self.catalog.get(&key).ok_or_else(|| {
            (
                "ACTIVE_SCHEME_NOT_LOADED",
                format!("active scheme {} {} is not loaded", key.id, key.version),
            )
        })
    }

    /// Loads a scheme from a server path or an upload, remembers it and adds it to the catalogue.
    pub(crate) async fn load(
        &self,
        principal: &Principal,
        body: pb::LoadSchemeRequest,
    ) -> Result<pb::LoadSchemeResponse, Error> {
        let kind = kind_from_wire(body.kind).map_err(|v| Error::Invalid(vec![v]))?;
        let (loaded, files_json) = match (body.path.is_empty(), body.files.is_empty()) {
            (false, true) => {
                let path = Path::new(&body.path);
                let loaded = match kind {
                    SchemeKind::Drg => LoadedScheme::drg_from_dir(path).map_err(drg_problems),
                    SchemeKind::Dip => LoadedScheme::dip_from_dir(path).map_err(dip_problems),
                };
                (loaded, None)
            }
            (true, false) => {
                let mut texts = HashMap::new();
                for (name, bytes) in &body.files {
                    let text = String::from_utf8(bytes.clone()).map_err(|_| {
                        Error::field(&format!("files[{name}]"), "is not UTF-8 text")
                    })?;
                    texts.insert(name.clone(), text);
                }
                let json = serde_json::to_string(&texts)
                    .map_err(|e| Error::Internal(format!("files do not serialize: {e}")))?;
                let loaded = match kind {
                    SchemeKind::Drg => {
                        LoadedScheme::drg_from_files(&body.files).map_err(drg_problems)
                    }
                    SchemeKind::Dip => LoadedScheme::dip_from_files(&texts).map_err(dip_problems),
                };
                (loaded, Some(json))
            }
            _ => {
                return Err(Error::field(
                    "path",
                    "give either a server path or the uploaded files, not both or neither",
                ));
            }
        };
        let loaded = loaded.map_err(Error::Invalid)?;
        let summary = loaded.summary.clone();
        self.registry
            .save_scheme(&StoredScheme {
                scheme_id: summary.key.id.clone(),
                version: summary.key.version.clone(),
                kind: summary.kind.as_str().to_owned(),
                name: summary.name.clone(),
                source: summary.source.clone(),
                files_json,
            })
            .await?;
        self.catalog.insert(loaded);
        tracing::info!(scheme = %summary.key.id, version = %summary.key.version, caller = %principal.caller_id, "scheme loaded");
        Ok(pb::LoadSchemeResponse {
            scheme: Some(summary_to_wire(&summary)),
        })
    }

    /// Activates a loaded scheme for `region`, once per request id and only after the region's
    /// latest activation.
    pub(crate) async fn activate(
        &self,
        principal: &Principal,
        region: RegionCode,
        body: pb::ActivateSchemeRequest,
    ) -> Result<pb::ActivateSchemeResponse, Error> {
        let ActivationInput { effective_from } =
            ActivationInput::try_from(&body).map_err(Error::Invalid)?;
        let call = Call::new(
            &principal.caller_id,
            &body.request_id,
            ACTIVATE_SCHEME,
            &body,
            Some(region),
        );
        if let Some(stored) = self.registry.replay(&call).await? {
            return decode_stored(&stored);
        }
        let key = SchemeKey {
            id: body.scheme_id.clone(),
            version: body.version.clone(),
        };
        if self.catalog.get(&key).is_none() {
            return Err(Error::Precondition(
                "SCHEME_NOT_FOUND",
                format!("scheme {} version {:?} is not loaded", key.id, key.version),
            ));
        }
        // Cases keep the scheme version they were grouped with; an activation may only look
        // forward from the region's latest one, so no earlier grouping is silently re-decided.
        if let Some(latest) = self.registry.latest_activation_date(region).await?
            && effective_from <= latest
        {
            return Err(Error::Precondition(
                "ACTIVATION_NOT_AFTER_LATEST",
                format!(
                    "region {region} already has an activation from {}; a new one must start later",
                    latest.to_yyyymmdd()
                ),
            ));
        }
        let activation = StoredActivation {
            region,
            effective_from,
            scheme_id: key.id.clone(),
            version: key.version.clone(),
            activated_by: principal.caller_id.clone(),
        };
        let response = pb::ActivateSchemeResponse {
            activation: Some(activation_to_wire(activation.clone())),
        };
        // The audit detail keeps the stored `yyyymmdd` form of the date.
        let detail = format!(
            "region {region}: {} {} from {}",
            key.id,
            key.version,
            effective_from.to_yyyymmdd()
        );
        match self
            .registry
            .activate(&activation, &call, detail, response.encode_to_vec())
            .await?
        {
            Once::Done(_) => Ok(response),
            Once::Replayed(stored) => decode_stored(&stored),
        }
    }
}

fn reload(stored: &StoredScheme) -> Result<LoadedScheme, String> {
    match SchemeKind::parse(&stored.kind) {
        Some(SchemeKind::Drg) => match &stored.files_json {
            Some(json) => {
                let texts: HashMap<String, String> =
                    serde_json::from_str(json).map_err(|e| e.to_string())?;
                let files = texts
                    .into_iter()
                    .map(|(k, v)| (k, v.into_bytes()))
                    .collect();
                LoadedScheme::drg_from_files(&files).map_err(|e| e.to_string())
            }
            None => {
                LoadedScheme::drg_from_dir(Path::new(&stored.source)).map_err(|e| e.to_string())
            }
        },
        Some(SchemeKind::Dip) => match &stored.files_json {
            Some(json) => {
                let texts: HashMap<String, String> =
                    serde_json::from_str(json).map_err(|e| e.to_string())?;
                LoadedScheme::dip_from_files(&texts).map_err(|e| e.to_string())
            }
            None => {
                LoadedScheme::dip_from_dir(Path::new(&stored.source)).map_err(|e| e.to_string())
            }
        },
        None => Err(format!("scheme kind {:?} cannot be served", stored.kind)),
    }
}

/// Every problem of a DRG scheme as (file:line, message).
fn drg_problems(error: grouping_domain::SchemeError) -> Vec<Violation> {
    error
        .problems
        .into_iter()
        .map(|p| {
            let place = match p.line {
                Some(line) => format!("{}:{line}", p.file),
                None => p.file,
            };
            (place, p.message)
        })
        .collect()
}

/// Every problem of a DIP directory as (file:line, message).
fn dip_problems(error: grouping_dip::DirectoryError) -> Vec<Violation> {
    match error {
        grouping_dip::DirectoryError::Io { path, message } => vec![(path, message)],
        grouping_dip::DirectoryError::Invalid { problems } => problems
            .into_iter()
            .map(|p| {
                let place = if p.line == 0 {
                    p.file.clone()
                } else {
                    format!("{}:{}", p.file, p.line)
                };
                (place, p.to_string())
            })
            .collect(),
    }
}
