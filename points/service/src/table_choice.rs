//! Which table version values a case: the version in force on the case's discharge date, taken
//! from the case's pooling region, else its prefecture, else its province (the order grouping
//! schemes are looked up in, so a province that pools at province level puts one table for all).
//!
//! A version is in force from its effective date until the next activation of the same region,
//! year and fund, so a case keeps its table when a later version is activated.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use kernel::{Date, FundType, Money, RegionCode, RegionalTimeline};
use medpay_proto::points::v1 as pb;
use platform::wire;
use points_domain::{ValuationPolicy, ValuationTables};
use serde::{Deserialize, Serialize};

use crate::error::{CaseError, Error};
use crate::store::{Activation, StoredTable, TableKey, TableStore};

/// The document a table version stores: the policy and the tables it is applied with.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableDocument {
    pub policy: ValuationPolicy,
    pub tables: ValuationTables,
}

impl TableDocument {
    /// Money the document leaves out holds the domain's zero, which renders as `"0"` where any
    /// amount given, zero included, renders at the fen (`"0.00"`); this puts the defaults at the
    /// fen too, so the stored and answered document renders every amount alike. The two money
    /// fields with a default are the all-case DRG mean cost and the ordinary outpatient rate.
    pub fn money_at_fen(&mut self) {
        let tables = &mut self.tables;
        tables.drg.all_case_mean_cost = at_fen(tables.drg.all_case_mean_cost);
        tables.per_capita.ordinary_outpatient = at_fen(tables.per_capita.ordinary_outpatient);
    }
}

/// `value` at the fen (2 places), however it was made; the value is unchanged.
pub fn at_fen(value: Money) -> Money {
    Money::round(value.value())
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

    fn parse(&self, stored: StoredTable) -> Result<Arc<LoadedTable>, Error> {
        let key = TableKey {
            region: stored.region,
            year: stored.year,
            fund: stored.fund,
        };
        let document: TableDocument = serde_json::from_str(&stored.document_json).map_err(|e| {
            Error::storage(format!(
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
    pub async fn version(&self, key: TableKey, version: i32) -> Result<Arc<LoadedTable>, Error> {
        if let Some(found) = self.cached(key, version) {
            return Ok(found);
        }
        let stored = self
            .store
            .get(key.region, key.year, key.fund, Some(version))
            .await?
            .ok_or_else(|| {
                Error::storage(format!(
                    "version {version} of region {}, {}, fund {} is activated but not stored",
                    key.region, key.year, key.fund
                ))
            })?;
        self.parse(stored)
    }

    /// The latest activated version of `key` (the policy a draft or a preview starts from).
    pub async fn latest_active(&self, key: TableKey) -> Result<Option<Arc<LoadedTable>>, Error> {
        let Some(stored) = self.store.get(key.region, key.year, key.fund, None).await? else {
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
        Chooser {
            tables: self.clone(),
            region,
            year,
            funds: HashMap::new(),
        }
    }
}

/// The activated versions of one fund: the case's region, its prefecture and its province.
pub type Timeline = RegionalTimeline<Arc<LoadedTable>>;

/// Chooses the table version of each case of one region and year.
pub struct Chooser {
    tables: Tables,
    region: RegionCode,
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
    pub fn choose(&self, fund: FundType, discharge: Date) -> Result<Arc<LoadedTable>, CaseError> {
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
    ) -> impl Future<Output = Result<Timeline, Error>> + Send + 'static {
        let (tables, region, year) = (self.tables.clone(), self.region, self.year);
        async move {
            let mut timeline = Timeline::new(region);
            let activations = tables
                .store
                .activations(timeline.regions(), year, fund)
                .await?;
            for Activation {
                region,
                version,
                effective_from,
            } in activations
            {
                let from = Date::from_yyyymmdd(effective_from).map_err(|e| {
                    Error::storage(format!("stored effective date {effective_from}: {e}"))
                })?;
                let key = TableKey { region, year, fund };
                // The store reads only the timeline's regions, so none is refused.
                let _ = timeline.insert(region, from, tables.version(key, version).await?);
            }
            Ok(timeline)
        }
    }

    pub fn learn(&mut self, fund: FundType, timeline: Timeline) {
        self.funds.insert(fund, timeline);
    }

    fn none_in_force(&self, fund: FundType, discharge: Date, earliest: Option<Date>) -> Error {
        let looked_in = self
            .region
            .self_and_ancestors()
            .map(|region| region.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let why = match earliest {
            Some(from) => format!("the earliest version applies from {from}"),
            None => "no version is activated".to_owned(),
        };
        Error::NoTableInForce(format!(
            "no {} valuation table of fund {fund} is in force on discharge date {discharge} \
             (regions {looked_in}): {why}",
            self.year
        ))
    }
}
