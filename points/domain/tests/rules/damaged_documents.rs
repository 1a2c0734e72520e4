//! Valuation policies and tables read from damaged JSON: each document is read and validated or
//! refused with a reason, never a crash; what validates values the fixture cases without a
//! crash. `PROPTEST_CASES` sets the cases (256 by default).

use points_domain::{ValuationPolicy, ValuationTables, valuate};
use proptest::prelude::*;

use crate::common::{dip_case, dip_policy, drg_case, drg_policy, tables};
use crate::mutation::{MAX_INPUT, answered_in_time, apply, mutations};

fn damaged_text(seed: &str, damage: &[crate::mutation::Mutation]) -> String {
    String::from_utf8_lossy(&apply(seed.as_bytes(), damage)).into_owned()
}

/// Reads a policy as the points service stores it: its decimal strings checked, parsed, then
/// validated.
fn read_policy(text: &str) -> Result<ValuationPolicy, String> {
    kernel::check_decimal_strings_in_json(text).map_err(|e| e.to_string())?;
    let policy: ValuationPolicy = serde_json::from_str(text).map_err(|e| e.to_string())?;
    policy.validate().map_err(|e| e.to_string())?;
    Ok(policy)
}

fn read_tables(text: &str, policy: &ValuationPolicy) -> Result<ValuationTables, String> {
    kernel::check_decimal_strings_in_json(text).map_err(|e| e.to_string())?;
    let tables: ValuationTables = serde_json::from_str(text).map_err(|e| e.to_string())?;
    tables.validate(policy).map_err(|e| e.to_string())?;
    Ok(tables)
}

fn value_fixture_cases(policy: &ValuationPolicy, tables: &ValuationTables) {
    for case in [
        drg_case("12000"),
        dip_case("24000"),
        drg_case("0"),
        drg_case("99999999.99"),
    ] {
        let _ = answered_in_time("valuate", || valuate(policy, tables, &case));
    }
}

#[test]
fn the_seeds_read_back() {
    for policy in [drg_policy(), dip_policy()] {
        let text = serde_json::to_string_pretty(&policy).expect("policy JSON");
        assert_eq!(read_policy(&text), Ok(policy.clone()));
        let text = serde_json::to_string_pretty(&tables()).expect("tables JSON");
        assert_eq!(read_tables(&text, &policy), Ok(tables()));
    }
}

proptest! {
    #[test]
    fn a_damaged_policy_is_read_or_refused(drg in any::<bool>(), damage in mutations()) {
        let seed = if drg { drg_policy() } else { dip_policy() };
        let text = damaged_text(&serde_json::to_string_pretty(&seed).expect("policy JSON"), &damage);
        match answered_in_time("read policy", || read_policy(&text)) {
            Ok(policy) => {
                let stored = serde_json::to_string(&policy).expect("policy JSON");
                prop_assert_eq!(read_policy(&stored), Ok(policy.clone()));
                if tables().matches(&policy) {
                    value_fixture_cases(&policy, &tables());
                }
            }
            Err(why) => prop_assert!(!why.is_empty()),
        }
    }

    #[test]
    fn damaged_tables_are_read_or_refused(drg in any::<bool>(), damage in mutations()) {
        let policy = if drg { drg_policy() } else { dip_policy() };
        let text = damaged_text(&serde_json::to_string_pretty(&tables()).expect("tables JSON"), &damage);
        match answered_in_time("read tables", || read_tables(&text, &policy)) {
            Ok(read) => {
                let stored = serde_json::to_string(&read).expect("tables JSON");
                prop_assert_eq!(read_tables(&stored, &policy), Ok(read.clone()));
                value_fixture_cases(&policy, &read);
            }
            Err(why) => prop_assert!(!why.is_empty()),
        }
    }
}

#[test]
fn extreme_documents_are_refused() {
    let deep = "[".repeat(MAX_INPUT);
    assert!(read_policy(&deep).is_err());
    assert!(read_tables(&deep, &drg_policy()).is_err());
    let deep_objects = "{\"drg\":".repeat(MAX_INPUT / 7);
    assert!(read_tables(&deep_objects, &drg_policy()).is_err());
    let bom = format!(
        "\u{feff}{}",
        serde_json::to_string(&drg_policy()).expect("policy JSON")
    );
    assert!(
        read_policy(&bom).is_err(),
        "JSON does not start with a byte-order mark"
    );
    let mut huge = serde_json::to_value(tables()).expect("tables JSON");
    huge["drg"]["groups"]["GB11"]["mean_cost"] = serde_json::Value::String("9".repeat(MAX_INPUT));
    let answer = answered_in_time("a megabyte amount", || {
        read_tables(&huge.to_string(), &drg_policy())
    });
    assert!(answer.is_err(), "a megabyte of digits is no amount");
}
