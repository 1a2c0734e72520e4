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

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::case::{GroupResult, GroupStatus, RawCase, ShortCode};
use crate::scheme::{Condition, GenderInput, Scheme, WhenNoDrgMatches};
use crate::trace::{
    CheckTrace, ComplicationTrace, ConditionTrace, GroupTrace, RuleLevel, RuleStep, RunTrace,
    TracedCode,
};

/// Id of a code that is not in the scheme (matches nothing).
const NO_CODE: u32 = u32::MAX;
/// "No exclusion table" / "not in the table".
const NO_TABLE: u32 = u32::MAX;

/// FxHash (as used by rustc): a fast, non-cryptographic hash for short code strings. The keys
/// are the scheme's own codes, so hash flooding is not a concern.
#[derive(Default, Clone, Copy)]
struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    #[inline]
    fn finish(&self) -> u64 {
        // The multiply leaves the low bits weak, and hashbrown picks buckets by the low bits:
        // codes such as `K35.800x001` / `K35.800x002` would collide. Mix high bits down
        // (murmur3 finaliser step).
        let mut hash = self.hash;
        hash ^= hash >> 33;
        hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
        hash ^ (hash >> 33)
    }
}

type FxBuild = BuildHasherDefault<FxHasher>;

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

/// Parses an integer field: optional surrounding ASCII whitespace, an optional `+`/`-` sign and
/// at least one ASCII digit (`" 1"`, `"+1"`, `"01"`, `"-3"` are integers; `"1.0"`, `"1e3"`, `""`
/// are not). Values beyond `i64` saturate, which keeps every comparison with a scheme threshold
/// correct.
pub fn parse_integer(text: &str) -> Option<i64> {
    // Fast path: 1 to 18 plain digits cannot overflow.
    let bytes = text.as_bytes();
    if !bytes.is_empty() && bytes.len() <= 18 && bytes.iter().all(u8::is_ascii_digit) {
        return Some(
            bytes
                .iter()
                .fold(0i64, |value, digit| value * 10 + i64::from(digit - b'0')),
        );
    }
    let text = text.trim_ascii();
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut value: i64 = 0;
    for digit in digits.bytes() {
        let digit = i64::from(digit - b'0');
        value = value.saturating_mul(10);
        value = if negative {
            value.saturating_sub(digit)
        } else {
            value.saturating_add(digit)
        };
    }
    Some(value)
}

/// Reads `inHospitalTime` as the `los_days_*` conditions define it: an optional `-` and ASCII
/// digits only (no sign `+`, no spaces); anything else, the empty field included, is absent.
/// Values beyond `i64` saturate, which keeps every comparison with a threshold correct.
pub fn parse_stay_days(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(digits) => (true, digits),
        None => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.bytes().fold(0i64, |value, digit| {
        let digit = i64::from(digit - b'0');
        if negative {
            value.saturating_mul(10).saturating_sub(digit)
        } else {
            value.saturating_mul(10).saturating_add(digit)
        }
    }))
}

/// Splits a code field at every `,` and `|` (README step 1): nothing trimmed, empty items kept.
/// Works on bytes: both separators are ASCII, so every split point is a char boundary.
fn split_codes(field: &str) -> CodeSplit<'_> {
    CodeSplit { rest: Some(field) }
}

struct CodeSplit<'a> {
    rest: Option<&'a str>,
}

impl<'a> Iterator for CodeSplit<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match rest.bytes().position(|b| b == b',' || b == b'|') {
            Some(at) => {
                let (code, tail) = rest.split_at(at);
                self.rest = tail.get(1..);
                Some(code)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
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

#[derive(Default)]
struct Recorder {
    steps: Vec<RuleStep>,
    diagnosis_text: Vec<String>,
    procedure_text: Vec<String>,
}

impl Observer for Recorder {
    const RECORDS: bool = true;
    fn step(
        &mut self,
        level: RuleLevel,
        code: &str,
        condition: ConditionTrace,
        note: Option<String>,
    ) {
        self.steps.push(RuleStep {
            level,
            code: code.to_owned(),
            matched: condition.matched,
            condition,
            note,
        });
    }

    fn diagnosis_text(&self, index: usize) -> Option<&str> {
        self.diagnosis_text.get(index).map(String::as_str)
    }

    fn procedure_text(&self, index: usize) -> Option<&str> {
        self.procedure_text.get(index).map(String::as_str)
    }
}

impl CompiledScheme {
    /// Compiles a scheme returned by the loaders (or checked with [`Scheme::validate`]).
    /// Never panics; a rule naming an undeclared list would simply match nothing.
    pub fn compile(scheme: &Scheme) -> Self {
        let definition = &scheme.definition;
        let mut code_ids = CodeMap::default();
        let mut codes: Vec<Box<str>> = Vec::new();
        let mut intern = |code: &str| -> u32 {
            if let Some(id) = code_ids.get(code) {
                return id;
            }
            let id = u32::try_from(codes.len()).unwrap_or(NO_CODE);
            codes.push(code.into());
            code_ids.insert(code, id);
            id
        };

        let mut memberships: Vec<(u32, u32)> = Vec::new();
        let mut list_index = HashMap::new();
        let mut list_names = Vec::with_capacity(scheme.lists.len());
        for (index, list) in scheme.lists.iter().enumerate() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            list_index.insert(list.name.clone(), index);
            list_names.push(list.name.clone());
            for code in &list.codes {
                memberships.push((intern(code), index));
            }
        }
        let cc: Vec<(u32, &str)> = scheme
            .cc
            .iter()
            .map(|e| (intern(&e.code), e.table.as_str()))
            .collect();
        let mcc: Vec<(u32, &str)> = scheme
            .mcc
            .iter()
            .map(|e| (intern(&e.code), e.table.as_str()))
            .collect();
        let exclusions: Vec<(u32, &str)> = scheme
            .cc_exclusion
            .iter()
            .map(|e| (intern(&e.code), e.table.as_str()))
            .collect();
        let or_codes: Vec<u32> = scheme
            .valid_or_procedures
            .iter()
            .map(|p| intern(&p.code))
            .collect();
        let diagnosis_map: Vec<(u32, u32)> = scheme
            .diagnosis_map
            .iter()
            .map(|m| (intern(&m.from), intern(&m.to)))
            .collect();
        let procedure_map: Vec<(u32, u32)> = scheme
            .procedure_map
            .iter()
            .map(|m| (intern(&m.from), intern(&m.to)))
            .collect();
        let diagnosis_names: HashMap<u32, String> = scheme
            .diagnoses
            .iter()
            .map(|d| (intern(&d.code), d.name.clone()))
            .collect();
        let procedure_names: HashMap<u32, String> = scheme
            .procedures
            .iter()
            .map(|p| (intern(&p.code), p.name.clone()))
            .collect();
        let code_count = codes.len();

        memberships.sort_unstable();
        memberships.dedup();
        let mut infos = vec![UNKNOWN_CODE; code_count];
        for (position, &(code, _)) in memberships.iter().enumerate() {
            let position = u32::try_from(position).unwrap_or(u32::MAX);
            let info = &mut infos[code as usize];
            if info.lists_start == info.lists_end {
                info.lists_start = position;
            }
            info.lists_end = position + 1;
        }
        let code_lists: Vec<u32> = memberships.iter().map(|&(_, list)| list).collect();

        let mut table_ids: HashMap<String, u32> = HashMap::new();
        let mut table_names = Vec::new();
        let mut table_id = |name: &str| -> u32 {
            *table_ids.entry(name.to_owned()).or_insert_with(|| {
                table_names.push(name.to_owned());
                u32::try_from(table_names.len() - 1).unwrap_or(NO_TABLE)
            })
        };
        for &(code, table) in &cc {
            infos[code as usize].cc = table_id(table);
        }
        for &(code, table) in &mcc {
            infos[code as usize].mcc = table_id(table);
        }
        for &(code, table) in &exclusions {
            infos[code as usize].exclusion = table_id(table);
        }
        for code in or_codes {
            infos[code as usize].is_or = true;
        }
        for &(from, to) in &diagnosis_map {
            infos[from as usize].diagnosis_map = to;
        }
        for &(from, to) in &procedure_map {
            infos[from as usize].procedure_map = to;
        }

        let mut builder = NodeBuilder {
            nodes: Vec::new(),
            operands: Vec::new(),
            list_index: &list_index,
        };
        let order: HashMap<&str, usize> = definition
            .mdc_order
            .iter()
            .enumerate()
            .map(|(i, code)| (code.as_str(), i))
            .collect();
        let mut ordered_mdcs: Vec<&crate::scheme::Mdc> = definition.mdcs.iter().collect();
        ordered_mdcs.sort_by_key(|mdc| order.get(mdc.code.as_str()).copied().unwrap_or(usize::MAX));
        let short = |code: &str| ShortCode::new(code).unwrap_or(ShortCode::EMPTY);
        let mut mdcs = Vec::new();
        let mut adrgs = Vec::new();
        let mut drgs = Vec::new();
        let mut adrg_names = HashMap::new();
        for mdc in ordered_mdcs {
            let when = builder.compile(&mdc.when);
            let first_adrg = adrgs.len();
            for adrg in &mdc.adrgs {
                adrg_names.insert(adrg.code.clone(), adrg.name.clone());
                let adrg_when = builder.compile(&adrg.when);
                let first_drg = drgs.len();
                for split in &adrg.drgs {
                    let split_when = builder.compile(&split.when);
                    drgs.push(CompiledDrg {
                        code: short(&split.drg),
                        when: split_when,
                    });
                }
                adrgs.push(CompiledAdrg {
                    code: short(&adrg.code),
                    when: adrg_when,
                    drgs: first_drg..drgs.len(),
                });
            }
            let ambiguity = if mdc.ambiguity.enabled {
                // Validation guarantees a named `after_adrg` is an ADRG of this MDC.
                let after = match &mdc.ambiguity.after_adrg {
                    Some(after) => mdc.adrgs.iter().position(|a| &a.code == after).map(Some),
                    None => Some(None),
                };
                after.map(|after| CompiledAmbiguity {
                    after,
                    drg: short(&mdc.ambiguity.drg),
                    when: builder.compile(&mdc.ambiguity.when),
                })
            } else {
                None
            };
            mdcs.push(CompiledMdc {
                code: short(&mdc.code),
                when,
                adrgs: first_adrg..adrgs.len(),
                ambiguity,
            });
        }
        let NodeBuilder {
            nodes, operands, ..
        } = builder;
        let uses_dept = nodes.iter().any(|node| matches!(node, Node::DeptIn(_)));
        let uses_length_of_stay = nodes.iter().any(|node| matches!(node, Node::LosDays(..)));
        let uses_leaving_type = nodes
            .iter()
            .any(|node| matches!(node, Node::LeavingTypeIn(_)));

        Self {
            id: definition.id.clone(),
            name: definition.name.clone(),
            version: definition.version.clone(),
            options: Options {
                gender: definition.input.gender,
                absent_age_days: definition.input.absent_age_days,
                absent_weight: definition.input.absent_weight,
                newborn_max_age_days: definition.newborn_max_age_days,
                retry_with_secondary_procedures: definition.retry_with_secondary_procedures,
                when_no_drg_matches: definition.when_no_drg_matches,
            },
            code_ids,
            codes,
            infos,
            code_lists,
            table_names,
            list_names,
            nodes,
            operands,
            mdcs,
            adrgs,
            drgs,
            diagnosis_names,
            procedure_names,
            drg_names: scheme
                .drg_names
                .iter()
                .map(|d| (d.code.clone(), d.name.clone()))
                .collect(),
            adrg_names,
            uses_dept,
            uses_length_of_stay,
            uses_leaving_type,
            list_words: scheme.lists.len().div_ceil(64),
        }
    }

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

    /// Groups one case (README steps 1–8). `map_codes` turns on code mapping (step 2).
    /// Reuses `scratch`; does not allocate once the scratch buffers have grown.
    pub fn group(&self, case: &RawCase<'_>, map_codes: bool, scratch: &mut Scratch) -> GroupResult {
        let Scratch {
            diagnoses,
            procedures,
            list_bits,
        } = scratch;
        if let Err(status) = self.read_codes(case, map_codes, diagnoses, procedures) {
            return GroupResult::failed(status);
        }
        let demographics = match self.check(case, diagnoses) {
            Ok(demographics) => demographics,
            Err(_) => return GroupResult::failed(GroupStatus::CheckFailed),
        };
        let (case_bits, retry_bits) = self.list_bitsets(list_bits, diagnoses, procedures);
        let facts = self.facts(diagnoses, procedures, case_bits, demographics, case);
        self.group_facts(facts, retry_bits, &mut NoTrace)
    }

    /// Fills the case's list bitsets; returns them and the scratch bitset for retries.
    fn list_bitsets<'b>(
        &self,
        bits: &'b mut Vec<u64>,
        diagnoses: &[u32],
        procedures: &[u32],
    ) -> (&'b [u64], &'b mut [u64]) {
        let words = self.list_words;
        bits.clear();
        bits.resize(5 * words, 0);
        let (case_bits, retry_bits) = bits.split_at_mut(4 * words);
        let (pdx, rest) = case_bits.split_at_mut(words);
        let (dx, rest) = rest.split_at_mut(words);
        let (principal_proc, any_proc) = rest.split_at_mut(words);
        if let Some(&code) = diagnoses.first() {
            self.set_list_bits(pdx, code);
        }
        for &code in diagnoses {
            self.set_list_bits(dx, code);
        }
        if let Some(&code) = procedures.first() {
            self.set_list_bits(principal_proc, code);
        }
        for &code in procedures {
            self.set_list_bits(any_proc, code);
        }
        (case_bits, retry_bits)
    }

    #[inline]
    fn set_list_bits(&self, bits: &mut [u64], code: u32) {
        let info = self.info(code);
        for &list in &self.code_lists[info.lists_start as usize..info.lists_end as usize] {
            if let Some(word) = bits.get_mut((list / 64) as usize) {
                *word |= 1 << (list % 64);
            }
        }
    }

    /// Groups one case and records every rule tried, with why it matched or not.
    pub fn group_traced(&self, case: &RawCase<'_>, map_codes: bool) -> GroupTrace {
        let mut diagnoses = Vec::new();
        let mut procedures = Vec::new();
        let read = self.read_codes(case, map_codes, &mut diagnoses, &mut procedures);
        let diagnosis_input: Vec<&str> = split_codes(case.diagnoses).collect();
        let procedure_input: Vec<&str> = if case.procedures.is_empty() {
            Vec::new()
        } else {
            split_codes(case.procedures).collect()
        };
        let mut trace = GroupTrace {
            scheme: self.id.clone(),
            map_codes,
            result: GroupResult::failed(GroupStatus::Fail),
            diagnoses: self.traced_codes(&diagnosis_input, map_codes, true),
            procedures: self.traced_codes(&procedure_input, map_codes, false),
            mapping_failure: None,
            check: CheckTrace::default(),
            cc_exclusion_table: None,
            complications: Vec::new(),
            runs: Vec::new(),
        };
        if let Err(status) = read {
            let (codes, what) = match status {
                GroupStatus::DxNotMapped => (&trace.diagnoses, "diagnosis"),
                _ => (&trace.procedures, "procedure"),
            };
            trace.mapping_failure = codes.iter().find(|c| c.code.is_none()).map(|c| {
                format!(
                    "{what} {:?} (position {}) is not in the map",
                    c.input, c.position
                )
            });
            trace.result = GroupResult::failed(status);
            return trace;
        }
        let checked = self.check(case, &diagnoses);
        trace.check = CheckTrace {
            passed: checked.is_ok(),
            failure: checked.err().map(|f| f.describe().to_owned()),
            gender: checked.ok().map(|d| d.gender),
            age_years: checked.ok().map(|d| d.age),
            age_days: checked.ok().and_then(|d| d.age_days),
            weight: checked.ok().and_then(|d| d.weight),
            length_of_stay_days: parse_stay_days(case.length_of_stay),
        };
        let Ok(demographics) = checked else {
            trace.result = GroupResult::failed(GroupStatus::CheckFailed);
            return trace;
        };
        let mut list_bits = Vec::new();
        let (case_bits, retry_bits) = self.list_bitsets(&mut list_bits, &diagnoses, &procedures);
        let facts = self.facts(&diagnoses, &procedures, case_bits, demographics, case);
        trace.cc_exclusion_table = (facts.exclusion != NO_TABLE)
            .then(|| self.table_names[facts.exclusion as usize].clone());
        for (index, &code) in diagnoses.iter().enumerate().skip(1) {
            let info = self.info(code);
            for (kind, table) in [("MCC", info.mcc), ("CC", info.cc)] {
                if table != NO_TABLE {
                    trace.complications.push(ComplicationTrace {
                        position: index + 1,
                        code: self.code_text(code, diagnosis_input.get(index).copied()),
                        kind: kind.to_owned(),
                        table: self.table_names[table as usize].clone(),
                        excluded: table == facts.exclusion,
                    });
                }
            }
        }
        let mut recorder = Recorder {
            diagnosis_text: trace
                .diagnoses
                .iter()
                .map(|c| c.code.clone().unwrap_or_else(|| c.input.clone()))
                .collect(),
            procedure_text: trace
                .procedures
                .iter()
                .map(|c| c.code.clone().unwrap_or_else(|| c.input.clone()))
                .collect(),
            ..Recorder::default()
        };
        let result = self.run_rules(facts, &mut recorder);
        trace.runs.push(RunTrace {
            procedures: recorder.procedure_text.clone(),
            status: result.status,
            steps: std::mem::take(&mut recorder.steps),
        });
        trace.result = result;
        if result.status == GroupStatus::Fail && self.retries(&facts) {
            let all_text = recorder.procedure_text.clone();
            for position in 1..procedures.len() {
                let single = self.single_procedure(facts, position, retry_bits);
                recorder.procedure_text = all_text[position..=position].to_vec();
                let retried = self.run_rules(single, &mut recorder);
                trace.runs.push(RunTrace {
                    procedures: recorder.procedure_text.clone(),
                    status: retried.status,
                    steps: std::mem::take(&mut recorder.steps),
                });
                if retried.status != GroupStatus::Fail {
                    trace.result = retried;
                    break;
                }
            }
        }
        trace
    }

    fn traced_codes(&self, input: &[&str], map_codes: bool, diagnosis: bool) -> Vec<TracedCode> {
        input
            .iter()
            .enumerate()
            .map(|(index, &raw)| {
                let id = self.lookup(raw);
                let code_id = if map_codes {
                    let info = self.info(id);
                    if diagnosis {
                        info.diagnosis_map
                    } else {
                        info.procedure_map
                    }
                } else {
                    id
                };
                let code = if map_codes {
                    (code_id != NO_CODE).then(|| self.codes[code_id as usize].to_string())
                } else {
                    Some(raw.to_owned())
                };
                let names = if diagnosis {
                    &self.diagnosis_names
                } else {
                    &self.procedure_names
                };
                TracedCode {
                    position: index + 1,
                    input: raw.to_owned(),
                    mapped: map_codes && code.as_deref() != Some(raw),
                    name: names.get(&code_id).cloned(),
                    code,
                }
            })
            .collect()
    }

    fn code_text(&self, id: u32, fallback: Option<&str>) -> String {
        if id == NO_CODE {
            fallback.unwrap_or_default().to_owned()
        } else {
            self.codes[id as usize].to_string()
        }
    }

    /// Steps 1–2: split, then (mapping mode) map diagnoses, then procedures.
    fn read_codes(
        &self,
        case: &RawCase<'_>,
        map_codes: bool,
        diagnoses: &mut Vec<u32>,
        procedures: &mut Vec<u32>,
    ) -> Result<(), GroupStatus> {
        diagnoses.clear();
        procedures.clear();
        for code in split_codes(case.diagnoses) {
            let id = self.lookup(code);
            if map_codes {
                let mapped = self.info(id).diagnosis_map;
                if mapped == NO_CODE {
                    return Err(GroupStatus::DxNotMapped);
                }
                diagnoses.push(mapped);
            } else {
                diagnoses.push(id);
            }
        }
        if !case.procedures.is_empty() {
            for code in split_codes(case.procedures) {
                let id = self.lookup(code);
                if map_codes {
                    let mapped = self.info(id).procedure_map;
                    if mapped == NO_CODE {
                        return Err(GroupStatus::ProcNotMapped);
                    }
                    procedures.push(mapped);
                } else {
                    procedures.push(id);
                }
            }
        }
        Ok(())
    }

    /// Step 3, with the scheme's `input` options.
    fn check(&self, case: &RawCase<'_>, diagnoses: &[u32]) -> Result<Demographics, CheckFailure> {
        let options = &self.options;
        let gender = match options.gender {
            GenderInput::Integer => parse_integer(case.gender),
            GenderInput::Text => match case.gender {
                "1" => Some(1),
                "2" => Some(2),
                _ => None,
            },
        };
        let gender = match gender {
            Some(1) => 1,
            Some(2) => 2,
            _ => return Err(CheckFailure::Gender),
        };
        let age = parse_integer(case.age).ok_or(CheckFailure::Age)?;
        let age_days = if case.age_days.is_empty() {
            options.absent_age_days
        } else {
            match parse_integer(case.age_days) {
                Some(days) => Some(days),
                // With a replacement for absent ageDay, a present non-integer always fails.
                None if options.absent_age_days.is_some() || age == 0 => {
                    return Err(CheckFailure::AgeDays);
                }
                // With age ≠ 0 a non-integer ageDay counts as absent.
                None => None,
            }
        };
        if age == 0 && age_days.is_none() {
            return Err(CheckFailure::AgeDays);
        }
        let weight = if case.weight.is_empty() {
            options.absent_weight
        } else {
            Some(parse_integer(case.weight).ok_or(CheckFailure::Weight)?)
        };
        if age == 0
            && weight.is_none()
            && age_days.is_some_and(|days| days <= options.newborn_max_age_days)
        {
            return Err(CheckFailure::NewbornWeight);
        }
        // An empty diagnosis field splits into the single code "" (README step 1), which is a
        // diagnosis that matches no list, so this only guards an empty code vector.
        if diagnoses.is_empty() {
            return Err(CheckFailure::NoDiagnosis);
        }
        Ok(Demographics {
            gender,
            age,
            age_days,
            weight,
        })
    }

    fn facts<'a>(
        &self,
        diagnoses: &'a [u32],
        procedures: &'a [u32],
        list_bits: &'a [u64],
        demographics: Demographics,
        case: &RawCase<'_>,
    ) -> Facts<'a> {
        let words = self.list_words;
        let (pdx_lists, rest) = list_bits.split_at(words.min(list_bits.len()));
        let (dx_lists, rest) = rest.split_at(words.min(rest.len()));
        let (principal_proc_lists, proc_lists) = rest.split_at(words.min(rest.len()));
        let exclusion = diagnoses
            .first()
            .map_or(NO_TABLE, |&pdx| self.info(pdx).exclusion);
        // README "CC exclusion": secondary diagnoses (positions 2..n) whose table is not the
        // principal diagnosis's exclusion table.
        let counts = |table_of: fn(&CodeInfo) -> u32| {
            diagnoses.iter().skip(1).any(|&code| {
                let table = table_of(self.info(code));
                table != NO_TABLE && table != exclusion
            })
        };
        Facts {
            diagnoses,
            procedures,
            pdx_lists,
            dx_lists,
            principal_proc_lists,
            proc_lists,
            demographics,
            dept: if self.uses_dept {
                self.lookup(case.dept)
            } else {
                NO_CODE
            },
            length_of_stay: if self.uses_length_of_stay {
                parse_stay_days(case.length_of_stay)
            } else {
                None
            },
            leaving_type: if self.uses_leaving_type {
                self.lookup(case.leaving_type)
            } else {
                NO_CODE
            },
            exclusion,
            has_mcc: counts(|info| info.mcc),
            has_cc: counts(|info| info.cc),
        }
    }

    fn retries(&self, facts: &Facts<'_>) -> bool {
        self.options.retry_with_secondary_procedures && facts.procedures.len() >= 2
    }

    /// Steps 4–8 on checked facts.
    fn group_facts<O: Observer>(
        &self,
        facts: Facts<'_>,
        retry_bits: &mut [u64],
        observer: &mut O,
    ) -> GroupResult {
        let result = self.run_rules(facts, observer);
        if result.status != GroupStatus::Fail || !self.retries(&facts) {
            return result;
        }
        // Step 8: each secondary procedure alone, in order.
        for position in 1..facts.procedures.len() {
            let single = self.single_procedure(facts, position, retry_bits);
            let retried = self.run_rules(single, observer);
            if retried.status != GroupStatus::Fail {
                return retried;
            }
        }
        result
    }

    /// The facts with the procedure list replaced by the procedure at `position` alone.
    fn single_procedure<'a>(
        &self,
        facts: Facts<'a>,
        position: usize,
        retry_bits: &'a mut [u64],
    ) -> Facts<'a> {
        retry_bits.fill(0);
        let procedures = &facts.procedures[position..=position];
        self.set_list_bits(retry_bits, procedures[0]);
        let bits: &'a [u64] = retry_bits;
        Facts {
            procedures,
            principal_proc_lists: bits,
            proc_lists: bits,
            ..facts
        }
    }

    /// Steps 4–7.
    fn run_rules<O: Observer>(&self, facts: Facts<'_>, observer: &mut O) -> GroupResult {
        for mdc in &self.mdcs {
            if !self.test(mdc.when, &facts, observer, RuleLevel::Mdc, mdc.code, None) {
                continue;
            }
            // Step 5 with a null `after_adrg`: before the MDC's first ADRG.
            if let Some(rule) = mdc.ambiguity
                && rule.after.is_none()
                && self.test(
                    rule.when,
                    &facts,
                    observer,
                    RuleLevel::Ambiguity,
                    rule.drg,
                    None,
                )
            {
                return ambiguous(mdc.code, rule.drg);
            }
            for (position, adrg) in self.adrgs[mdc.adrgs.clone()].iter().enumerate() {
                if self.test(
                    adrg.when,
                    &facts,
                    observer,
                    RuleLevel::Adrg,
                    adrg.code,
                    None,
                ) {
                    let drg = self.drgs[adrg.drgs.clone()].iter().find(|split| {
                        self.test(
                            split.when,
                            &facts,
                            observer,
                            RuleLevel::Drg,
                            split.code,
                            None,
                        )
                    });
                    match (drg, self.options.when_no_drg_matches) {
                        (Some(split), _) => {
                            return success(mdc.code, adrg.code, split.code, GroupStatus::Success);
                        }
                        (None, WhenNoDrgMatches::UseAdrgCode) => {
                            if O::RECORDS {
                                observer.step(
                                    RuleLevel::Drg,
                                    adrg.code.as_str(),
                                    ConditionTrace::note(
                                        true,
                                        "no split matched: the DRG is the ADRG code",
                                    ),
                                    None,
                                );
                            }
                            return success(mdc.code, adrg.code, adrg.code, GroupStatus::Success);
                        }
                        (None, WhenNoDrgMatches::TryNextAdrg) => {
                            if O::RECORDS {
                                observer.step(
                                    RuleLevel::Adrg,
                                    adrg.code.as_str(),
                                    ConditionTrace::note(
                                        false,
                                        "no split matched: trying the next ADRG",
                                    ),
                                    None,
                                );
                            }
                        }
                    }
                }
                // Step 5: ambiguity rule after its ADRG was tried without success.
                if let Some(rule) = mdc.ambiguity
                    && rule.after == Some(position)
                    && self.test(
                        rule.when,
                        &facts,
                        observer,
                        RuleLevel::Ambiguity,
                        rule.drg,
                        None,
                    )
                {
                    return ambiguous(mdc.code, rule.drg);
                }
            }
        }
        GroupResult::failed(GroupStatus::Fail)
    }

    #[inline]
    fn test<O: Observer>(
        &self,
        node: u32,
        facts: &Facts<'_>,
        observer: &mut O,
        level: RuleLevel,
        code: ShortCode,
        note: Option<String>,
    ) -> bool {
        // The code is only turned into text when recording: `as_str` is a UTF-8 check.
        if O::RECORDS {
            let trace = self.explain(node, facts, observer);
            let matched = trace.matched;
            observer.step(level, code.as_str(), trace, note);
            matched
        } else {
            self.eval(node, facts)
        }
    }

    fn eval(&self, node: u32, facts: &Facts<'_>) -> bool {
        match self.nodes[node as usize] {
            Node::Always => true,
            Node::All { start, len } => self
                .operand_slice(start, len)
                .iter()
                .all(|&child| self.eval(child, facts)),
            Node::Any { start, len } => self
                .operand_slice(start, len)
                .iter()
                .any(|&child| self.eval(child, facts)),
            Node::Not(child) => !self.eval(child, facts),
            Node::PdxIn(list) => has_bit(facts.pdx_lists, list),
            Node::AnyDxIn(list) => has_bit(facts.dx_lists, list),
            Node::PrincipalProcIn(list) => has_bit(facts.principal_proc_lists, list),
            Node::AnyProcIn(list) => has_bit(facts.proc_lists, list),
            Node::PrincipalProcIsOr => facts
                .procedures
                .first()
                .is_some_and(|&code| self.is_or_procedure(code)),
            Node::AnyProcIsOr => facts
                .procedures
                .iter()
                .any(|&code| self.is_or_procedure(code)),
            Node::Gender(gender) => facts.demographics.gender == gender,
            Node::AgeYearsEq(n) => facts.demographics.age == n,
            Node::AgeYearsLt(n) => facts.demographics.age < n,
            Node::AgeDaysLe(n) => facts.demographics.age_days.is_some_and(|days| days <= n),
            Node::WeightLt(n) => facts.demographics.weight.is_some_and(|w| w != 0 && w < n),
            Node::WeightGe(n) => facts.demographics.weight.is_some_and(|w| w != 0 && w >= n),
            Node::DxListsMin { start, len, min } => {
                let hit = self
                    .operand_slice(start, len)
                    .iter()
                    .filter(|&&list| has_bit(facts.dx_lists, list))
                    .count();
                hit >= min
            }
            Node::HasMcc => facts.has_mcc,
            Node::HasCc => facts.has_cc,
            Node::DeptIn(list) => self.in_list(facts.dept, list),
            Node::AnySecondaryDxIn(list) => facts
                .diagnoses
                .iter()
                .skip(1)
                .any(|&code| self.in_list(code, list)),
            Node::AnySecondaryProcIn(list) => facts
                .procedures
                .iter()
                .skip(1)
                .any(|&code| self.in_list(code, list)),
            Node::AgeYearsLe(n) => facts.demographics.age <= n,
            Node::AgeYearsGt(n) => facts.demographics.age > n,
            Node::AgeYearsGe(n) => facts.demographics.age >= n,
            Node::LosDays(comparison, n) => facts
                .length_of_stay
                .is_some_and(|days| comparison.holds(days, n)),
            Node::LeavingTypeIn(list) => self.in_list(facts.leaving_type, list),
        }
    }

    fn operand_slice(&self, start: u32, len: u32) -> &[u32] {
        &self.operands[start as usize..(start + len) as usize]
    }

    /// Same truth value as [`Self::eval`], with an explanation.
    fn explain<O: Observer>(&self, node: u32, facts: &Facts<'_>, observer: &O) -> ConditionTrace {
        let recorder_text = |codes: &[u32], index: usize, diagnosis: bool| -> String {
            let recorded = if diagnosis {
                observer.diagnosis_text(index)
            } else {
                observer.procedure_text(index)
            };
            match recorded {
                Some(text) => format!("{text:?}"),
                None => format!("{:?}", self.code_text(codes[index], None)),
            }
        };
        // An undeclared list (only possible in a scheme that skipped validation) matches nothing.
        let list = |list: u32| {
            self.list_names
                .get(list as usize)
                .map_or("(undeclared list)", String::as_str)
        };
        let leaf = |kind: &str, matched: bool, detail: String| ConditionTrace {
            kind: kind.to_owned(),
            matched,
            detail: Some(detail),
            operands: Vec::new(),
        };
        let value = self.eval(node, facts);
        match self.nodes[node as usize] {
            Node::Always => leaf("always", true, "always true".to_owned()),
            Node::All { start, len } | Node::Any { start, len } => {
                let kind = if matches!(self.nodes[node as usize], Node::All { .. }) {
                    "all"
                } else {
                    "any"
                };
                ConditionTrace {
                    kind: kind.to_owned(),
                    matched: value,
                    detail: None,
                    operands: self
                        .operand_slice(start, len)
                        .iter()
                        .map(|&child| self.explain(child, facts, observer))
                        .collect(),
                }
            }
            Node::Not(child) => ConditionTrace {
                kind: "not".to_owned(),
                matched: value,
                detail: None,
                operands: vec![self.explain(child, facts, observer)],
            },
            Node::PdxIn(l) => {
                let pdx = recorder_text(facts.diagnoses, 0, true);
                let verb = if value { "is" } else { "is not" };
                leaf(
                    "pdx_in",
                    value,
                    format!("principal diagnosis {pdx} {verb} in {}", list(l)),
                )
            }
            Node::AnyDxIn(l) => {
                let hit = facts.diagnoses.iter().position(|&c| self.in_list(c, l));
                let detail = match hit {
                    Some(i) => format!(
                        "diagnosis {} (position {}) is in {}",
                        recorder_text(facts.diagnoses, i, true),
                        i + 1,
                        list(l)
                    ),
                    None => format!("no diagnosis is in {}", list(l)),
                };
                leaf("any_dx_in", value, detail)
            }
            Node::PrincipalProcIn(l) => {
                let detail = if facts.procedures.is_empty() {
                    "no procedure".to_owned()
                } else {
                    let verb = if value { "is" } else { "is not" };
                    format!(
                        "principal procedure {} {verb} in {}",
                        recorder_text(facts.procedures, 0, false),
                        list(l)
                    )
                };
                leaf("principal_proc_in", value, detail)
            }
            Node::AnyProcIn(l) => {
                let hit = facts.procedures.iter().position(|&c| self.in_list(c, l));
                let detail = match hit {
                    Some(i) => format!(
                        "procedure {} (position {}) is in {}",
                        recorder_text(facts.procedures, i, false),
                        i + 1,
                        list(l)
                    ),
                    None => format!("no procedure is in {}", list(l)),
                };
                leaf("any_proc_in", value, detail)
            }
            Node::PrincipalProcIsOr => {
                let detail = if facts.procedures.is_empty() {
                    "no procedure".to_owned()
                } else {
                    let verb = if value { "is" } else { "is not" };
                    format!(
                        "principal procedure {} {verb} an OR procedure",
                        recorder_text(facts.procedures, 0, false)
                    )
                };
                leaf("principal_proc_is_or", value, detail)
            }
            Node::AnyProcIsOr => {
                let hit = facts
                    .procedures
                    .iter()
                    .position(|&c| self.is_or_procedure(c));
                let detail = match hit {
                    Some(i) => format!(
                        "procedure {} (position {}) is an OR procedure",
                        recorder_text(facts.procedures, i, false),
                        i + 1
                    ),
                    None => "no OR procedure".to_owned(),
                };
                leaf("any_proc_is_or", value, detail)
            }
            Node::Gender(g) => leaf(
                "gender",
                value,
                format!(
                    "gender is {}, rule wants {}",
                    facts.demographics.gender,
                    if g == 1 { "M (1)" } else { "F (2)" }
                ),
            ),
            Node::AgeYearsEq(n) => leaf(
                "age_years_eq",
                value,
                format!("age {} years = {n}", facts.demographics.age),
            ),
            Node::AgeYearsLt(n) => leaf(
                "age_years_lt",
                value,
                format!("age {} years < {n}", facts.demographics.age),
            ),
            Node::AgeDaysLe(n) => leaf(
                "age_days_le",
                value,
                match facts.demographics.age_days {
                    Some(days) => format!("ageDay {days} <= {n}"),
                    None => "ageDay absent".to_owned(),
                },
            ),
            Node::WeightLt(n) | Node::WeightGe(n) => {
                let (kind, op) = if matches!(self.nodes[node as usize], Node::WeightLt(_)) {
                    ("weight_lt", "<")
                } else {
                    ("weight_ge", ">=")
                };
                leaf(
                    kind,
                    value,
                    match facts.demographics.weight {
                        Some(0) => "weight 0 counts as absent".to_owned(),
                        Some(w) => format!("weight {w} {op} {n}"),
                        None => "weight absent".to_owned(),
                    },
                )
            }
            Node::DxListsMin { start, len, min } => {
                let hits: Vec<String> = self
                    .operand_slice(start, len)
                    .iter()
                    .filter_map(|&l| {
                        facts
                            .diagnoses
                            .iter()
                            .position(|&c| self.in_list(c, l))
                            .map(|i| {
                                format!("{} ({})", list(l), recorder_text(facts.diagnoses, i, true))
                            })
                    })
                    .collect();
                leaf(
                    "dx_lists_min",
                    value,
                    format!(
                        "{} of the lists hold a diagnosis (minimum {min}){}{}",
                        hits.len(),
                        if hits.is_empty() { "" } else { ": " },
                        hits.join(", ")
                    ),
                )
            }
            Node::HasMcc | Node::HasCc => {
                let (kind, name, table_of): (_, _, fn(&CodeInfo) -> u32) =
                    if matches!(self.nodes[node as usize], Node::HasMcc) {
                        ("has_mcc", "MCC", |info| info.mcc)
                    } else {
                        ("has_cc", "CC", |info| info.cc)
                    };
                let hit = facts
                    .diagnoses
                    .iter()
                    .enumerate()
                    .skip(1)
                    .find(|&(_, &code)| {
                        let table = table_of(self.info(code));
                        table != NO_TABLE && table != facts.exclusion
                    });
                leaf(
                    kind,
                    value,
                    match hit {
                        Some((i, _)) => format!(
                            "secondary diagnosis {} (position {}) is a {name} not excluded by the principal diagnosis",
                            recorder_text(facts.diagnoses, i, true),
                            i + 1
                        ),
                        None => format!("no secondary diagnosis is a {name} that is not excluded"),
                    },
                )
            }
            Node::DeptIn(l) => {
                let verb = if value { "is" } else { "is not" };
                leaf("dept_in", value, format!("dept {verb} in {}", list(l)))
            }
            Node::AnySecondaryDxIn(l) => {
                let hit = facts
                    .diagnoses
                    .iter()
                    .enumerate()
                    .skip(1)
                    .find(|&(_, &c)| self.in_list(c, l));
                let detail = match hit {
                    Some((i, _)) => format!(
                        "secondary diagnosis {} (position {}) is in {}",
                        recorder_text(facts.diagnoses, i, true),
                        i + 1,
                        list(l)
                    ),
                    None if facts.diagnoses.len() < 2 => "no secondary diagnosis".to_owned(),
                    None => format!("no secondary diagnosis is in {}", list(l)),
                };
                leaf("any_secondary_dx_in", value, detail)
            }
            Node::AnySecondaryProcIn(l) => {
                let hit = facts
                    .procedures
                    .iter()
                    .enumerate()
                    .skip(1)
                    .find(|&(_, &c)| self.in_list(c, l));
                let detail = match hit {
                    Some((i, _)) => format!(
                        "secondary procedure {} (position {}) is in {}",
                        recorder_text(facts.procedures, i, false),
                        i + 1,
                        list(l)
                    ),
                    None if facts.procedures.len() < 2 => {
                        "fewer than two procedures: no secondary procedure".to_owned()
                    }
                    None => format!("no secondary procedure is in {}", list(l)),
                };
                leaf("any_secondary_proc_in", value, detail)
            }
            Node::AgeYearsLe(n) => leaf(
                "age_years_le",
                value,
                format!("age {} years <= {n}", facts.demographics.age),
            ),
            Node::AgeYearsGt(n) => leaf(
                "age_years_gt",
                value,
                format!("age {} years > {n}", facts.demographics.age),
            ),
            Node::AgeYearsGe(n) => leaf(
                "age_years_ge",
                value,
                format!("age {} years >= {n}", facts.demographics.age),
            ),
            Node::LosDays(comparison, n) => leaf(
                comparison.kind(),
                value,
                match facts.length_of_stay {
                    Some(days) => {
                        format!("length of stay {days} days {} {n}", comparison.symbol())
                    }
                    None => "length of stay (inHospitalTime) absent or not an integer".to_owned(),
                },
            ),
            Node::LeavingTypeIn(l) => {
                let verb = if value { "is" } else { "is not" };
                let given = if facts.leaving_type == NO_CODE {
                    String::new()
                } else {
                    format!(" {:?}", self.code_text(facts.leaving_type, None))
                };
                leaf(
                    "leaving_type_in",
                    value,
                    format!("discharge type (leavingType){given} {verb} in {}", list(l)),
                )
            }
        }
    }
}

#[inline]
fn has_bit(bits: &[u64], list: u32) -> bool {
    bits.get((list / 64) as usize)
        .is_some_and(|word| word >> (list % 64) & 1 == 1)
}

fn success(mdc: ShortCode, adrg: ShortCode, drg: ShortCode, status: GroupStatus) -> GroupResult {
    GroupResult {
        status,
        mdc,
        adrg,
        drg,
    }
}

/// The result of an ambiguity rule: the MDC, ADRG `QY` and the rule's DRG (e.g. `PQY`).
fn ambiguous(mdc: ShortCode, drg: ShortCode) -> GroupResult {
    let qy = ShortCode::new("QY").unwrap_or(ShortCode::EMPTY);
    success(mdc, qy, drg, GroupStatus::Ambiguous)
}

struct NodeBuilder<'a> {
    nodes: Vec<Node>,
    operands: Vec<u32>,
    list_index: &'a HashMap<String, u32>,
}

impl NodeBuilder<'_> {
    fn list(&self, name: &str) -> u32 {
        // Validation guarantees every list is declared; an unknown one would match nothing.
        self.list_index.get(name).copied().unwrap_or(u32::MAX)
    }

    fn push(&mut self, node: Node) -> u32 {
        self.nodes.push(node);
        u32::try_from(self.nodes.len() - 1).unwrap_or(u32::MAX)
    }

    fn operands(&mut self, items: Vec<u32>) -> (u32, u32) {
        let start = u32::try_from(self.operands.len()).unwrap_or(u32::MAX);
        let len = u32::try_from(items.len()).unwrap_or(u32::MAX);
        self.operands.extend(items);
        (start, len)
    }

    fn compile(&mut self, condition: &Condition) -> u32 {
        let node = match condition {
            Condition::Always(_) => Node::Always,
            Condition::All(items) | Condition::Any(items) => {
                let children: Vec<u32> = items.iter().map(|item| self.compile(item)).collect();
                let (start, len) = self.operands(children);
                if matches!(condition, Condition::All(_)) {
                    Node::All { start, len }
                } else {
                    Node::Any { start, len }
                }
            }
            Condition::Not(inner) => Node::Not(self.compile(inner)),
            Condition::PdxIn(list) => Node::PdxIn(self.list(list)),
            Condition::AnyDxIn(list) => Node::AnyDxIn(self.list(list)),
            Condition::PrincipalProcIn(list) => Node::PrincipalProcIn(self.list(list)),
            Condition::AnyProcIn(list) => Node::AnyProcIn(self.list(list)),
            Condition::PrincipalProcIsOr(_) => Node::PrincipalProcIsOr,
            Condition::AnyProcIsOr(_) => Node::AnyProcIsOr,
            Condition::Gender(value) => Node::Gender(if value == "M" { 1 } else { 2 }),
            Condition::AgeYearsEq(n) => Node::AgeYearsEq(*n),
            Condition::AgeYearsLt(n) => Node::AgeYearsLt(*n),
            Condition::AgeDaysLe(n) => Node::AgeDaysLe(*n),
            Condition::WeightLt(n) => Node::WeightLt(*n),
            Condition::WeightGe(n) => Node::WeightGe(*n),
            Condition::DxListsMin(operand) => {
                let lists: Vec<u32> = operand.lists.iter().map(|name| self.list(name)).collect();
                let (start, len) = self.operands(lists);
                Node::DxListsMin {
                    start,
                    len,
                    min: operand.min,
                }
            }
            Condition::HasMcc(_) => Node::HasMcc,
            Condition::HasCc(_) => Node::HasCc,
            Condition::DeptIn(list) => Node::DeptIn(self.list(list)),
            Condition::AnySecondaryDxIn(list) => Node::AnySecondaryDxIn(self.list(list)),
            Condition::AnySecondaryProcIn(list) => Node::AnySecondaryProcIn(self.list(list)),
            Condition::AgeYearsLe(n) => Node::AgeYearsLe(*n),
            Condition::AgeYearsGt(n) => Node::AgeYearsGt(*n),
            Condition::AgeYearsGe(n) => Node::AgeYearsGe(*n),
            Condition::LosDaysEq(n) => Node::LosDays(Comparison::Eq, *n),
            Condition::LosDaysLt(n) => Node::LosDays(Comparison::Lt, *n),
            Condition::LosDaysLe(n) => Node::LosDays(Comparison::Le, *n),
            Condition::LosDaysGt(n) => Node::LosDays(Comparison::Gt, *n),
            Condition::LosDaysGe(n) => Node::LosDays(Comparison::Ge, *n),
            Condition::LeavingTypeIn(list) => Node::LeavingTypeIn(self.list(list)),
        };
        self.push(node)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_integer;

    #[test]
    fn integers_follow_the_readme() {
        for (text, expected) in [
            ("0", Some(0)),
            ("1", Some(1)),
            ("01", Some(1)),
            ("+1", Some(1)),
            (" 1", Some(1)),
            ("1 ", Some(1)),
            ("-3", Some(-3)),
            ("99999999999999999999999", Some(i64::MAX)),
            ("-99999999999999999999999", Some(i64::MIN)),
            ("", None),
            (" ", None),
            ("+", None),
            ("-", None),
            ("1.0", None),
            ("1e3", None),
            ("１", None),
            ("1 2", None),
            ("0x1", None),
        ] {
            assert_eq!(parse_integer(text), expected, "{text:?}");
        }
    }
}
