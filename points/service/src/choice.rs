//! Which table version values a case: the version in force on the case's discharge date, taken
//! from the case's pooling region, else its prefecture, else its province (the order grouping
//! schemes are looked up in, so a province that pools at province level puts one table for all).
//!
//! A version is in force from its effective date until the next activation of the same region,
//! year and fund, so a case keeps its table when a later version is activated.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use kernel::{FundType, RegionCode};
use medpay_proto::points::v1 as pb;
use platform::status::{storage_failure, with_reason};
use platform::wire;
use points_domain::{CivilDate, ValuationPolicy, ValuationTables};
use serde::{Deserialize, Serialize};
use tonic::{Code, Status};

use crate::status::store_status;
use crate::store::{Activation, StoredTable, TableKey, TableStore, date_text};

/// The document a table version stores: the policy and the tables it is applied with.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableDocument {
    pub policy: ValuationPolicy,
    pub tables: ValuationTables,
}

/// A parsed table version, shared by every case valued with it.
#[derive(Debug)]
pub struct LoadedTable {
    pub key: TableKey,
    pub version: i32,
    /// `yyyymmdd` of the first discharge day it values, for activated versions.
    pub effective_from: Option<i32>,
    pub document: TableDocument,
    /// Its name on the wire, as every valuation made with it carries it.
    pub wire: pb::TableRef,
}

type Parsed = Arc<RwLock<HashMap<(TableKey, i32), Arc<LoadedTable>>>>;

/// Table versions of a store, each parsed once: a version never changes once stored, so a parsed
/// version never goes stale.
#[derive(Clone)]
pub struct Tables {
    store: TableStore,
    parsed: Parsed,
}

impl Tables {
    pub fn new(store: TableStore) -> Self {
        Self {
            store,
            parsed: Arc::default(),
        }
    }

    pub fn store(&self) -> &TableStore {
        &self.store
    }

    fn cached(&self, key: TableKey, version: i32) -> Option<Arc<LoadedTable>> {
        self.parsed
            .read()
            .ok()
            .and_then(|cache| cache.get(&(key, version)).cloned())
    }

    fn parse(&self, stored: StoredTable) -> Result<Arc<LoadedTable>, Status> {
        let key = TableKey {
            region: stored.region,
            year: stored.year,
            fund: stored.fund,
        };
        let document: TableDocument = serde_json::from_str(&stored.document_json).map_err(|e| {
            storage_failure(format!(
                "stored table of region {}, {}, fund {} version {}: {e}",
                key.region, key.year, key.fund, stored.version
            ))
        })?;
        let wire = pb::TableRef {
            region_code: key.region.to_string(),
            year: key.year,
            fund_type: wire::fund_type_to_wire(key.fund),
            version: stored.version,
            effective_from: stored.effective_from.map(wire::date_to_wire),
        };
        let loaded = Arc::new(LoadedTable {
            key,
            version: stored.version,
            effective_from: stored.effective_from,
            document,
            wire,
        });
        if let Ok(mut cache) = self.parsed.write() {
            cache.insert((key, stored.version), loaded.clone());
        }
        Ok(loaded)
    }

    /// Version `version` of `key`, parsed.
    pub async fn version(&self, key: TableKey, version: i32) -> Result<Arc<LoadedTable>, Status> {
        if let Some(found) = self.cached(key, version) {
            return Ok(found);
        }
        let stored = self
            .store
            .get(key.region, key.year, key.fund, Some(version))
            .await
            .map_err(store_status)?
            .ok_or_else(|| {
                storage_failure(format!(
                    "version {version} of region {}, {}, fund {} is activated but not stored",
                    key.region, key.year, key.fund
                ))
            })?;
        self.parse(stored)
    }

    /// The latest activated version of `key` (the policy a draft or a preview starts from).
    pub async fn latest_active(&self, key: TableKey) -> Result<Option<Arc<LoadedTable>>, Status> {
        let Some(stored) = self
            .store
            .get(key.region, key.year, key.fund, None)
            .await
            .map_err(store_status)?
        else {
            return Ok(None);
        };
        match self.cached(key, stored.version) {
            Some(found) => Ok(Some(found)),
            None => self.parse(stored).map(Some),
        }
    }

    /// A chooser for cases of `region` valued under `year`'s tables. It reads activations once per
    /// fund, on the first case of that fund, and keeps them for its lifetime: one request or one
    /// stream sees one consistent set of versions.
    pub fn chooser(&self, region: RegionCode, year: i32) -> Chooser {
        let mut candidates = vec![region];
        let prefecture = RegionCode::from_u32(region.as_u32() / 100 * 100).ok();
        for code in [prefecture, Some(region.province())].into_iter().flatten() {
            if !candidates.contains(&code) {
                candidates.push(code);
            }
        }
        Chooser {
            tables: self.clone(),
            candidates,
            year,
            funds: HashMap::new(),
        }
    }
}

/// Why one case could not be valued.
#[derive(Debug)]
pub enum CaseError {
    /// The case itself: its fields, no table in force on its discharge date, or a table that does
    /// not allow it. Reported for this case only.
    Case(Status),
    /// The service failed (storage): no later case would fare better.
    Service(Status),
}

impl CaseError {
    pub fn into_status(self) -> Status {
        match self {
            CaseError::Case(status) | CaseError::Service(status) => status,
        }
    }
}

/// The activated versions of one fund, per candidate region (the case's region first), each list
/// ordered by effective date.
pub struct Timeline {
    per_region: Vec<Vec<(CivilDate, Arc<LoadedTable>)>>,
}

impl Timeline {
    fn in_force(&self, discharge: CivilDate) -> Option<&Arc<LoadedTable>> {
        self.per_region.iter().find_map(|versions| {
            let started = versions.partition_point(|(from, _)| *from <= discharge);
            started.checked_sub(1).map(|last| &versions[last].1)
        })
    }

    fn earliest(&self) -> Option<CivilDate> {
        self.per_region
            .iter()
            .filter_map(|versions| versions.first().map(|(from, _)| *from))
            .min()
    }
}

/// Chooses the table version of each case of one region and year.
pub struct Chooser {
    tables: Tables,
    /// The region, then its prefecture and province.
    candidates: Vec<RegionCode>,
    year: i32,
    funds: HashMap<FundType, Timeline>,
}

impl Chooser {
    /// Whether the versions of `fund` are known; when not, [`Chooser::load`] reads them.
    pub fn knows(&self, fund: FundType) -> bool {
        self.funds.contains_key(&fund)
    }

    /// The version in force for a case of a known `fund` discharged on `discharge`; a status
    /// naming the regions looked at when none is.
    pub fn choose(
        &self,
        fund: FundType,
        discharge: CivilDate,
    ) -> Result<Arc<LoadedTable>, CaseError> {
        let Some(timeline) = self.funds.get(&fund) else {
            return Err(CaseError::Case(self.none_in_force(fund, discharge, None)));
        };
        match timeline.in_force(discharge) {
            Some(table) => Ok(table.clone()),
            None => Err(CaseError::Case(self.none_in_force(
                fund,
                discharge,
                timeline.earliest(),
            ))),
        }
    }

    /// Reads the versions of `fund`; give the result to [`Chooser::learn`]. The future owns what
    /// it needs, so a stream can keep it while it is pending.
    pub fn load(
        &self,
        fund: FundType,
    ) -> impl Future<Output = Result<Timeline, Status>> + Send + 'static {
        let (tables, candidates, year) = (self.tables.clone(), self.candidates.clone(), self.year);
        async move {
            let activations = tables
                .store
                .activations(&candidates, year, fund)
                .await
                .map_err(store_status)?;
            let mut per_region = vec![Vec::new(); candidates.len()];
            for Activation {
                region,
                version,
                effective_from,
            } in activations
            {
                let Some(slot) = candidates.iter().position(|c| *c == region) else {
                    continue;
                };
                let from = civil(effective_from)?;
                let key = TableKey { region, year, fund };
                per_region[slot].push((from, tables.version(key, version).await?));
            }
            Ok(Timeline { per_region })
        }
    }

    pub fn learn(&mut self, fund: FundType, timeline: Timeline) {
        self.funds.insert(fund, timeline);
    }

    fn none_in_force(
        &self,
        fund: FundType,
        discharge: CivilDate,
        earliest: Option<CivilDate>,
    ) -> Status {
        let looked_in = self
            .candidates
            .iter()
            .map(RegionCode::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let why = match earliest {
            Some(from) => format!("the earliest version applies from {from}"),
            None => "no version is activated".to_owned(),
        };
        with_reason(
            Code::FailedPrecondition,
            "NO_TABLE_IN_FORCE",
            format!(
                "no {} valuation table of fund {fund} is in force on discharge date {discharge} \
                 (regions {looked_in}): {why}",
                self.year
            ),
        )
    }
}

fn civil(yyyymmdd: i32) -> Result<CivilDate, Status> {
    let month = u32::try_from(yyyymmdd / 100 % 100).unwrap_or(0);
    let day = u32::try_from(yyyymmdd % 100).unwrap_or(0);
    CivilDate::new(yyyymmdd / 10_000, month, day).map_err(|e| {
        storage_failure(format!(
            "stored effective date {} ({yyyymmdd}): {e}",
            date_text(yyyymmdd)
        ))
    })
}
