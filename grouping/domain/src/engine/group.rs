//! Grouping one case: README steps 1–8 over the compiled tables, without allocating once the
//! scratch buffers have grown.

use super::*;

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
pub(super) fn split_codes(field: &str) -> CodeSplit<'_> {
    CodeSplit { rest: Some(field) }
}

pub(super) struct CodeSplit<'a> {
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

impl CompiledScheme {
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
    pub(super) fn list_bitsets<'b>(
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
    pub(super) fn set_list_bits(&self, bits: &mut [u64], code: u32) {
        let info = self.info(code);
        for &list in &self.code_lists[info.lists_start as usize..info.lists_end as usize] {
            if let Some(word) = bits.get_mut((list / 64) as usize) {
                *word |= 1 << (list % 64);
            }
        }
    }

    /// Steps 1–2: split, then (mapping mode) map diagnoses, then procedures.
    pub(super) fn read_codes(
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
    pub(super) fn check(
        &self,
        case: &RawCase<'_>,
        diagnoses: &[u32],
    ) -> Result<Demographics, CheckFailure> {
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

    pub(super) fn facts<'a>(
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

    pub(super) fn retries(&self, facts: &Facts<'_>) -> bool {
        self.options.retry_with_secondary_procedures && facts.procedures.len() >= 2
    }

    /// Steps 4–8 on checked facts.
    pub(super) fn group_facts<O: Observer>(
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
    pub(super) fn single_procedure<'a>(
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
    pub(super) fn run_rules<O: Observer>(&self, facts: Facts<'_>, observer: &mut O) -> GroupResult {
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
    pub(super) fn test<O: Observer>(
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

    pub(super) fn eval(&self, node: u32, facts: &Facts<'_>) -> bool {
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

    pub(super) fn operand_slice(&self, start: u32, len: u32) -> &[u32] {
        &self.operands[start as usize..(start + len) as usize]
    }
}

#[inline]
pub(super) fn has_bit(bits: &[u64], list: u32) -> bool {
    bits.get((list / 64) as usize)
        .is_some_and(|word| word >> (list % 64) & 1 == 1)
}

pub(super) fn success(
    mdc: ShortCode,
    adrg: ShortCode,
    drg: ShortCode,
    status: GroupStatus,
) -> GroupResult {
    GroupResult {
        status,
        mdc,
        adrg,
        drg,
    }
}

/// The result of an ambiguity rule: the MDC, ADRG `QY` and the rule's DRG (e.g. `PQY`).
pub(super) fn ambiguous(mdc: ShortCode, drg: ShortCode) -> GroupResult {
    let qy = ShortCode::new("QY").unwrap_or(ShortCode::EMPTY);
    success(mdc, qy, drg, GroupStatus::Ambiguous)
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
