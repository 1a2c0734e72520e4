//! The schemes this process can group with: the shipped demo scheme plus every scheme loaded
//! through the registry. Compiled schemes are immutable and shared across requests in an `Arc`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, RwLock};

use grouping_dip::{CompiledDirectory, Directory};
use grouping_domain::{CompiledScheme, Scheme, SchemeError};

/// `source` of the shipped demo DIP directory.
pub const DEMO_DIP_SOURCE: &str = "builtin:demo-dip";

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

/// The compiled engine of a scheme: the kind decides how a case is grouped.
#[derive(Clone)]
pub enum Engine {
    Drg(Arc<CompiledScheme>),
    Dip(Arc<CompiledDirectory>),
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Engine::Drg(scheme) => write!(f, "Engine::Drg({})", scheme.id()),
            Engine::Dip(_) => f.write_str("Engine::Dip"),
        }
    }
}

/// A loaded, compiled scheme.
#[derive(Debug)]
pub struct LoadedScheme {
    pub summary: SchemeSummary,
    pub engine: Engine,
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
            // The DRGs the rules can give (`counts.drgs`), not the names table, which also
            // names ambiguity groups in some regional schemes.
            drg_count: count(
                definition
                    .mdcs
                    .iter()
                    .flat_map(|m| &m.adrgs)
                    .map(|a| a.drgs.len())
                    .sum(),
            ),
            source: source.to_owned(),
        };
        LoadedScheme {
            summary,
            engine: Engine::Drg(Arc::new(CompiledScheme::compile(scheme))),
        }
    }

    /// Compiles a validated DIP directory.
    pub fn from_dip(directory: &Directory, source: &str) -> LoadedScheme {
        let counts = directory.counts();
        let summary = SchemeSummary {
            key: SchemeKey {
                id: directory.meta.id.clone(),
                version: directory.meta.version.clone(),
            },
            kind: SchemeKind::Dip,
            name: directory.meta.name.clone(),
            mdc_count: 0,
            adrg_count: count(counts.core_groups + counts.basic_groups),
            drg_count: count(
                counts.core_groups + counts.basic_groups + counts.comprehensive_groups,
            ),
            source: source.to_owned(),
        };
        LoadedScheme {
            summary,
            engine: Engine::Dip(Arc::new(CompiledDirectory::new(directory))),
        }
    }

    /// Loads and compiles a DIP directory folder.
    pub fn dip_from_dir(dir: &Path) -> Result<LoadedScheme, grouping_dip::DirectoryError> {
        let directory = Directory::load(dir)?;
        Ok(Self::from_dip(&directory, &dir.display().to_string()))
    }

    /// Loads and compiles uploaded DIP directory files (`directory.json` and its tables).
    pub fn dip_from_files(
        files: &HashMap<String, String>,
    ) -> Result<LoadedScheme, grouping_dip::DirectoryError> {
        let json = files
            .get("directory.json")
            .ok_or_else(|| grouping_dip::DirectoryError::Io {
                path: "directory.json".into(),
                message: "file missing from the upload".into(),
            })?;
        let directory = Directory::from_sources(json, |name| files.get(name).cloned())?;
        Ok(Self::from_dip(&directory, "upload"))
    }

    /// The shipped demo DIP directory.
    pub fn demo_dip() -> Result<LoadedScheme, grouping_dip::DirectoryError> {
        Ok(Self::from_dip(&grouping_dip::load_demo()?, DEMO_DIP_SOURCE))
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
    /// A catalogue holding the demo DRG scheme and the demo DIP directory.
    pub fn with_demo() -> Result<SchemeCatalog, String> {
        let catalog = SchemeCatalog::default();
        catalog.insert(LoadedScheme::demo().map_err(|e| e.to_string())?);
        catalog.insert(LoadedScheme::demo_dip().map_err(|e| e.to_string())?);
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
