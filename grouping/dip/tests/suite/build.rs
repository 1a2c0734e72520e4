//! Building a directory from history: score formula, year weights, trimming, thresholds,
//! comprehensive residue, every bad record reported, CV and RIV, and build → write → load →
//! regroup.

use std::collections::{BTreeMap, HashMap};

use grouping_dip::build::{BuildError, BuildOptions, TrimPolicy, build_from_csv};
use grouping_dip::{
    CompiledDirectory, DipCase, DipOutcome, Directory, GroupKind, TreatmentType, load_demo,
};
use kernel::Decimal;
use rust_decimal_macros::dec;

fn options() -> BuildOptions {
    let region = "460000".parse().expect("region");
    let mut options = BuildOptions::new(
        region,
        BuildOptions::procedure_types_of(&load_demo().expect("demo")),
    );
    options.report_combinations = true;
    options
}

fn csv(rows: &[(i32, &str, &str, &str)]) -> String {
    let mut text = String::from("year,principal_diagnosis,procedures,total_cost\n");
    for (year, dx, procedures, cost) in rows {
        text.push_str(&format!("{year},{dx},{procedures},{cost}\n"));
    }
    text
}

fn repeat(
    n: usize,
    row: (i32, &'static str, &'static str, &'static str),
) -> Vec<(i32, &'static str, &'static str, &'static str)> {
    vec![row; n]
}

fn score_of(output: &grouping_dip::build::BuildOutput, code: &str) -> String {
    output
        .report
        .groups
        .iter()
        .find(|g| g.code == code)
        .map(|g| g.score.to_string())
        .unwrap_or_else(|| panic!("no group {code}"))
}

#[test]
fn score_is_group_mean_over_overall_mean_times_scale() {
    // DOMAIN.md §3 worked example: M = 8,000, group mean 12,000 → score 1,500.
    let mut rows = repeat(15, (2024, "K35.800", "47.0100", "12000.00"));
    rows.extend(repeat(15, (2024, "K35.800", "", "4000")));
    let output = build_from_csv(csv(&rows).as_bytes(), &options()).expect("builds");
    assert_eq!(output.report.reference_mean_cost, dec!(8000));
    assert_eq!(
        output.directory.meta.reference_mean_cost.to_string(),
        "8000.00"
    );
    assert_eq!(score_of(&output, "K35.8-01"), "1500.0000");
    assert_eq!(score_of(&output, "K35.8-00"), "500.0000");
    assert_eq!(output.directory.meta.year, 2025);
    // Scale 100 (some regions).
    let mut hundred = options();
    hundred.score_scale = dec!(100);
    let output = build_from_csv(csv(&rows).as_bytes(), &hundred).expect("builds");
    assert_eq!(score_of(&output, "K35.8-01"), "150.0000");
}

#[test]
fn scores_round_once_to_four_places() {
    // Group mean 10,000, M = (15 × 10,000 + 15 × 5,000 + 1 × 7,000) / 31 → 10000 / M × 1000.
    let mut rows = repeat(15, (2024, "K35.800", "47.0100", "10000"));
    rows.extend(repeat(15, (2024, "K35.800", "", "5000")));
    rows.push((2024, "K37.x00", "", "7000"));
    let output = build_from_csv(csv(&rows).as_bytes(), &options()).expect("builds");
    let m = dec!(232000) / dec!(31);
    assert_eq!(output.report.reference_mean_cost, m);
    let expected = kernel::round_points(dec!(10000) / m * dec!(1000));
    assert_eq!(score_of(&output, "K35.8-01"), expected.to_string());
    assert_eq!(expected, dec!(1336.2069));
}

#[test]
fn years_are_weighted_one_two_seven() {
    let mut rows = repeat(5, (2021, "K35.800", "47.0100", "1000"));
    rows.extend(repeat(5, (2022, "K35.800", "47.0100", "2000")));
    rows.extend(repeat(5, (2023, "K35.800", "47.0100", "3000")));
    let inferred = build_from_csv(csv(&rows).as_bytes(), &options()).expect("builds");
    let group = &inferred.report.groups[0];
    // (1 × 1000 + 2 × 2000 + 7 × 3000) / 10 = 2600
    assert_eq!(group.weighted_mean_cost.to_string(), "2600.00");
    assert_eq!(group.trimmed_cases, 0);
    assert_eq!(inferred.report.years.len(), 3);
    assert_eq!(inferred.report.years[2].weight, dec!(7));

    let mut explicit = options();
    explicit.years = vec![2021, 2022, 2023];
    explicit.year_weights = vec![dec!(2), dec!(3), dec!(5)];
    let output = build_from_csv(csv(&rows).as_bytes(), &explicit).expect("builds");
    // (2 × 1000 + 3 × 2000 + 5 × 3000) / 10 = 2300
    assert_eq!(
        output.report.groups[0].weighted_mean_cost.to_string(),
        "2300.00"
    );

    // Two years of history take the last two weights (2:7).
    let two: Vec<_> = rows.iter().filter(|r| r.0 != 2021).cloned().collect();
    let mut fifteen = two.clone();
    fifteen.extend(repeat(5, (2023, "K35.800", "47.0100", "3000")));
    let output = build_from_csv(csv(&fifteen).as_bytes(), &options()).expect("builds");
    // (2 × 5 × 2000 + 7 × 10 × 3000) / (2 × 5 + 7 × 10) = 230000 / 80 = 2875
    assert_eq!(
        output.report.groups[0].weighted_mean_cost.to_string(),
        "2875.00"
    );
}

#[test]
fn outliers_are_trimmed_within_each_combination() {
    let mut rows = repeat(15, (2024, "K35.800", "47.0100", "10000"));
    rows.push((2024, "K35.800", "47.0100", "100000"));
    rows.push((2024, "K35.800", "47.0100", "10000.01"));
    let output = build_from_csv(csv(&rows).as_bytes(), &options()).expect("builds");
    let group = &output.report.groups[0];
    // Q1 = Q3 = 10,000: the fence is 10,000 … 10,000, so 10,000.01 is trimmed too.
    assert_eq!(group.trimmed_cases, 2);
    assert_eq!(group.cases, 15);
    assert_eq!(group.weighted_mean_cost.to_string(), "10000.00");
    assert_eq!(output.report.cases_trimmed, 2);

    let mut keep = options();
    keep.trim = TrimPolicy::None;
    let output = build_from_csv(csv(&rows).as_bytes(), &keep).expect("builds");
    assert_eq!(output.report.groups[0].cases, 17);
    assert_eq!(output.report.groups[0].trimmed_cases, 0);
}

#[test]
fn min_cases_decides_core_groups_and_the_rest_is_comprehensive() {
    let mut rows = repeat(15, (2024, "K35.800", "47.0100", "9000"));
    rows.extend(repeat(14, (2024, "K35.800", "47.0900", "8000")));
    rows.extend(repeat(3, (2024, "K35.900", "", "3000")));
    // 47.0100 + 54.9100 contains the core combination 47.0100: it joins that core group.
    rows.extend(repeat(2, (2024, "K35.800", "47.0100|54.9100", "9000")));
    // Untyped codes are ignored: this is the 47.0100 combination.
    rows.extend(repeat(1, (2024, "K35.800", "47.0100|12.3456x999", "9000")));
    let output = build_from_csv(csv(&rows).as_bytes(), &options()).expect("builds");
    let kinds: Vec<(String, GroupKind, TreatmentType, u64)> = output
        .report
        .groups
        .iter()
        .map(|g| (g.code.clone(), g.kind, g.treatment, g.cases))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (
                "K35.8-01".into(),
                GroupKind::Core,
                TreatmentType::Surgical,
                18
            ),
            (
                "ZH-K35-C".into(),
                GroupKind::Comprehensive,
                TreatmentType::Conservative,
                3
            ),
            (
                "ZH-K35-S".into(),
                GroupKind::Comprehensive,
                TreatmentType::Surgical,
                14
            ),
        ]
    );
    assert_eq!(output.report.ignored_procedure_codes, 1);
    let combination = output
        .report
        .combinations
        .iter()
        .find(|c| c.procedures == ["47.0100", "54.9100"])
        .expect("combination reported");
    assert_eq!(combination.group, "K35.8-01");
    // With 14 as the threshold, 47.0900 becomes a core group too.
    let mut lower = options();
    lower.min_cases = 14;
    let output = build_from_csv(csv(&rows).as_bytes(), &lower).expect("builds");
    assert!(
        output
            .report
            .groups
            .iter()
            .any(|g| g.code == "K35.8-02" && g.kind == GroupKind::Core)
    );
}

#[test]
fn report_cv_and_riv_follow_domain_section_6() {
    let rows = [
        (2024, "K35.800", "", "8000"),
        (2024, "K35.800", "", "10000"),
        (2024, "K35.800", "", "12000"),
        (2024, "K80.100", "", "18000"),
        (2024, "K80.100", "", "20000"),
        (2024, "K80.100", "", "22000"),
        (2024, "I21.900", "", "4000"),
        (2024, "I21.900", "", "5000"),
        (2024, "I21.900", "", "6000"),
        (2024, "I21.900", "", "5000"),
    ];
    let mut opts = options();
    opts.min_cases = 3;
    opts.trim = TrimPolicy::None;
    let output = build_from_csv(csv(&rows).as_bytes(), &opts).expect("builds");
    assert_eq!(output.report.riv, Some(dec!(0.9559)));
    let k35 = output
        .report
        .groups
        .iter()
        .find(|g| g.code == "K35.8-00")
        .expect("group");
    assert_eq!(k35.cv, Some(dec!(0.1633)));
    assert_eq!(k35.weighted_mean_cost.to_string(), "10000.00");
    // M = 11,000 → 10,000 / 11,000 × 1000
    assert_eq!(k35.score.to_string(), "909.0909");
}

#[test]
fn every_bad_record_is_reported() {
    let text = "year,principal_diagnosis,procedures,total_cost,hospital_level
2024,K35.800,47.0100,9000,3
20x4,K35.800,47.0100,9000,3
2024,35.800,47.0100,9000,3
2024,K35.800,47.0100,-1,3
2024,K35.800,47.0100,1.001,3
2024,K35.800,47.0100
2024,\"K35.800\",47.0100,9000,3
2024,K35.800,47.0100,20000000000,3
";
    let Err(BuildError::InvalidRecords { problems }) = build_from_csv(text.as_bytes(), &options())
    else {
        panic!("must fail");
    };
    let found: Vec<(usize, &str)> = problems.iter().map(|p| (p.line, p.kind.reason())).collect();
    assert_eq!(
        found,
        vec![
            (3, "BAD_YEAR"),
            (4, "BAD_PRINCIPAL_DIAGNOSIS"),
            (5, "NEGATIVE_COST"),
            (6, "BAD_COST"),
            (7, "WRONG_FIELD_COUNT"),
            (8, "QUOTED_FIELD"),
            (9, "COST_TOO_LARGE"),
        ]
    );
    let mut window = options();
    window.years = vec![2022, 2023, 2024];
    let text = "year,principal_diagnosis,procedures,total_cost\n2021,K35.800,,1\n";
    let Err(BuildError::InvalidRecords { problems }) = build_from_csv(text.as_bytes(), &window)
    else {
        panic!("must fail");
    };
    assert_eq!(problems[0].kind.reason(), "YEAR_OUTSIDE_WINDOW");
}

#[test]
fn bad_headers_and_options_are_rejected() {
    let reason = |text: &str, o: &BuildOptions| {
        build_from_csv(text.as_bytes(), o)
            .map(|_| ())
            .map_err(|e| e.reason())
    };
    let o = options();
    assert_eq!(
        reason("year,principal_diagnosis,total_cost\n", &o),
        Err("BAD_HISTORY_HEADER")
    );
    assert_eq!(
        reason("year,principal_diagnosis,procedures,total_cost,ward\n", &o),
        Err("BAD_HISTORY_HEADER")
    );
    assert_eq!(
        reason("year,principal_diagnosis,procedures,total_cost\n", &o),
        Err("NO_CASES")
    );
    let mut bad = options();
    bad.years = vec![2023, 2024];
    assert_eq!(reason("year\n", &bad), Err("BAD_BUILD_OPTIONS"));
    let mut bad = options();
    bad.min_cases = 0;
    assert_eq!(reason("year\n", &bad), Err("BAD_BUILD_OPTIONS"));
    let many_years = "year,principal_diagnosis,procedures,total_cost
2020,K35.800,,1
2021,K35.800,,1
2022,K35.800,,1
2023,K35.800,,1
";
    assert_eq!(reason(many_years, &o), Err("BAD_BUILD_OPTIONS"));
}

#[test]
fn options_are_serde_with_domain_defaults() {
    let json = r#"{"directory_id":"x","directory_name":"y","region":"460100"}"#;
    let o: BuildOptions = serde_json::from_str(json).expect("defaults fill in");
    assert_eq!(o.year_weights, vec![dec!(1), dec!(2), dec!(7)]);
    assert_eq!(o.min_cases, 15);
    assert_eq!(o.score_scale, dec!(1000));
    assert_eq!(
        o.trim,
        TrimPolicy::Iqr {
            lower_multiple: dec!(1.5),
            upper_multiple: dec!(1.5)
        }
    );
    assert!(
        serde_json::from_str::<BuildOptions>(
            r#"{"directory_id":"x","directory_name":"y","region":"460100","colour":1}"#
        )
        .is_err()
    );
}

/// A small deterministic generator (no external randomness).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound
    }
}

#[test]
fn build_write_load_regroup_gives_each_case_its_combination_group() {
    // Per category: frequent combinations (become core groups) and rare ones (single codes that
    // are not core, or a core combination plus one more code).
    let plan: &[(&str, &[(&str, u64)])] = &[
        (
            "K35.800",
            &[
                ("", 40),
                ("47.0100", 60),
                ("47.0900", 20),
                ("47.0100|54.9100", 3),
                ("45.2300", 4),
            ],
        ),
        (
            "K80.100",
            &[
                ("51.2300", 50),
                ("51.2200", 10),
                ("51.1000|51.8800", 5),
                ("", 30),
            ],
        ),
        (
            "I21.900",
            &[
                ("36.0700", 40),
                ("36.0700|00.6600", 30),
                ("99.1000", 8),
                ("88.5500", 6),
                ("", 25),
            ],
        ),
        (
            "C34.900",
            &[
                ("99.2500", 45),
                ("32.4100", 20),
                ("92.2400", 5),
                ("32.4100|99.2500", 4),
            ],
        ),
        ("J18.900", &[("", 70), ("96.7100", 9), ("33.2400", 3)]),
    ];
    let mut rng = Lcg(7);
    let mut rows = Vec::new();
    for year in [2022, 2023, 2024] {
        for (dx, combos) in plan {
            for (procedures, n) in combos.iter() {
                for _ in 0..*n {
                    let cost = 3000 + rng.next(20000);
                    rows.push(format!(
                        "{year},{dx},{procedures},{cost}.{:02}",
                        rng.next(100)
                    ));
                }
            }
        }
    }
    let text = format!(
        "year,principal_diagnosis,procedures,total_cost\n{}\n",
        rows.join("\n")
    );
    let output = build_from_csv(text.as_bytes(), &options()).expect("builds");
    assert!(output.report.riv.is_some());
    let dir = std::env::temp_dir().join(format!("dip-roundtrip-{}", std::process::id()));
    output.write_directory(&dir).expect("written");
    let loaded = Directory::load(&dir).expect("loads again");
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(loaded, output.directory);
    let compiled = CompiledDirectory::new(&loaded);

    let group_of_combination: HashMap<(String, Vec<String>), String> = output
        .report
        .combinations
        .iter()
        .map(|c| {
            (
                (c.diagnosis_category.clone(), c.procedures.clone()),
                c.group.clone(),
            )
        })
        .collect();
    let mut per_group: BTreeMap<String, u64> = BTreeMap::new();
    for row in &rows {
        let fields: Vec<&str> = row.split(',').collect();
        let mut procedures: Vec<String> = fields[2]
            .split('|')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        let case = DipCase {
            principal_diagnosis: fields[1].into(),
            secondary_diagnoses: vec![],
            procedures: procedures.clone(),
            age_years: 50,
            age_days: None,
            discharge_type: 1,
            los_days: 5,
            total_cost: fields[3].parse::<Decimal>().expect("cost"),
        };
        procedures.sort();
        let expected = &group_of_combination[&(fields[1][..5].to_owned(), procedures)];
        match compiled.group(&case).expect("valid") {
            DipOutcome::Grouped(a) => assert_eq!(&a.group_code, expected, "{row}"),
            other => panic!("{row}: {other:?}"),
        }
        *per_group.entry(expected.clone()).or_default() += 1;
    }
    // Some combinations joined core groups, some went to comprehensive groups.
    assert_eq!(
        group_of_combination[&("K35.8".into(), vec!["47.0100".into(), "54.9100".into()])],
        "K35.8-01"
    );
    assert!(per_group.keys().any(|g| g.starts_with("ZH-")));
    assert_eq!(per_group.values().sum::<u64>(), rows.len() as u64);
}

#[test]
fn large_inputs_are_read_in_blocks_with_exact_line_numbers() {
    // About 2 MB: several read blocks, parsed by more than one thread.
    let mut text = String::from("year,principal_diagnosis,procedures,total_cost\n");
    for i in 0..70_000 {
        let line = i + 2;
        if line == 45_001 || line == 69_999 {
            text.push_str("2024,K35.800,47.0100,12x\n");
        } else {
            text.push_str(&format!(
                "2024,K35.800,47.0100|54.9100,{}.{:02}\n",
                5000 + i % 700,
                i % 100
            ));
        }
    }
    let Err(BuildError::InvalidRecords { problems }) = build_from_csv(text.as_bytes(), &options())
    else {
        panic!("must fail");
    };
    let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![45_001, 69_999]);
    // Without the bad lines (and without a final newline) every case is read once.
    let text = text.replace("2024,K35.800,47.0100,12x\n", "");
    let text = text.trim_end();
    let output = build_from_csv(text.as_bytes(), &options()).expect("builds");
    assert_eq!(output.report.cases_read, 69_998);
    assert_eq!(output.report.combinations.len(), 1);
}

#[test]
fn a_quoted_field_is_named_even_when_its_comma_splits_the_line_and_no_header_is_a_bad_header() {
    let mut text =
        b"year,principal_diagnosis,procedures,total_cost\n2024,\"K35.800,x\",47.0100,9000\n2024,K35.800,,\xff\n2024,K35.800,,1,2\n"
            .to_vec();
    text.extend_from_slice(b"2024,K35.800,,9000\n");
    let Err(BuildError::InvalidRecords { problems }) = build_from_csv(text.as_slice(), &options())
    else {
        panic!("must fail");
    };
    let found: Vec<(usize, &str)> = problems.iter().map(|p| (p.line, p.kind.reason())).collect();
    assert_eq!(
        found,
        [
            (2, "QUOTED_FIELD"),
            (3, "NOT_UTF8"),
            (4, "WRONG_FIELD_COUNT")
        ]
    );
    let empty = build_from_csv(&b""[..], &options()).expect_err("no header");
    assert_eq!(
        empty.to_string(),
        "history header is invalid: column year is missing"
    );
}
