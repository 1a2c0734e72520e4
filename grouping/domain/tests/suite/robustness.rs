//! Garbage input never panics, grouping is deterministic, and failed results carry no codes.

use grouping_domain::{CompiledScheme, GroupStatus, RawCase, load_demo, parse_integer};
use proptest::prelude::*;
use std::sync::LazyLock;

static DEMO: LazyLock<CompiledScheme> =
    LazyLock::new(|| CompiledScheme::compile(&load_demo().expect("demo loads")));

#[test]
fn compiled_scheme_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<CompiledScheme>();
    assert_send_sync::<grouping_domain::GroupTrace>();
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[0-9]{1,3}",
        "[-+ ]?[0-9]{1,30}[ ]?",
        "\\PC{0,12}",
        "[,|]{0,4}",
        Just("K35.800|J18.900,N17.900".to_owned()),
        Just("47.0100|,|51.2300".to_owned()),
        Just("ICU".to_owned()),
        "[A-Z][0-9]{2}\\.[0-9x]{3}([,|][A-Z][0-9]{2}\\.[0-9x]{3}){0,6}",
        "[0-9]{2}\\.[0-9]{4}([,|][0-9]{2}\\.[0-9]{4}){0,6}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn any_input_groups_without_panicking(
        gender in field(), age in field(), age_days in field(), weight in field(),
        dept in field(), diagnoses in field(), procedures in field(), length_of_stay in field(),
        leaving_type in field(), map_codes in any::<bool>(),
    ) {
        let scheme = &*DEMO;
        let case = RawCase {
            gender: &gender, age: &age, age_days: &age_days, weight: &weight, dept: &dept,
            diagnoses: &diagnoses, procedures: &procedures, length_of_stay: &length_of_stay,
            leaving_type: &leaving_type,
        };
        let mut scratch = Default::default();
        let first = scheme.group(&case, map_codes, &mut scratch);
        let second = scheme.group(&case, map_codes, &mut scratch);
        prop_assert_eq!(first, second);
        let traced = scheme.group_traced(&case, map_codes);
        prop_assert_eq!(traced.result, first);
        prop_assert!(serde_json::to_string(&traced).is_ok());
        match first.status {
            GroupStatus::Success | GroupStatus::Ambiguous => {
                prop_assert!(!first.mdc.is_empty() && !first.drg.is_empty());
            }
            _ => prop_assert!(first.mdc.is_empty() && first.adrg.is_empty() && first.drg.is_empty()),
        }
    }

    #[test]
    fn integer_parsing_never_panics_and_round_trips(text in "\\PC{0,40}", n in any::<i64>()) {
        let _ = parse_integer(&text);
        prop_assert_eq!(parse_integer(&n.to_string()), Some(n));
        prop_assert_eq!(parse_integer(&format!(" +{}", n.unsigned_abs())), i64::try_from(n.unsigned_abs()).ok().or(Some(i64::MAX)));
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn batch_never_panics_on_garbage(lines in proptest::collection::vec("[\\PC,\n\r]{0,60}", 0..20)) {
        let scheme = &*DEMO;
        let mut input = b"Index,gender,age,ageDay,weight,dept,ICD10_DRGS,ICD9_DRGS\n".to_vec();
        for line in &lines {
            input.extend_from_slice(line.as_bytes());
            input.push(b'\n');
        }
        let mut output = Vec::new();
        let _ = grouping_domain::group_csv(input.as_slice(), &mut output, scheme,
            grouping_domain::BatchOptions { map_codes: false, threads: 2 }, |_| {});
    }
}
