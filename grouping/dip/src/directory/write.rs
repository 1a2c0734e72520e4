//! Writing a directory in the `dip-directory/1` format: `directory.json` with the current row
//! counts and the six tables in their canonical order.

use std::collections::BTreeMap;
use std::path::Path;

use super::{
    AUXILIARY_HEADER, AuxiliaryScope, CCI_HEADER, COMPREHENSIVE_HEADER, CORE_HEADER, Directory,
    Files, MarkerSource, PROCEDURE_HEADER, TUMOUR_HEADER,
};
use crate::error::DirectoryError;

impl Directory {
    /// Writes the directory in the `dip-directory/1` format into the folder `dir_path`
    /// (created if missing); `directory.json` gets the current row counts.
    pub fn write(&self, dir_path: &Path) -> Result<(), DirectoryError> {
        let io = |path: &Path, e: std::io::Error| DirectoryError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let files = self.files()?;
        std::fs::create_dir_all(dir_path).map_err(|e| io(dir_path, e))?;
        for (name, text) in files {
            let path = dir_path.join(name);
            std::fs::write(&path, text).map_err(|e| io(&path, e))?;
        }
        Ok(())
    }

    /// The directory in the `dip-directory/1` format as file name → text: `directory.json`
    /// (with the current row counts) and the tables under the names it gives them. What
    /// [`Directory::write`] writes, and what [`Directory::from_sources`] reads back.
    pub fn files(&self) -> Result<BTreeMap<String, String>, DirectoryError> {
        let mut meta = self.meta.clone();
        meta.counts = self.counts();
        let mut files = BTreeMap::new();
        for (table, text) in self.table_texts() {
            files.insert(meta_file(&meta.files, table), text);
        }
        let json = serde_json::to_string_pretty(&meta).map_err(|e| DirectoryError::Io {
            path: "directory.json".into(),
            message: e.to_string(),
        })? + "\n";
        files.insert("directory.json".to_owned(), json);
        Ok(files)
    }

    /// The TSV text of every table, keyed by logical table name.
    pub fn table_texts(&self) -> BTreeMap<&'static str, String> {
        let mut tables = BTreeMap::new();
        let mut core = tsv_header(CORE_HEADER);
        for g in &self.core_groups {
            let procedures = g
                .procedures
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            core.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                g.code,
                g.name,
                g.kind.as_str(),
                g.diagnosis_category,
                g.treatment,
                procedures,
                g.score,
                g.mean_cost
            ));
        }
        tables.insert("core_groups", core);
        let mut comprehensive = tsv_header(COMPREHENSIVE_HEADER);
        for g in &self.comprehensive_groups {
            comprehensive.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\n",
                g.code, g.name, g.diagnosis, g.treatment, g.score, g.mean_cost
            ));
        }
        tables.insert("comprehensive_groups", comprehensive);
        let mut procedures = tsv_header(PROCEDURE_HEADER);
        for p in &self.procedure_types {
            procedures.push_str(&format!("{}\t{}\t{}\n", p.code, p.treatment, p.name));
        }
        tables.insert("procedure_types", procedures);
        let mut auxiliary = tsv_header(AUXILIARY_HEADER);
        for a in &self.auxiliary {
            let scope = match &a.scope {
                AuxiliaryScope::AllGroups => "*",
                AuxiliaryScope::Group(code) => code.as_str(),
            };
            auxiliary.push_str(&format!(
                "{}\t{}\t{}\t{}\n",
                scope,
                a.subtype.dimension().as_str(),
                a.subtype.as_str(),
                a.coefficient
            ));
        }
        tables.insert("auxiliary", auxiliary);
        let mut cci = tsv_header(CCI_HEADER);
        for c in &self.cci_weights {
            cci.push_str(&format!("{}\t{}\t{}\n", c.prefix, c.weight, c.condition));
        }
        tables.insert("cci_weights", cci);
        let mut tumour = tsv_header(TUMOUR_HEADER);
        for t in &self.tumour_markers {
            let source = match t.source {
                MarkerSource::Diagnosis => "diagnosis",
                MarkerSource::Procedure => "procedure",
            };
            tumour.push_str(&format!(
                "{}\t{}\t{}\n",
                t.marker.as_str(),
                source,
                t.prefix
            ));
        }
        tables.insert("tumour_markers", tumour);
        tables
    }
}

pub(super) fn meta_file(files: &Files, table: &str) -> String {
    match table {
        "core_groups" => files.core_groups.clone(),
        "comprehensive_groups" => files.comprehensive_groups.clone(),
        "procedure_types" => files.procedure_types.clone(),
        "auxiliary" => files.auxiliary.clone(),
        "cci_weights" => files.cci_weights.clone(),
        _ => files.tumour_markers.clone(),
    }
}

pub(super) fn tsv_header(columns: &[&str]) -> String {
    let mut header = columns.join("\t");
    header.push('\n');
    header
}
