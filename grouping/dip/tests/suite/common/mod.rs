//! A small hand-made directory for the grouping tests, built from inline tables.

#![allow(dead_code)]

use grouping_dip::{DipCase, Directory, DirectoryError};
use kernel::Decimal;

pub const PROCEDURES: &str = "code\ttype\tname
47.0100\tsurgical\t腹腔镜下阑尾切除术
47.0900\tsurgical\t其他阑尾切除术
54.9100\ttherapeutic\t经皮腹部引流术
99.2500\ttherapeutic\t注射或输注癌瘤化学治疗药物
45.2300\tdiagnostic\t结肠镜检查
88.7200\tdiagnostic\t心脏诊断性超声
36.0700\tinterventional\t药物洗脱冠状动脉支架置入
36.1000\tsurgical\t主动脉冠状动脉旁路移植
99.1000\ttherapeutic\t血栓溶解药的注射或输注
51.2300\tsurgical\t腹腔镜下胆囊切除术
51.2200\tsurgical\t胆囊切除术
53.0000\tsurgical\t腹股沟疝单侧修补术
";

pub const CORE: &str =
    "code\tname\tkind\tdiagnosis_category\ttreatment\tprocedures\tscore\tmean_cost
K35.8-00\t阑尾炎 保守\tcore\tK35.8\tconservative\t\t625.0000\t5000.00
K35.8-S\t阑尾炎 腹腔镜\tcore\tK35.8\tsurgical\t47.0100\t1500.0000\t12000.00
K35.8-SB\t阑尾炎 开腹\tbasic\tK35.8\tsurgical\t47.0900\t1125.0000\t9000.00
K35.8-T\t阑尾炎 引流\tcore\tK35.8\ttherapeutic\t54.9100\t875.0000\t7000.00
K35.8-TB\t阑尾炎 化疗\tbasic\tK35.8\ttherapeutic\t99.2500\t812.5000\t6500.00
K35.8-D\t阑尾炎 结肠镜\tcore\tK35.8\tdiagnostic\t45.2300\t750.0000\t6000.00
K35.8-DB\t阑尾炎 超声\tbasic\tK35.8\tdiagnostic\t88.7200\t725.0000\t5800.00
K80.1-01\t胆囊结石 腔镜\tcore\tK80.1\tsurgical\t51.2300\t1250.0000\t10000.00
K80.1-02\t胆囊结石 腔镜+引流\tcore\tK80.1\tsurgical\t51.2300+54.9100\t1750.0000\t14000.00
K80.1-03\t胆囊结石 开腹\tcore\tK80.1\tsurgical\t51.2200\t1125.0000\t9000.00
K80.1-04\t胆囊结石 疝修补\tcore\tK80.1\tsurgical\t53.0000\t1625.0000\t13000.00
I21.9-I\t心梗 支架\tcore\tI21.9\tinterventional\t36.0700\t3750.0000\t30000.00
I21.9-T\t心梗 溶栓\tcore\tI21.9\ttherapeutic\t99.1000\t2500.0000\t20000.00
I21.9-SB\t心梗 搭桥\tbasic\tI21.9\tsurgical\t36.1000\t7500.0000\t60000.00
";

pub const COMPREHENSIVE: &str = "code\tname\tdiagnosis\ttreatment\tscore\tmean_cost
ZH-K35-S\t阑尾炎 综合 手术\tK35\tsurgical\t1000.0000\t8000.00
ZH-K-C\t消化 综合 保守\tK00-K99\tconservative\t500.0000\t4000.00
ZH-K-D\t消化 综合 诊断\tK00-K99\tdiagnostic\t600.0000\t4800.00
ZH-K-T\t消化 综合 治疗\tK00-K99\ttherapeutic\t700.0000\t5600.00
ZH-K-I\t消化 综合 介入\tK00-K99\tinterventional\t1200.0000\t9600.00
ZH-K-S\t消化 综合 手术\tK00-K99\tsurgical\t1300.0000\t10400.00
";

pub const AUXILIARY: &str = "group\tdimension\tsubtype\tcoefficient
*\tcci\t1-2\t1.0500
*\tcci\t3-4\t1.1200
*\tcci\t5+\t1.2500
*\tdeath\twithin_3_days\t0.8000
*\tdeath\tafter_3_days\t1.3000
*\ttumour\tmetastasis\t1.1500
*\ttumour\tchemotherapy\t1.1000
*\tage\t0-28d\t1.3000
*\tage\t29d-1y\t1.2000
*\tage\t1-6y\t1.1000
*\tage\t7-17y\t1.0500
*\tage\t66y+\t1.0800
K35.8-S\tage\t66y+\t1.5000
";

pub const CCI: &str = "prefix\tweight\tcondition
I21\t1\tmyocardial_infarction
I50\t1\tcongestive_heart_failure
E11.9\t1\tdiabetes_without_complication
E11.2\t2\tdiabetes_with_complication
N18\t2\trenal_disease
C78\t6\tmetastatic_solid_tumour
";

pub const TUMOUR: &str = "marker\tsource\tprefix
metastasis\tdiagnosis\tC78
chemotherapy\tprocedure\t99.25
";

/// `directory.json` for the tables above, with the given counts.
pub fn meta(core: usize, basic: usize, comprehensive: usize) -> String {
    format!(
        r#"{{
  "format": "dip-directory/1",
  "id": "test",
  "name": "test directory",
  "version": "1",
  "region": "460100",
  "year": 2025,
  "score_scale": "1000",
  "reference_mean_cost": "8000.00",
  "counts": {{"core_groups": {core}, "basic_groups": {basic}, "comprehensive_groups": {comprehensive},
             "procedure_types": 12, "auxiliary": 13, "cci_weights": 6, "tumour_markers": 2}},
  "files": {{"core_groups": "core_groups.tsv", "comprehensive_groups": "comprehensive_groups.tsv",
             "procedure_types": "procedure_types.tsv", "auxiliary": "auxiliary.tsv",
             "cci_weights": "cci_weights.tsv", "tumour_markers": "tumour_markers.tsv"}}
}}"#
    )
}

/// Loads a directory from `directory.json` text and (file, text) tables.
pub fn load(json: &str, tables: &[(&str, &str)]) -> Result<Directory, DirectoryError> {
    Directory::from_sources(json, |file| {
        tables
            .iter()
            .find(|(name, _)| *name == file)
            .map(|(_, text)| (*text).to_owned())
    })
}

pub fn tables() -> Vec<(&'static str, &'static str)> {
    vec![
        ("core_groups.tsv", CORE),
        ("comprehensive_groups.tsv", COMPREHENSIVE),
        ("procedure_types.tsv", PROCEDURES),
        ("auxiliary.tsv", AUXILIARY),
        ("cci_weights.tsv", CCI),
        ("tumour_markers.tsv", TUMOUR),
    ]
}

/// The hand-made test directory.
pub fn directory() -> Directory {
    match load(&meta(10, 4, 6), &tables()) {
        Ok(d) => d,
        Err(e) => panic!("test directory must load: {e}"),
    }
}

/// An adult ordered-discharge case.
pub fn case(principal: &str, procedures: &[&str], cost: i64) -> DipCase {
    DipCase {
        principal_diagnosis: principal.into(),
        secondary_diagnoses: Vec::new(),
        procedures: procedures.iter().map(|p| (*p).to_owned()).collect(),
        age_years: 40,
        age_days: None,
        discharge_type: 1,
        los_days: 6,
        total_cost: Decimal::from(cost),
    }
}
