//! The compiled, immutable grouping engine: README steps 1–8 over a [`CompiledScheme`].
//!
//! Every code of the scheme is interned to a `u32` id once, at compile time, in a hash table
//! that keeps short codes inline (one cache line per probe). Each id has one record with its
//! lists, CC/MCC/exclusion tables, map targets and OR flag. Per case, the engine hashes each
//! input code once, then builds four small bitsets over the lists (lists of the principal
//! diagnosis, of any diagnosis, of the principal procedure, of any procedure), so every list
//! condition is a single bit test; the rarer secondary-position conditions of regional splits
//! (`any_secondary_dx_in`, `any_secondary_proc_in`) look up the secondary codes' lists only
//! when a rule asks, so schemes without them pay nothing. The length of stay and discharge type
//! are read only when a rule of the scheme reads them. Conditions are a flat node array.
//! Grouping with a reused [`Scratch`] does not allocate. The traced path
//! ([`CompiledScheme::group_traced`]) runs the same rule loop with a recording observer and may
//! allocate; the plain path pays nothing for it.

//!
//! The engine is split by what it does: [`compile`] turns a scheme into the tables and condition
//! nodes below, [`group`] runs a case through them, and [`explain`] runs the same loop recording
//! every rule tried.

mod compile;
mod complications;
mod explain;
mod group;

use std::collections::HashMap;
use std::hash::Hasher;

use crate::case::{GroupResult, GroupStatus, RawCase, ShortCode};
use crate::hash::FxBuild;
use crate::scheme::{GenderInput, WhenNoDrgMatches};
use crate::trace::{ConditionTrace, RuleLevel};

pub use complications::{ComplicationKind, CountedComplication};
pub use group::{parse_integer, parse_stay_days};

/// Id of a code that is not in the scheme (matches nothing).
const NO_CODE: u32 = u32::MAX;
/// "No exclusion table" / "not in the table".
const NO_TABLE: u32 = u32::MAX;
/// Longest code kept inline in the interner's table.
const INLINE_CODE_LEN: usize = 15;

/// A code stored inside the hash table itself (zero-padded bytes, length in the last byte), so
/// a lookup compares keys without following a pointer: one cache line per probe.
#[derive(Clone, Copy, PartialEq, Eq)]
struct InlineCode([u8; INLINE_CODE_LEN + 1]);

impl InlineCode {
    #[inline]
    fn new(code: &str) -> Option<Self> {
        let bytes = code.as_bytes();
        if bytes.len() > INLINE_CODE_LEN {
            return None;
        }
        let mut key = [0u8; INLINE_CODE_LEN + 1];
        key[..bytes.len()].copy_from_slice(bytes);
        key[INLINE_CODE_LEN] = u8::try_from(bytes.len()).ok()?;
        Some(Self(key))
    }
}

impl std::hash::Hash for InlineCode {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(&self.0);
    }
}

/// Code string -> id. Codes up to [`INLINE_CODE_LEN`] bytes (all but dagger/asterisk pairs) live inline;
/// longer ones in a second map.
#[derive(Debug, Default)]
struct CodeMap {
    inline: HashMap<InlineCode, u32, FxBuild>,
    long: HashMap<Box<str>, u32, FxBuild>,
}

impl std::fmt::Debug for InlineCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = usize::from(self.0[INLINE_CODE_LEN]).min(INLINE_CODE_LEN);
        write!(f, "{:?}", String::from_utf8_lossy(&self.0[..len]))
    }
}

impl CodeMap {
    #[inline]
    fn get(&self, code: &str) -> Option<u32> {
        match InlineCode::new(code) {
            Some(key) => self.inline.get(&key).copied(),
            None => self.long.get(code).copied(),
        }
    }

    fn insert(&mut self, code: &str, id: u32) {
        match InlineCode::new(code) {
            Some(key) => {
                self.inline.insert(key, id);
            }
            None => {
                self.long.insert(code.into(), id);
            }
        }
    }
}

/// A compiled condition node; operands refer to other nodes or to lists by index.
#[derive(Debug, Clone, Copy)]
enum Node {
    Always,
    All {
        start: u32,
        len: u32,
    },
    Any {
        start: u32,
        len: u32,
    },
    Not(u32),
    PdxIn(u32),
    AnyDxIn(u32),
    PrincipalProcIn(u32),
    AnyProcIn(u32),
    PrincipalProcIsOr,
    AnyProcIsOr,
    /// 1 male, 2 female.
    Gender(u8),
    AgeYearsEq(i64),
    AgeYearsLt(i64),
    AgeDaysLe(i64),
    WeightLt(i64),
    WeightGe(i64),
    DxListsMin {
        start: u32,
        len: u32,
        min: usize,
    },
    HasMcc,
    HasCc,
    DeptIn(u32),
    AnySecondaryDxIn(u32),
    AnySecondaryProcIn(u32),
    AgeYearsLe(i64),
    AgeYearsGt(i64),
    AgeYearsGe(i64),
    LosDays(Comparison, i64),
    LeavingTypeIn(u32),
}

/// How a `los_days_*` condition compares the length of stay with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparison {
    #[inline]
    fn holds(self, value: i64, threshold: i64) -> bool {
        match self {
            Self::Eq => value == threshold,
            Self::Lt => value < threshold,
            Self::Le => value <= threshold,
            Self::Gt => value > threshold,
            Self::Ge => value >= threshold,
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Self::Eq => "los_days_eq",
            Self::Lt => "los_days_lt",
            Self::Le => "los_days_le",
            Self::Gt => "los_days_gt",
            Self::Ge => "los_days_ge",
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone)]
struct CompiledMdc {
    code: ShortCode,
    when: u32,
    adrgs: std::ops::Range<usize>,
    /// The ambiguity rule, when enabled.
    ambiguity: Option<CompiledAmbiguity>,
}

/// An enabled ambiguity rule (step 5).
#[derive(Debug, Clone, Copy)]
struct CompiledAmbiguity {
    /// Position inside the MDC of the ADRG it follows; `None`: before the MDC's first ADRG.
    after: Option<usize>,
    drg: ShortCode,
    when: u32,
}

#[derive(Debug, Clone)]
struct CompiledAdrg {
    code: ShortCode,
    when: u32,
    drgs: std::ops::Range<usize>,
}

#[derive(Debug, Clone)]
struct CompiledDrg {
    code: ShortCode,
    when: u32,
}

/// Per-code data; `NO_CODE` / `NO_TABLE` where a table has no row for the code.
#[derive(Debug, Clone, Copy)]
struct CodeInfo {
    lists_start: u32,
    lists_end: u32,
    cc: u32,
    mcc: u32,
    exclusion: u32,
    diagnosis_map: u32,
    procedure_map: u32,
    is_or: bool,
}

/// The data of a code that is not in the scheme: in no list or table.
const UNKNOWN_CODE: CodeInfo = CodeInfo {
    lists_start: 0,
    lists_end: 0,
    cc: NO_TABLE,
    mcc: NO_TABLE,
    exclusion: NO_TABLE,
    diagnosis_map: NO_CODE,
    procedure_map: NO_CODE,
    is_or: false,
};

/// Engine options taken from `scheme.json`.
#[derive(Debug, Clone, Copy)]
struct Options {
    gender: GenderInput,
    absent_age_days: Option<i64>,
    absent_weight: Option<i64>,
    newborn_max_age_days: i64,
    retry_with_secondary_procedures: bool,
    when_no_drg_matches: WhenNoDrgMatches,
}

/// An immutable, compiled scheme; `Send + Sync`, meant to be shared in an `Arc`.
#[derive(Debug)]
pub struct CompiledScheme {
    id: String,
    name: String,
    version: String,
    options: Options,
    code_ids: CodeMap,
    codes: Vec<Box<str>>,
    /// Everything about a code, indexed by code id (one cache line per code on the hot path).
    infos: Vec<CodeInfo>,
    /// Sorted list ids per code: `code_lists[info.lists_start..info.lists_end]`.
    code_lists: Vec<u32>,
    table_names: Vec<String>,
    list_names: Vec<String>,
    nodes: Vec<Node>,
    operands: Vec<u32>,
    mdcs: Vec<CompiledMdc>,
    adrgs: Vec<CompiledAdrg>,
    drgs: Vec<CompiledDrg>,
    diagnosis_names: HashMap<u32, String>,
    procedure_names: HashMap<u32, String>,
    drg_names: HashMap<String, String>,
    adrg_names: HashMap<String, String>,
    /// Whether any rule reads `dept` (saves a lookup per case when none does).
    uses_dept: bool,
    /// Whether any rule reads the length of stay (saves parsing it when none does).
    uses_length_of_stay: bool,
    /// Whether any rule reads `leavingType`.
    uses_leaving_type: bool,
    /// `u64` words of a bitset over all lists.
    list_words: usize,
}

/// Reusable per-thread buffers for [`CompiledScheme::group`], so grouping does not allocate.
#[derive(Debug, Default, Clone)]
pub struct Scratch {
    diagnoses: Vec<u32>,
    procedures: Vec<u32>,
    /// List bitsets of the case: principal diagnosis, any diagnosis, principal procedure, any
    /// procedure, and one for the retried procedure (step 8).
    list_bits: Vec<u64>,
}

/// A grouper bound to one scheme with its own [`Scratch`]; one per thread.
#[derive(Debug)]
pub struct Grouper<'s> {
    scheme: &'s CompiledScheme,
    scratch: Scratch,
}

impl Grouper<'_> {
    /// Groups one case (see [`CompiledScheme::group`]).
    pub fn group(&mut self, case: &RawCase<'_>, map_codes: bool) -> GroupResult {
        self.scheme.group(case, map_codes, &mut self.scratch)
    }
}

/// The input fields after step 3.
#[derive(Debug, Clone, Copy)]
struct Demographics {
    gender: u8,
    age: i64,
    age_days: Option<i64>,
    weight: Option<i64>,
}

/// Why step 3 failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CheckFailure {
    Gender,
    Age,
    AgeDays,
    NewbornWeight,
    Weight,
    NoDiagnosis,
}

impl CheckFailure {
    fn describe(self) -> &'static str {
        match self {
            Self::Gender => "gender is not 1 or 2",
            Self::Age => "age is absent or not an integer",
            Self::AgeDays => "ageDay is absent or not an integer where it is required",
            Self::NewbornWeight => {
                "newborn (age 0, ageDay within the newborn limit) without weight"
            }
            Self::Weight => "weight is present but not an integer",
            Self::NoDiagnosis => "no diagnosis",
        }
    }
}

/// Everything the conditions read about one case.
#[derive(Clone, Copy)]
struct Facts<'a> {
    diagnoses: &'a [u32],
    procedures: &'a [u32],
    /// Bitsets over list ids: lists holding the principal diagnosis, any diagnosis, the
    /// principal procedure, any procedure. Each list leaf is then a single bit test.
    pdx_lists: &'a [u64],
    dx_lists: &'a [u64],
    principal_proc_lists: &'a [u64],
    proc_lists: &'a [u64],
    demographics: Demographics,
    dept: u32,
    /// `inHospitalTime` when present and an integer (only read by `los_days_*`).
    length_of_stay: Option<i64>,
    /// Code id of `leavingType` (only read by `leaving_type_in`).
    leaving_type: u32,
    /// Table of the principal diagnosis in `cc_exclusion`, or [`NO_TABLE`].
    exclusion: u32,
    has_mcc: bool,
    has_cc: bool,
}

/// Observer of the rule loop; the plain path uses [`NoTrace`] and pays nothing for it.
trait Observer {
    const RECORDS: bool;
    fn step(
        &mut self,
        level: RuleLevel,
        code: &str,
        condition: ConditionTrace,
        note: Option<String>,
    );
    /// Input text of the diagnosis at `index` (for codes that are not in the scheme).
    fn diagnosis_text(&self, _index: usize) -> Option<&str> {
        None
    }
    /// Input text of the procedure at `index` of the current run.
    fn procedure_text(&self, _index: usize) -> Option<&str> {
        None
    }
}

struct NoTrace;

impl Observer for NoTrace {
    const RECORDS: bool = false;
    fn step(&mut self, _: RuleLevel, _: &str, _: ConditionTrace, _: Option<String>) {}
}

impl CompiledScheme {
    /// Scheme id from `scheme.json` (e.g. `chs-drg-1.1`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Scheme display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Scheme version text.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Whether a rule of the scheme reads the length of stay (`inHospitalTime`).
    pub fn reads_length_of_stay(&self) -> bool {
        self.uses_length_of_stay
    }

    /// Whether a rule of the scheme reads the discharge type (`leavingType`).
    pub fn reads_leaving_type(&self) -> bool {
        self.uses_leaving_type
    }

    /// Name of a DRG from `drg_names`.
    pub fn drg_name(&self, drg: &str) -> Option<&str> {
        self.drg_names.get(drg).map(String::as_str)
    }

    /// Name of an ADRG.
    pub fn adrg_name(&self, adrg: &str) -> Option<&str> {
        self.adrg_names.get(adrg).map(String::as_str)
    }

    /// Name of a diagnosis code from the diagnosis dictionary.
    pub fn diagnosis_name(&self, code: &str) -> Option<&str> {
        let id = self.lookup(code);
        self.diagnosis_names.get(&id).map(String::as_str)
    }

    /// Name of a procedure code from the procedure dictionary.
    pub fn procedure_name(&self, code: &str) -> Option<&str> {
        let id = self.lookup(code);
        self.procedure_names.get(&id).map(String::as_str)
    }

    /// Whether a diagnosis code is in the diagnosis dictionary, as written or through the
    /// scheme's code map (DOMAIN.md §1: codes exist in the dictionaries after the code map).
    pub fn knows_diagnosis(&self, code: &str) -> bool {
        let id = self.lookup(code);
        self.diagnosis_names.contains_key(&id)
            || self
                .diagnosis_names
                .contains_key(&self.info(id).diagnosis_map)
    }

    /// Whether a procedure code is in the procedure dictionary, as written or through the
    /// scheme's code map.
    pub fn knows_procedure(&self, code: &str) -> bool {
        let id = self.lookup(code);
        self.procedure_names.contains_key(&id)
            || self
                .procedure_names
                .contains_key(&self.info(id).procedure_map)
    }

    /// A grouper with its own scratch buffers.
    pub fn grouper(&self) -> Grouper<'_> {
        Grouper {
            scheme: self,
            scratch: Scratch::default(),
        }
    }

    #[inline]
    fn lookup(&self, code: &str) -> u32 {
        self.code_ids.get(code).unwrap_or(NO_CODE)
    }

    #[inline]
    fn info(&self, code: u32) -> &CodeInfo {
        // NO_CODE (u32::MAX) is out of range and reads as an unknown code.
        self.infos.get(code as usize).unwrap_or(&UNKNOWN_CODE)
    }

    #[inline]
    fn in_list(&self, code: u32, list: u32) -> bool {
        let info = self.info(code);
        self.code_lists[info.lists_start as usize..info.lists_end as usize]
            .binary_search(&list)
            .is_ok()
    }

    #[inline]
    fn is_or_procedure(&self, code: u32) -> bool {
        self.info(code).is_or
    }
}
