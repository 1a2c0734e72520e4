//! Keyset pages of the ledger as ListCases and ExportCases walk them: every case once while
//! cases arrive between pages, and a filter's pages skip what it leaves out.

use kernel::FundType;
use platform::store_test;
use settlement_service::Migrator;
use settlement_service::store::ledger::{CaseFilter, CaseKey, CaseStore, LedgerCase, ListedCase};

use super::{case, region};

/// Walks a listing page by page as ListCases does: `size` rows after the last key of the page
/// before; `between` runs after every page.
async fn walk_pages(
    store: &CaseStore,
    region_code: &str,
    filter: &CaseFilter,
    size: u64,
    mut between: impl AsyncFnMut(usize),
) -> Vec<LedgerCase> {
    let mut seen = Vec::new();
    let mut after: Option<CaseKey> = None;
    for page in 0.. {
        let rows = store
            .list(region(region_code), filter, after.as_ref(), size)
            .await
            .expect("page");
        after = rows.last().map(CaseKey::of);
        let full = rows.len() as u64 == size;
        seen.extend(rows);
        if !full {
            break;
        }
        between(page).await;
    }
    seen
}

store_test!(
    keyset_pages_list_every_case_once_while_cases_arrive_between_pages,
    Migrator,
    |db| {
        let store = CaseStore::new(db.clone());
        // Two counties of Haikou and one of Sanya; hospitals whose codes interleave across them.
        let mut initial = Vec::new();
        for (county, hospital) in [
            ("460105", "H2"),
            ("460105", "H5"),
            ("460108", "H1"),
            ("460108", "H3"),
            ("460201", "H4"),
        ] {
            for n in 0..7 {
                initial.push(case(county, hospital, &format!("L{n:02}"), 1, 20250115));
            }
        }
        CaseStore::insert_new_many(db, &initial)
            .await
            .expect("insert");

        let arrivals = std::cell::RefCell::new(Vec::new());
        let listed = walk_pages(&store, "460100", &CaseFilter::default(), 4, async |page| {
            let db = db.clone();
            // A case that sorts before every page already read, one that sorts after, a
            // correction of the first case (already listed) and of the last (not yet listed).
            let early = case("460105", "H0", &format!("N{page:02}"), 1, 20250116);
            let late = case("460108", "H9", &format!("N{page:02}"), 1, 20250116);
            CaseStore::insert_new_many(&db, &[early.clone(), late.clone()])
                .await
                .expect("arrivals");
            if page == 1 {
                for (hospital, county) in [("H2", "460105"), ("H3", "460108")] {
                    CaseStore::insert_current(&db, &case(county, hospital, "L06", 2, 20250115))
                        .await
                        .expect("correction");
                }
            }
            arrivals.borrow_mut().push((early, late));
        })
        .await;

        let keys: Vec<CaseKey> = listed.iter().map(CaseKey::of).collect();
        assert!(
            keys.windows(2).all(|pair| pair[0] < pair[1]),
            "strictly in key order, so no case twice: {keys:?}"
        );
        let haikou: Vec<&LedgerCase> = initial
            .iter()
            .filter(|c| c.region.to_string().starts_with("4601"))
            .collect();
        for case in &haikou {
            assert_eq!(
                listed
                    .iter()
                    .filter(|l| l.hospital_code == case.hospital_code && l.list_id == case.list_id)
                    .count(),
                1,
                "{}/{} listed once",
                case.hospital_code,
                case.list_id
            );
        }
        assert!(
            listed.iter().all(|c| c.hospital_code != "H4"),
            "Sanya is out"
        );
        let corrected = |hospital: &str| {
            listed
                .iter()
                .find(|c| c.hospital_code == hospital && c.list_id == "L06")
                .map(|c| c.version)
        };
        assert_eq!(
            corrected("H3"),
            Some(2),
            "a correction ahead is listed as corrected"
        );
        let arrivals = arrivals.into_inner();
        assert!(!arrivals.is_empty());
        for (early, late) in &arrivals {
            let listed_as = |wanted: &LedgerCase| {
                listed
                    .iter()
                    .filter(|c| {
                        c.hospital_code == wanted.hospital_code && c.list_id == wanted.list_id
                    })
                    .count()
            };
            assert_eq!(listed_as(early), 0, "behind the pages read: next listing's");
            assert_eq!(listed_as(late), 1, "ahead of the pages read: listed once");
        }
        assert_eq!(
            listed.len(),
            haikou.len() + arrivals.len(),
            "every case of the start once, every later one ahead once"
        );
    }
);

store_test!(
    keyset_pages_of_a_filter_skip_what_it_leaves_out,
    Migrator,
    |db| {
        let store = CaseStore::new(db.clone());
        let mut cases = Vec::new();
        for n in 0..20 {
            let mut stored = case("460105", "H1", &format!("L{n:02}"), 1, 20250101 + n);
            if n % 3 == 0 {
                stored.fund = FundType::Resident;
            }
            cases.push(stored);
        }
        CaseStore::insert_new_many(db, &cases)
            .await
            .expect("insert");
        let resident = CaseFilter {
            fund: Some(FundType::Resident),
            ..CaseFilter::default()
        };
        let listed = walk_pages(&store, "460105", &resident, 2, async |_| {}).await;
        let ids: Vec<&str> = listed.iter().map(|c| c.list_id.as_str()).collect();
        let expected: Vec<String> = (0..20)
            .filter(|n| n % 3 == 0)
            .map(|n| format!("L{n:02}"))
            .collect();
        assert_eq!(ids, expected);

        // A key from below the region never reaches outside it.
        CaseStore::insert_new_many(db, &[case("460106", "H1", "X1", 1, 20250101)])
            .await
            .expect("insert");
        let outside = CaseKey(460_100, "H0".into(), "L00".into());
        let listed = store
            .list(region("460106"), &CaseFilter::default(), Some(&outside), 10)
            .await
            .expect("list");
        let ids: Vec<&str> = listed.iter().map(|c| c.list_id.as_str()).collect();
        assert_eq!(ids, ["X1"]);
    }
);

/// [`walk_pages`] through the summaries ListCases and ExportCases read.
async fn walk_summaries(
    store: &CaseStore,
    region_code: &str,
    filter: &CaseFilter,
    size: u64,
) -> Vec<ListedCase> {
    let mut seen = Vec::new();
    let mut after: Option<CaseKey> = None;
    loop {
        let rows = store
            .list_summaries(region(region_code), filter, after.as_ref(), size)
            .await
            .expect("page");
        after = rows.last().map(ListedCase::key);
        let full = rows.len() as u64 == size;
        seen.extend(rows);
        if !full {
            return seen;
        }
    }
}

store_test!(
    summaries_answer_the_cases_of_the_pages_as_read_whole,
    Migrator,
    |db| {
        use settlement_domain::ledger::LedgerStatus;
        use settlement_service::store::case_clearing;
        let store = CaseStore::new(db.clone());
        let mut cases = Vec::new();
        for n in 0..9 {
            let county = if n % 2 == 0 { "460105" } else { "460108" };
            let mut stored = case(
                county,
                &format!("H{}", n % 3),
                &format!("L{n}"),
                1,
                20250110,
            );
            if n == 4 {
                stored.status = LedgerStatus::Unvalued;
                stored.valuation_error = "no group".into();
            }
            if n >= 6 {
                // February's cases stay valued when January is cleared.
                stored.discharge_date = 20250210;
            }
            cases.push(stored);
        }
        CaseStore::insert_new_many(db, &cases)
            .await
            .expect("insert");
        // A correction after the clearing: its new version is not the one taken.
        let taken = case_clearing::record(
            db,
            "run-1",
            region("460100"),
            FundType::Employee,
            (20250101, 20250131),
        )
        .await
        .expect("cleared");
        assert_eq!(taken, 5, "January's valued cases");
        CaseStore::insert_current(db, &case("460105", "H2", "L2", 2, 20250110))
            .await
            .expect("correction");

        let status = |word: &str| CaseFilter {
            status: Some(word.into()),
            ..CaseFilter::default()
        };
        let january = CaseFilter {
            discharge_between: Some((20250101, 20250131)),
            ..CaseFilter::default()
        };
        for filter in [
            CaseFilter::default(),
            status("cleared"),
            status("valued"),
            status("unvalued"),
            january,
        ] {
            let whole: Vec<ListedCase> = walk_pages(&store, "460100", &filter, 2, async |_| {})
                .await
                .into_iter()
                .map(ListedCase::from)
                .collect();
            assert!(!whole.is_empty(), "{filter:?}");
            assert_eq!(
                walk_summaries(&store, "460100", &filter, 2).await,
                whole,
                "{filter:?}"
            );
        }
        let statuses: Vec<(String, LedgerStatus)> =
            walk_summaries(&store, "460100", &CaseFilter::default(), 4)
                .await
                .into_iter()
                .map(|c| (c.list_id, c.status))
                .collect();
        let of = |status: LedgerStatus| {
            statuses
                .iter()
                .filter(|(_, s)| *s == status)
                .map(|(id, _)| id.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(of(LedgerStatus::Cleared).len(), 4);
        assert_eq!(of(LedgerStatus::Unvalued), ["L4"]);
        let mut valued = of(LedgerStatus::Valued);
        valued.sort();
        assert_eq!(valued, ["L2", "L6", "L7", "L8"]);
    }
);

store_test!(
    documents_are_the_whole_cases_without_the_heads_stored_beside_them,
    Migrator,
    |db| {
        use settlement_service::store::ledger::StoredHead;
        let store = CaseStore::new(db.clone());
        let cases: Vec<LedgerCase> = (0..5)
            .map(|n| {
                let mut stored = case(
                    "460105",
                    &format!("H{}", n % 2),
                    &format!("L{n}"),
                    1,
                    20250110,
                );
                if n != 3 {
                    stored.head = Some(StoredHead {
                        json: format!(r#"{{"head":{n}}}"#),
                        line_totals_json:
                            r#"{"01":{"det_item_fee_sumamt":"1.00","inscp_amt":"1.00"}}"#.into(),
                    });
                }
                stored
            })
            .collect();
        CaseStore::insert_new_many(db, &cases)
            .await
            .expect("insert");
        let january = CaseFilter {
            discharge_between: Some((20250101, 20250131)),
            ..CaseFilter::default()
        };
        for (after, limit) in [
            (None, 10),
            (None, 2),
            (Some(CaseKey(460105, "H0".into(), "L2".into())), 10),
        ] {
            let whole = store
                .list(region("460100"), &january, after.as_ref(), limit)
                .await
                .expect("whole");
            assert!(whole.iter().any(|case| case.head.is_some()));
            let documents = store
                .list_documents(region("460100"), &january, after.as_ref(), limit)
                .await
                .expect("documents");
            let without_heads: Vec<LedgerCase> = whole
                .into_iter()
                .map(|case| LedgerCase { head: None, ..case })
                .collect();
            assert_eq!(documents, without_heads, "after {after:?}, {limit} rows");
        }
    }
);
