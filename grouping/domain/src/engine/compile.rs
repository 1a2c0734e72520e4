//! Compiling a loaded scheme: every code interned once, per-code records, condition nodes.

use super::*;
use crate::scheme::{Condition, Scheme};

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
