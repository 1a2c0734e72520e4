//! The auxiliary directory derived by the build: coefficient = Σ weight × cost / Σ weight ×
//! published group mean per subtype, the `*` row and a group's own row by the case threshold,
//! CCI 0 as the reference, coefficients below 1 kept, bad new columns and tables reported per
//! line, and nothing changed for a history without the new inputs.

use grouping_dip::build::{BuildError, BuildOptions, BuildOutput, TrimPolicy, build_from_csv};
use grouping_dip::{
    AuxiliaryDimension, AuxiliarySubtype, CompiledDirectory, DipCase, DipOutcome, Directory,
    load_demo,
};
use kernel::{Decimal, round_points};
use rust_decimal_macros::dec;

const CCI: &str = "prefix\tweight\tcondition
I50\t1\tcongestive_heart_failure
E11\t2\tdiabetes_with_complications
C78\t6\tmetastatic_solid_tumour
";

fn options() -> BuildOptions {
    let region = "460000".parse().expect("region");
    let mut options = BuildOptions::new(
        region,
        BuildOptions::procedure_types_of(&load_demo().expect("demo")),
    );
    // Exact sums: no case is trimmed away.
    options.trim = TrimPolicy::None;
    options.cci_weights_tsv = Some(CCI.to_owned());
    options
}

/// `n` rows of `year,principal_diagnosis,procedures,total_cost,secondary_diagnoses`.
fn rows(text: &mut String, n: usize, row: &str) {
    for _ in 0..n {
        text.push_str(row);
        text.push('\n');
    }
}

/// Group K35.8-01 (laparoscopic appendectomy): 15 cases at 7,000 with CCI 0 and 15 at 13,000 with
/// CCI 1 (mean 10,000: CCI 1-2 costs 1.3 × the mean). Group K35.8-00 (conservative): 15 at 3,000
/// with CCI 0, 16 at 4,000 with CCI 2 and 3 at 5,000 with CCI 3 (mean 124,000 / 34, published
/// 3,647.06).
fn history() -> String {
    let mut text =
        String::from("year,principal_diagnosis,procedures,total_cost,secondary_diagnoses\n");
    rows(&mut text, 15, "2024,K35.800,47.0100,7000,");
    rows(&mut text, 15, "2024,K35.800,47.0100,13000,I50.900");
    rows(&mut text, 15, "2024,K35.800,,3000,J18.900");
    rows(&mut text, 16, "2024,K35.800,,4000,E11.200|J18.900");
    rows(&mut text, 3, "2024,K35.800,,5000,I50.000|E11.500");
    text
}

fn row(output: &BuildOutput, group: &str, subtype: AuxiliarySubtype) -> Option<(u64, Decimal)> {
    output
        .report
        .auxiliary
        .iter()
        .find(|r| r.group == group && r.subtype == subtype)
        .map(|r| (r.cases, r.coefficient))
}

#[test]
fn cci_coefficients_are_weighted_cost_over_published_group_mean() {
    let output = build_from_csv(history().as_bytes(), &options()).expect("builds");
    let mean = |code: &str| {
        output
            .directory
            .core_groups
            .iter()
            .find(|g| g.code == code)
            .map(|g| g.mean_cost.value())
            .expect("group")
    };
    assert_eq!(mean("K35.8-01"), dec!(10000));
    assert_eq!(mean("K35.8-00"), dec!(3647.06));
    // `*` over both groups: (15 × 13,000 + 16 × 4,000) / (15 × 10,000 + 16 × 3,516.13).
    let star = round_points(dec!(259000) / (dec!(150000) + dec!(16) * dec!(3647.06)));
    assert_eq!(star, dec!(1.2431));
    assert_eq!(
        row(&output, "*", AuxiliarySubtype::Cci1To2),
        Some((31, star))
    );
    // Each group has 15 or more cases of the band: its own row.
    assert_eq!(
        row(&output, "K35.8-01", AuxiliarySubtype::Cci1To2),
        Some((15, dec!(1.3)))
    );
    assert_eq!(
        row(&output, "K35.8-00", AuxiliarySubtype::Cci1To2),
        Some((16, round_points(dec!(4000) / dec!(3647.06))))
    );
    // CCI 0 is the reference; CCI 3-4 has 3 cases, below the threshold (min_cases, 15).
    assert!(
        output
            .report
            .auxiliary
            .iter()
            .all(|r| r.subtype != AuxiliarySubtype::Cci0 && r.subtype != AuxiliarySubtype::Cci3To4)
    );
    assert_eq!(output.report.auxiliary.len(), 3);
    assert!(
        output
            .report
            .auxiliary
            .iter()
            .all(|r| r.dimension == AuxiliaryDimension::Cci)
    );
    // The rows as written: `*` first, then the groups in directory order.
    let tables = output.directory.table_texts();
    assert_eq!(
        tables["auxiliary"],
        format!(
            "group\tdimension\tsubtype\tcoefficient\n*\tcci\t1-2\t{star}\n\
             K35.8-00\tcci\t1-2\t1.0968\nK35.8-01\tcci\t1-2\t1.3\n"
        )
    );
    assert_eq!(tables["cci_weights"], CCI);
}

#[test]
fn the_case_threshold_decides_the_star_row_and_a_groups_own_row() {
    let mut options = options();
    options.auxiliary_min_cases = Some(16);
    let output = build_from_csv(history().as_bytes(), &options).expect("builds");
    assert!(row(&output, "*", AuxiliarySubtype::Cci1To2).is_some());
    assert!(row(&output, "K35.8-00", AuxiliarySubtype::Cci1To2).is_some());
    assert_eq!(row(&output, "K35.8-01", AuxiliarySubtype::Cci1To2), None);
    options.auxiliary_min_cases = Some(3);
    let output = build_from_csv(history().as_bytes(), &options).expect("builds");
    // CCI 3-4: 3 cases at 5,000 in the conservative group.
    let expected = round_points(dec!(5000) / dec!(3647.06));
    assert_eq!(
        row(&output, "*", AuxiliarySubtype::Cci3To4),
        Some((3, expected))
    );
    assert_eq!(
        row(&output, "K35.8-00", AuxiliarySubtype::Cci3To4),
        Some((3, expected))
    );
    options.auxiliary_min_cases = Some(32);
    let output = build_from_csv(history().as_bytes(), &options).expect("builds");
    assert!(output.report.auxiliary.is_empty());
    assert!(output.directory.auxiliary.is_empty());
}

#[test]
fn the_written_directory_groups_a_case_into_the_derived_subtype() {
    let mut options = options();
    options.auxiliary_min_cases = Some(16);
    let output = build_from_csv(history().as_bytes(), &options).expect("builds");
    let dir = std::env::temp_dir().join(format!("dip-auxiliary-{}", std::process::id()));
    output.write_directory(&dir).expect("written");
    let loaded = Directory::load(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let loaded = loaded.expect("loads");
    assert_eq!(loaded, output.directory);
    let compiled = CompiledDirectory::new(&loaded);
    let case = |procedures: &[&str], secondary: &[&str]| DipCase {
        principal_diagnosis: "K35.800".into(),
        secondary_diagnoses: secondary.iter().map(|s| (*s).to_owned()).collect(),
        procedures: procedures.iter().map(|s| (*s).to_owned()).collect(),
        age_years: 40,
        age_days: None,
        discharge_type: 1,
        los_days: 5,
        total_cost: dec!(9000),
    };
    let grouped = |c: &DipCase| match compiled.group(c).expect("valid") {
        DipOutcome::Grouped(a) => a,
        other => panic!("not grouped: {other:?}"),
    };
    // K35.8-01 has no row of its own (15 cases < 16): the `*` row applies.
    let star = row(&output, "*", AuxiliarySubtype::Cci1To2)
        .expect("star")
        .1;
    let a = grouped(&case(&["47.0100"], &["I50.900"]));
    assert_eq!(a.group_code, "K35.8-01");
    assert_eq!(a.cci, 1);
    assert_eq!(
        a.auxiliary.as_ref().map(|x| (x.subtype, x.coefficient)),
        Some((AuxiliarySubtype::Cci1To2, star))
    );
    // K35.8-00 has its own row.
    let own = row(&output, "K35.8-00", AuxiliarySubtype::Cci1To2)
        .expect("own")
        .1;
    let b = grouped(&case(&[], &["E11.900"]));
    assert_eq!(b.group_code, "K35.8-00");
    assert_eq!(b.auxiliary_coefficient, own);
    // CCI 0: no row, coefficient 1.
    assert_eq!(grouped(&case(&[], &[])).auxiliary_coefficient, Decimal::ONE);
}

#[test]
fn a_death_within_three_days_keeps_a_coefficient_below_one_and_ages_band_as_the_grouper() {
    let mut options = options();
    options.cci_weights_tsv = None;
    options.min_cases = 5;
    let mut text = String::from(
        "year,principal_diagnosis,procedures,total_cost,discharge_type,los_days,age_years,age_days\n",
    );
    rows(&mut text, 10, "2024,K35.800,,5000,1,6,40,");
    // Died on the day after admission: cheaper than the group's mean.
    rows(&mut text, 5, "2024,K35.800,,2000,5,1,40,");
    rows(&mut text, 5, "2024,K35.800,,8000,5,3,70,");
    rows(&mut text, 5, "2024,K35.800,,6000,1,4,0,20");
    let output = build_from_csv(text.as_bytes(), &options).expect("builds");
    // Mean: (10 × 5,000 + 5 × 2,000 + 5 × 8,000 + 5 × 6,000) / 25 = 5,200.
    let mean = dec!(5200);
    assert_eq!(
        row(&output, "*", AuxiliarySubtype::DeathWithin3Days),
        Some((5, round_points(dec!(2000) / mean)))
    );
    assert!(round_points(dec!(2000) / mean) < Decimal::ONE);
    // A stay of 3 days is not within 3 days (the bound is exclusive, as in the grouper).
    assert_eq!(
        row(&output, "*", AuxiliarySubtype::DeathAfter3Days),
        Some((5, round_points(dec!(8000) / mean)))
    );
    assert_eq!(
        row(&output, "*", AuxiliarySubtype::Age66Plus),
        Some((5, round_points(dec!(8000) / mean)))
    );
    assert_eq!(
        row(&output, "*", AuxiliarySubtype::Age0To28Days),
        Some((5, round_points(dec!(6000) / mean)))
    );
    // The written directory loads (every coefficient positive, at most 4 places).
    let files = output.directory.files().expect("files");
    Directory::from_sources(&files["directory.json"], |f| files.get(f).cloned()).expect("loads");
}

#[test]
fn bad_new_columns_are_reported_per_line() {
    let text = "year,principal_diagnosis,procedures,total_cost,secondary_diagnoses,discharge_type,los_days,age_years,age_days
2024,K35.800,,5000,I50.900,1,3,40,
2024,K35.800,,5000,I50.900||E11.2,1,3,40,
2024,K35.800,,5000,,6,3,40,
2024,K35.800,,5000,,,3,40,
2024,K35.800,,5000,,1,-1,40,
2024,K35.800,,5000,,1,2.5,40,
2024,K35.800,,5000,,1,3,forty,
2024,K35.800,,5000,,1,3,0,
2024,K35.800,,5000,,1,3,0,x
2024,K35.800,,5000,,1,3,0,12
";
    let Err(BuildError::InvalidRecords { problems }) = build_from_csv(text.as_bytes(), &options())
    else {
        panic!("must fail");
    };
    let found: Vec<(usize, &str)> = problems.iter().map(|p| (p.line, p.kind.reason())).collect();
    assert_eq!(
        found,
        vec![
            (3, "BAD_SECONDARY_DIAGNOSES"),
            (4, "BAD_DISCHARGE_TYPE"),
            (5, "BAD_DISCHARGE_TYPE"),
            (6, "BAD_LOS_DAYS"),
            (7, "BAD_LOS_DAYS"),
            (8, "BAD_AGE_YEARS"),
            (9, "MISSING_AGE_DAYS"),
            (10, "BAD_AGE_DAYS"),
        ]
    );
    // age_years 0 without an age_days column is missing its days too.
    let text = "year,principal_diagnosis,procedures,total_cost,age_years\n2024,K35.800,,5000,0\n";
    let Err(BuildError::InvalidRecords { problems }) = build_from_csv(text.as_bytes(), &options())
    else {
        panic!("must fail");
    };
    assert_eq!(problems[0].kind.reason(), "MISSING_AGE_DAYS");
}

#[test]
fn a_bad_table_or_policy_is_named_with_its_line() {
    let mut bad = options();
    bad.cci_weights_tsv = Some(CCI.replace("E11\t2", "E11\t9"));
    let Err(BuildError::BadTable { option, problems }) = build_from_csv(history().as_bytes(), &bad)
    else {
        panic!("must fail");
    };
    assert_eq!(option, "cci_weights_tsv");
    assert_eq!(problems.len(), 1);
    assert_eq!(
        (problems[0].file.as_str(), problems[0].line),
        ("cci_weights_tsv", 3)
    );
    let mut bad = options();
    bad.tumour_markers_tsv = Some("marker\tsource\tprefix\nspread\tdiagnosis\tC77\n".into());
    let error = build_from_csv(history().as_bytes(), &bad).expect_err("bad marker");
    assert_eq!(error.reason(), "BAD_AUXILIARY_TABLE");
    assert!(
        error.to_string().contains("tumour_markers_tsv:2"),
        "{error}"
    );
    let mut bad = options();
    bad.auxiliary_policy.cci_severe_max = 1;
    assert_eq!(
        build_from_csv(history().as_bytes(), &bad)
            .map_err(|e| e.reason())
            .err(),
        Some("BAD_BUILD_OPTIONS")
    );
}

#[test]
fn without_the_new_inputs_the_directory_is_unchanged() {
    let mut plain = options();
    plain.cci_weights_tsv = None;
    let base = history()
        .lines()
        .map(|l| l.rsplit_once(',').map_or(l, |(head, _)| head).to_owned() + "\n")
        .collect::<String>();
    let before = build_from_csv(base.as_bytes(), &plain).expect("builds");
    for table in ["auxiliary", "cci_weights", "tumour_markers"] {
        assert_eq!(
            before.directory.table_texts()[table].lines().count(),
            1,
            "{table}"
        );
    }
    assert!(before.report.auxiliary.is_empty());
    let json = serde_json::to_value(&before.report).expect("json");
    assert!(json.get("auxiliary").is_none());
    // The secondary diagnoses without a CCI table derive nothing and change nothing.
    let with_column = build_from_csv(history().as_bytes(), &plain).expect("builds");
    assert_eq!(
        with_column.directory.files().expect("files"),
        before.directory.files().expect("files")
    );
    assert_eq!(with_column.report, before.report);
}

#[test]
fn tumour_markers_need_only_their_table() {
    let mut options = options();
    options.cci_weights_tsv = None;
    options.min_cases = 5;
    options.tumour_markers_tsv = Some(
        "marker\tsource\tprefix\nmetastasis\tdiagnosis\tC78\nchemotherapy\tprocedure\t99.25\n"
            .into(),
    );
    let mut text =
        String::from("year,principal_diagnosis,procedures,total_cost,secondary_diagnoses\n");
    rows(&mut text, 10, "2024,C18.900,,20000,");
    rows(&mut text, 5, "2024,C18.900,,35000,C78.700");
    let output = build_from_csv(text.as_bytes(), &options).expect("builds");
    let mean = dec!(375000) / dec!(15);
    assert_eq!(
        row(&output, "*", AuxiliarySubtype::Metastasis),
        Some((5, round_points(dec!(35000) / mean)))
    );
    assert_eq!(output.directory.tumour_markers.len(), 2);
}
