//! The schemes this process can group with: the shipped demo scheme plus every scheme loaded
//! through the registry. Compiled schemes are immutable and shared across requests in an `Arc`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, RwLock};

use grouping_domain::{CompiledScheme, Scheme, SchemeError};

/// What kind of grouping a scheme does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SchemeKind {
    Drg,
    Dip,
}

impl SchemeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SchemeKind::Drg => "drg",
            SchemeKind::Dip => "dip",
        }
    }

    pub fn parse(text: &str) -> Option<SchemeKind> {
        match text {
            "drg" => Some(SchemeKind::Drg),
            "dip" => Some(SchemeKind::Dip),
            _ => None,
        }
    }
}

/// Identity of a scheme version.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SchemeKey {
    pub id: String,
    pub version: String,
}

/// What the registry tells about a scheme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemeSummary {
    pub key: SchemeKey,
    pub kind: SchemeKind,
    pub name: String,
    pub mdc_count: u32,
    pub adrg_count: u32,
    pub drg_count: u32,
    /// `builtin:demo`, a server path, or `upload`.
    pub source: String,
}

/// A loaded, compiled scheme.
#[derive(Debug)]
pub struct LoadedScheme {
    pub summary: SchemeSummary,
    pub drg: Arc<CompiledScheme>,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl LoadedScheme {
    /// Compiles a validated DRG scheme.
    pub fn from_drg(scheme: &Scheme, source: &str) -> LoadedScheme {
        let definition = &scheme.definition;
        let summary = SchemeSummary {
            key: SchemeKey {
                id: definition.id.clone(),
                version: definition.version.clone(),
            },
            kind: SchemeKind::Drg,
            name: definition.name.clone(),
            mdc_count: count(definition.mdcs.len()),
            adrg_count: count(definition.mdcs.iter().map(|m| m.adrgs.len()).sum()),
            drg_count: count(scheme.drg_names.len()),
            source: source.to_owned(),
        };
        LoadedScheme {
            summary,
            drg: Arc::new(CompiledScheme::compile(scheme)),
        }
    }

    /// Loads and compiles a DRG scheme folder.
    pub fn drg_from_dir(dir: &Path) -> Result<LoadedScheme, SchemeError> {
        let scheme = Scheme::load_dir(dir)?;
        Ok(Self::from_drg(&scheme, &dir.display().to_string()))
    }

    /// Loads and compiles uploaded DRG scheme files.
    pub fn drg_from_files(files: &HashMap<String, Vec<u8>>) -> Result<LoadedScheme, SchemeError> {
        let scheme = Scheme::from_files(files)?;
        Ok(Self::from_drg(&scheme, "upload"))
    }

    /// The shipped demo scheme.
    pub fn demo() -> Result<LoadedScheme, SchemeError> {
        let scheme = grouping_domain::load_demo()?;
        Ok(Self::from_drg(&scheme, "builtin:demo"))
    }
}

/// Every scheme of the process, by key.
#[derive(Debug, Default)]
pub struct SchemeCatalog {
    schemes: RwLock<BTreeMap<SchemeKey, Arc<LoadedScheme>>>,
}

impl SchemeCatalog {
    /// A catalogue holding the demo scheme.
    pub fn with_demo() -> Result<SchemeCatalog, SchemeError> {
        let catalog = SchemeCatalog::default();
        catalog.insert(LoadedScheme::demo()?);
        Ok(catalog)
    }

    /// Adds or replaces a scheme; returns the shared handle.
    pub fn insert(&self, scheme: LoadedScheme) -> Arc<LoadedScheme> {
        let scheme = Arc::new(scheme);
        let mut schemes = self
            .schemes
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        schemes.insert(scheme.summary.key.clone(), scheme.clone());
        scheme
    }

    pub fn get(&self, key: &SchemeKey) -> Option<Arc<LoadedScheme>> {
        self.schemes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    /// Summaries in key order.
    pub fn summaries(&self) -> Vec<SchemeSummary> {
        self.schemes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .map(|s| s.summary.clone())
            .collect()
    }
}
