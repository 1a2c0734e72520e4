//! Annual budgets (总额预算) per pooling region, year and fund: the total from its basis, the split
//! into blocks, the adjustment reserve (调剂金), and the version history kept when a budget is
//! adjusted. DOMAIN.md §4 first bullets; research/domain-formulas.md §1.1.

use kernel::{Decimal, FundType, Money, RegionCode};
use serde::{Deserialize, Serialize};

use crate::apportion::apportion;
use crate::error::{BudgetError, check_not_negative, check_range, check_rate};

/// How the budget controls spending (DOMAIN.md §4, two modes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetMode {
    /// 区域点数法: no hospital caps; the budget fixes the point value.
    RegionalPoints,
    /// 医院总额控制: each hospital or medical alliance gets an allocation.
    HospitalCaps,
}

/// The blocks a regional budget is split into. The declaration order is the tie order when a
/// split by shares hands out remaining fen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    /// 住院 (DRG/DIP); carries the adjustment reserve.
    Inpatient,
    /// 门诊统筹.
    OutpatientPooling,
    /// 门诊慢特病.
    ChronicOutpatient,
    /// 异地就医.
    OutOfRegion,
    /// 定点药店.
    Pharmacies,
    /// 其他.
    Other,
}

impl BlockKind {
    /// The block's name as written in policies and errors.
    pub fn name(self) -> &'static str {
        match self {
            BlockKind::Inpatient => "inpatient",
            BlockKind::OutpatientPooling => "outpatient_pooling",
            BlockKind::ChronicOutpatient => "chronic_outpatient",
            BlockKind::OutOfRegion => "out_of_region",
            BlockKind::Pharmacies => "pharmacies",
            BlockKind::Other => "other",
        }
    }
}

/// Where the regional total comes from (research/domain-formulas.md §1.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum BudgetBasis {
    /// 以收定支: planned pooled-fund income − risk reserve − earmarked items ± carried balance.
    PlannedIncome {
        planned_pooled_income: Money,
        /// 风险调剂金 set aside before the budget.
        risk_reserve: Money,
        /// 大病 and other earmarked items.
        earmarked: Money,
        /// 历年结余调剂: positive adds a carried surplus, negative deducts a carried deficit.
        carried_balance: Money,
    },
    /// Last year's actual pooled spending × (1 + growth cap).
    LastYearGrowth {
        last_year_spending: Money,
        /// The growth allowed, as a ratio (0.05 = 5 %); may be negative for a shrinking fund.
        growth_cap: Decimal,
    },
}

/// One block's share of the total.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockShare {
    pub block: BlockKind,
    /// Ratio in 0..=1; all shares add up to exactly 1.
    pub share: Decimal,
}

/// One block's amount.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockAmount {
    pub block: BlockKind,
    pub amount: Money,
}

/// How the total is split into blocks: by shares adding up to exactly 1 (amounts made fen-exact by
/// the largest-remainder rule of [`apportion`]) or by amounts adding up to exactly the total.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockSplit {
    /// Shares of the total, adding up to exactly 1.
    Shares(Vec<BlockShare>),
    /// Amounts adding up to exactly the total.
    Amounts(Vec<BlockAmount>),
}

/// Budget parameters DOMAIN.md §4 names, with its defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetPolicy {
    /// 调剂金 as a share of the inpatient block; funds overspend sharing. Default 5 %.
    pub adjustment_reserve_rate: Decimal,
}

impl Default for BudgetPolicy {
    fn default() -> Self {
        Self {
            // DOMAIN.md §4: adjustment reserve, default 5 % of the inpatient block.
            adjustment_reserve_rate: Decimal::new(5, 2),
        }
    }
}

impl BudgetPolicy {
    /// Rejects rates outside 0..=1, naming the field.
    pub fn validate(&self) -> Result<(), BudgetError> {
        let mut problems = Vec::new();
        check_rate(
            &mut problems,
            "adjustment_reserve_rate",
            self.adjustment_reserve_rate,
        );
        BudgetError::collect(problems)
    }
}

/// Everything a budget version is computed from: the document stored and versioned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetDocument {
    /// The pooling region (统筹区).
    pub region: RegionCode,
    pub year: i32,
    pub fund: FundType,
    pub mode: BudgetMode,
    pub basis: BudgetBasis,
    pub split: BlockSplit,
    /// Parameters; DOMAIN.md defaults when omitted.
    #[serde(default)]
    pub policy: BudgetPolicy,
}

/// One block of a computed budget.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub kind: BlockKind,
    /// The block as split from the total.
    pub amount: Money,
    /// The adjustment reserve held back from this block (only the inpatient block has one).
    pub reserve: Money,
    /// What is left to allocate or to fix the point value with: amount − reserve.
    pub allocatable: Money,
}

/// A computed budget version: the document, its version and reason, the total and its blocks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnualBudget {
    pub document: BudgetDocument,
    /// 1 for the first version, one more for each adjustment.
    pub version: u32,
    /// Why this version exists; empty only for the first version.
    pub reason: String,
    pub total: Money,
    /// Blocks in [`BlockKind`] order.
    pub blocks: Vec<Block>,
    /// 调剂金: the reserve that pays overspend sharing at year end.
    pub adjustment_reserve: Money,
}

impl AnnualBudget {
    /// Computes a budget from its document, reporting every problem of the document at once.
    pub fn compute(
        document: BudgetDocument,
        version: u32,
        reason: String,
    ) -> Result<Self, BudgetError> {
        let mut problems = Vec::new();
        if let Err(err) = document.policy.validate() {
            problems.extend(err.problems().into_iter().cloned());
        }
        let total = match basis_total(&document.basis, &mut problems) {
            Some(total) => total,
            None => return Err(BudgetError::from_problems(problems)),
        };
        if total.is_negative() {
            problems.push(BudgetError::NegativeBudget { total });
        }
        let amounts = split_amounts(total, &document.split, &mut problems);
        BudgetError::collect(problems)?;

        let mut blocks: Vec<Block> = amounts
            .into_iter()
            .map(|(kind, amount)| {
                let reserve = if kind == BlockKind::Inpatient {
                    // DOMAIN.md §4: 调剂金 = rate × inpatient block, rounded once.
                    amount.mul_round(document.policy.adjustment_reserve_rate)
                } else {
                    // Zero at the fen's scale, so the stored document writes "0.00" like every
                    // other amount (`Money::ZERO` carries no places).
                    Money::from_fen(0)
                };
                Block {
                    kind,
                    amount,
                    reserve,
                    allocatable: amount - reserve,
                }
            })
            .collect();
        blocks.sort_by_key(|block| block.kind);
        let adjustment_reserve = blocks.iter().map(|block| block.reserve).sum();
        Ok(Self {
            document,
            version,
            reason,
            total,
            blocks,
            adjustment_reserve,
        })
    }

    /// The block of `kind`, if the split has one.
    pub fn block(&self, kind: BlockKind) -> Option<&Block> {
        self.blocks.iter().find(|block| block.kind == kind)
    }

    /// The amount of `kind` left to allocate after the reserve (zero for a block not in the split).
    pub fn allocatable(&self, kind: BlockKind) -> Money {
        self.block(kind)
            .map_or(Money::ZERO, |block| block.allocatable)
    }

    /// Regional point method or hospital caps.
    pub fn mode(&self) -> BudgetMode {
        self.document.mode
    }
}

/// The regional total, rounded once; `None` when the basis itself is invalid.
fn basis_total(basis: &BudgetBasis, problems: &mut Vec<BudgetError>) -> Option<Money> {
    let before = problems.len();
    let total = match basis {
        BudgetBasis::PlannedIncome {
            planned_pooled_income,
            risk_reserve,
            earmarked,
            carried_balance,
        } => {
            check_not_negative(
                problems,
                "planned_pooled_income",
                "basis",
                *planned_pooled_income,
            );
            check_not_negative(problems, "risk_reserve", "basis", *risk_reserve);
            check_not_negative(problems, "earmarked", "basis", *earmarked);
            // research/domain-formulas.md §1.1: income − risk reserve − earmarked ± carried balance.
            *planned_pooled_income - *risk_reserve - *earmarked + *carried_balance
        }
        BudgetBasis::LastYearGrowth {
            last_year_spending,
            growth_cap,
        } => {
            check_not_negative(problems, "last_year_spending", "basis", *last_year_spending);
            check_range(
                problems,
                "growth_cap",
                *growth_cap,
                Decimal::NEGATIVE_ONE,
                Decimal::ONE,
            );
            // research/domain-formulas.md §1.1: last year's spending × (1 + g), rounded once.
            last_year_spending.mul_round(Decimal::ONE + *growth_cap)
        }
    };
    (problems.len() == before).then_some(total)
}

fn split_amounts(
    total: Money,
    split: &BlockSplit,
    problems: &mut Vec<BudgetError>,
) -> Vec<(BlockKind, Money)> {
    let kinds: Vec<BlockKind> = match split {
        BlockSplit::Shares(shares) => shares.iter().map(|s| s.block).collect(),
        BlockSplit::Amounts(amounts) => amounts.iter().map(|a| a.block).collect(),
    };
    for (index, kind) in kinds.iter().enumerate() {
        if kinds[..index].contains(kind) {
            problems.push(BudgetError::DuplicateBlock { block: kind.name() });
        }
    }
    match split {
        BlockSplit::Shares(shares) => {
            for (index, share) in shares.iter().enumerate() {
                check_rate(
                    problems,
                    format!("split.shares[{index}].share"),
                    share.share,
                );
            }
            let sum: Decimal = shares.iter().map(|s| s.share).sum();
            if sum != Decimal::ONE {
                problems.push(BudgetError::SharesDoNotAddUp { total: sum });
            }
            if !problems.is_empty() {
                return Vec::new();
            }
            let weights: Vec<(BlockKind, Decimal)> =
                shares.iter().map(|s| (s.block, s.share)).collect();
            match apportion(total, &weights) {
                Ok(amounts) => kinds.into_iter().zip(amounts).collect(),
                Err(err) => {
                    problems.push(err);
                    Vec::new()
                }
            }
        }
        BlockSplit::Amounts(amounts) => {
            for amount in amounts {
                check_not_negative(
                    problems,
                    "split.amounts",
                    amount.block.name(),
                    amount.amount,
                );
            }
            let sum: Money = amounts.iter().map(|a| a.amount).sum();
            if sum != total {
                problems.push(BudgetError::AmountsDoNotAddUp { sum, total });
            }
            amounts.iter().map(|a| (a.block, a.amount)).collect()
        }
    }
}

/// The versions of one budget (region, year, fund), oldest first. An adjustment never rewrites a
/// version: it appends a new one with its reason (年度预算原则上不做调整, so each change is recorded).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<AnnualBudget>", into = "Vec<AnnualBudget>")]
pub struct BudgetHistory {
    versions: Vec<AnnualBudget>,
}

impl BudgetHistory {
    /// Starts a history with version 1 of `document`.
    pub fn create(document: BudgetDocument) -> Result<Self, BudgetError> {
        let first = AnnualBudget::compute(document, 1, String::new())?;
        Ok(Self {
            versions: vec![first],
        })
    }

    /// Rebuilds a history from stored versions (oldest first), as read back from storage.
    pub fn from_versions(versions: Vec<AnnualBudget>) -> Result<Self, BudgetError> {
        if versions.is_empty() {
            return Err(BudgetError::EmptyHistory);
        }
        Ok(Self { versions })
    }

    /// Adjusts the budget: computes `document` as the next version with `reason` (required,
    /// non-empty) and keeps every earlier version. The region, year and fund may not change.
    pub fn adjust(
        &mut self,
        document: BudgetDocument,
        reason: &str,
    ) -> Result<&AnnualBudget, BudgetError> {
        let mut problems = Vec::new();
        let reason = reason.trim();
        if reason.is_empty() {
            problems.push(BudgetError::AdjustmentReasonRequired);
        }
        let current = &self.current().document;
        if current.region != document.region {
            problems.push(BudgetError::AdjustmentChangesKey {
                field: "region",
                expected: current.region.to_string(),
                found: document.region.to_string(),
            });
        }
        if current.year != document.year {
            problems.push(BudgetError::AdjustmentChangesKey {
                field: "year",
                expected: current.year.to_string(),
                found: document.year.to_string(),
            });
        }
        if current.fund != document.fund {
            problems.push(BudgetError::AdjustmentChangesKey {
                field: "fund",
                expected: current.fund.to_string(),
                found: document.fund.to_string(),
            });
        }
        let next_version = self.current().version + 1;
        match AnnualBudget::compute(document, next_version, reason.to_owned()) {
            Ok(next) if problems.is_empty() => {
                self.versions.push(next);
                Ok(self.current())
            }
            Ok(_) => Err(BudgetError::from_problems(problems)),
            Err(err) => {
                problems.extend(err.problems().into_iter().cloned());
                Err(BudgetError::from_problems(problems))
            }
        }
    }

    /// The latest version.
    pub fn current(&self) -> &AnnualBudget {
        // The constructors never build an empty history.
        &self.versions[self.versions.len() - 1]
    }

    /// Version `version` (1-based).
    pub fn version(&self, version: u32) -> Result<&AnnualBudget, BudgetError> {
        self.versions
            .iter()
            .find(|budget| budget.version == version)
            .ok_or(BudgetError::NoSuchVersion { version })
    }

    /// Every version, oldest first.
    pub fn versions(&self) -> &[AnnualBudget] {
        &self.versions
    }
}

impl TryFrom<Vec<AnnualBudget>> for BudgetHistory {
    type Error = BudgetError;
    fn try_from(versions: Vec<AnnualBudget>) -> Result<Self, Self::Error> {
        Self::from_versions(versions)
    }
}

impl From<BudgetHistory> for Vec<AnnualBudget> {
    fn from(history: BudgetHistory) -> Self {
        history.versions
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn yuan(text: &str) -> Money {
        text.parse().expect("test amount")
    }

    fn document(basis: BudgetBasis, split: BlockSplit) -> BudgetDocument {
        BudgetDocument {
            region: "460100".parse().expect("region"),
            year: 2025,
            fund: FundType::Employee,
            mode: BudgetMode::HospitalCaps,
            basis,
            split,
            policy: BudgetPolicy::default(),
        }
    }

    fn income(planned: &str) -> BudgetBasis {
        BudgetBasis::PlannedIncome {
            planned_pooled_income: yuan(planned),
            risk_reserve: yuan("50000000"),
            earmarked: yuan("30000000"),
            carried_balance: yuan("-20000000"),
        }
    }

    fn shares(pairs: &[(BlockKind, Decimal)]) -> BlockSplit {
        BlockSplit::Shares(
            pairs
                .iter()
                .map(|(block, share)| BlockShare {
                    block: *block,
                    share: *share,
                })
                .collect(),
        )
    }

    #[test]
    fn worked_example_inpatient_block_and_reserve() {
        // research/domain-formulas.md §1.6: inpatient block 6.00亿, 调剂金 5 % = 0.30亿, allocatable 5.70亿.
        let budget = AnnualBudget::compute(
            document(
                income("1100000000"),
                shares(&[
                    (BlockKind::Inpatient, dec!(0.6)),
                    (BlockKind::OutpatientPooling, dec!(0.25)),
                    (BlockKind::Pharmacies, dec!(0.15)),
                ]),
            ),
            1,
            String::new(),
        )
        .expect("valid");
        assert_eq!(budget.total, yuan("1000000000"));
        let inpatient = budget.block(BlockKind::Inpatient).expect("inpatient");
        assert_eq!(inpatient.amount, yuan("600000000"));
        assert_eq!(inpatient.reserve, yuan("30000000"));
        assert_eq!(budget.allocatable(BlockKind::Inpatient), yuan("570000000"));
        assert_eq!(budget.adjustment_reserve, yuan("30000000"));
        assert_eq!(budget.allocatable(BlockKind::Pharmacies), yuan("150000000"));
        assert_eq!(budget.allocatable(BlockKind::Other), Money::ZERO);
        // The stored document writes a block without a reserve at the scale of every amount.
        let pharmacies = budget.block(BlockKind::Pharmacies).expect("pharmacies");
        let stored = serde_json::to_value(pharmacies).expect("serialises");
        assert_eq!(stored["reserve"], "0.00");
    }

    #[test]
    fn growth_basis_rounds_once_and_shares_split_to_the_fen() {
        let budget = AnnualBudget::compute(
            document(
                BudgetBasis::LastYearGrowth {
                    last_year_spending: yuan("1000.01"),
                    growth_cap: dec!(0.035),
                },
                shares(&[
                    (BlockKind::Other, dec!(0.3333)),
                    (BlockKind::Inpatient, dec!(0.3333)),
                    (BlockKind::OutOfRegion, dec!(0.3334)),
                ]),
            ),
            1,
            String::new(),
        )
        .expect("valid");
        // 1000.01 × 1.035 = 1035.01035 → 1035.01
        assert_eq!(budget.total, yuan("1035.01"));
        let sum: Money = budget.blocks.iter().map(|b| b.amount).sum();
        assert_eq!(sum, budget.total);
        let kinds: Vec<_> = budget.blocks.iter().map(|b| b.kind).collect();
        assert_eq!(
            kinds,
            vec![
                BlockKind::Inpatient,
                BlockKind::OutOfRegion,
                BlockKind::Other
            ]
        );
    }

    #[test]
    fn bad_documents_report_every_problem_with_the_field() {
        let mut doc = document(
            BudgetBasis::PlannedIncome {
                planned_pooled_income: yuan("100"),
                risk_reserve: yuan("-1"),
                earmarked: Money::ZERO,
                carried_balance: Money::ZERO,
            },
            shares(&[(BlockKind::Inpatient, dec!(1))]),
        );
        let err = AnnualBudget::compute(doc.clone(), 1, String::new()).expect_err("negative");
        assert_eq!(err.reason(), "NEGATIVE_AMOUNT");
        assert!(err.to_string().contains("risk_reserve"));

        doc.basis = income("1000000000");
        doc.policy.adjustment_reserve_rate = dec!(1.5);
        doc.split = shares(&[
            (BlockKind::Inpatient, dec!(0.7)),
            (BlockKind::Inpatient, dec!(0.2)),
        ]);
        let err = AnnualBudget::compute(doc.clone(), 1, String::new()).expect_err("bad");
        let reasons: Vec<_> = err.problems().iter().map(|p| p.reason()).collect();
        assert_eq!(
            reasons,
            vec![
                "VALUE_OUT_OF_RANGE",
                "DUPLICATE_BLOCK",
                "BLOCK_SHARES_DO_NOT_ADD_UP"
            ]
        );
        assert!(
            err.problems()[0]
                .to_string()
                .contains("adjustment_reserve_rate")
        );

        doc.policy = BudgetPolicy::default();
        doc.split = BlockSplit::Amounts(vec![BlockAmount {
            block: BlockKind::Inpatient,
            amount: yuan("899999999.99"),
        }]);
        let err = AnnualBudget::compute(doc, 1, String::new()).expect_err("short");
        assert_eq!(err.reason(), "BLOCK_AMOUNTS_DO_NOT_ADD_UP");
    }

    #[test]
    fn negative_total_is_refused() {
        let err = AnnualBudget::compute(
            document(income("10"), shares(&[(BlockKind::Inpatient, dec!(1))])),
            1,
            String::new(),
        )
        .expect_err("negative");
        assert_eq!(err.reason(), "NEGATIVE_BUDGET");
    }

    #[test]
    fn adjustment_appends_a_version_with_its_reason() {
        let split = BlockSplit::Amounts(vec![BlockAmount {
            block: BlockKind::Inpatient,
            amount: yuan("900000000"),
        }]);
        let mut history =
            BudgetHistory::create(document(income("1000000000"), split)).expect("valid");
        let mut adjusted = document(
            income("1100000000"),
            BlockSplit::Amounts(vec![
                BlockAmount {
                    block: BlockKind::Inpatient,
                    amount: yuan("950000000"),
                },
                BlockAmount {
                    block: BlockKind::Other,
                    amount: yuan("50000000"),
                },
            ]),
        );
        let err = history
            .adjust(adjusted.clone(), "  ")
            .expect_err("no reason");
        assert_eq!(err.reason(), "ADJUSTMENT_REASON_REQUIRED");
        assert_eq!(history.versions().len(), 1);

        let next = history
            .adjust(adjusted.clone(), "医保待遇政策调整")
            .expect("valid");
        assert_eq!(next.version, 2);
        assert_eq!(next.total, yuan("1000000000"));
        assert_eq!(next.reason, "医保待遇政策调整");
        assert_eq!(history.version(1).map(|b| b.total), Ok(yuan("900000000")));
        assert_eq!(history.versions().len(), 2);
        assert_eq!(
            history.version(3).map(|b| b.version),
            Err(BudgetError::NoSuchVersion { version: 3 })
        );

        adjusted.fund = FundType::Resident;
        let err = history.adjust(adjusted, "wrong fund").expect_err("key");
        assert_eq!(err.reason(), "ADJUSTMENT_CHANGES_KEY");
        assert_eq!(history.current().version, 2);
    }

    #[test]
    fn history_round_trips_and_an_empty_one_is_refused() {
        let doc = document(
            income("1000000000"),
            shares(&[(BlockKind::Inpatient, dec!(1))]),
        );
        let history = BudgetHistory::create(doc).expect("valid");
        let json = serde_json::to_string(&history).expect("serialize");
        let back: BudgetHistory = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, history);
        let err = serde_json::from_str::<BudgetHistory>("[]").expect_err("empty");
        assert!(err.to_string().contains("no version"));
    }

    #[test]
    fn document_round_trips_through_json() {
        let doc = document(
            income("1000000000"),
            shares(&[(BlockKind::Inpatient, dec!(1))]),
        );
        let json = serde_json::to_string(&doc).expect("serialize");
        let back: BudgetDocument = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, doc);
        let policy: BudgetPolicy = serde_json::from_str("{}").expect("defaults");
        assert_eq!(policy.adjustment_reserve_rate, dec!(0.05));
    }
}
