//! `BudgetDocument` ⇄ [`BudgetDocument`], and the computed budget's typed form.

use budget_domain::{
    AnnualBudget, BlockAmount, BlockShare, BlockSplit, BudgetBasis, BudgetDocument, BudgetPolicy,
};
use kernel::RegionCode;
use medpay_proto::budget::v1 as pb;
use pb::budget_basis::Kind as Basis;
use pb::budget_split::Kind as Split;
use platform::wire::{self, Violation};

use super::{Reader, decimal_to_wire, money_to_wire, word_of};

/// Reads a typed budget document; every violation is named under `prefix` (`document`). Whether
/// it is about the request's budget is checked by the caller, as for a JSON document.
pub fn document_from_wire(
    prefix: &str,
    given: &pb::BudgetDocument,
) -> Result<BudgetDocument, Vec<Violation>> {
    let mut read = Reader::new(prefix);
    let region = if given.region.trim().is_empty() {
        read.push("region", "is required: the pooling region's six digits");
        None
    } else {
        read.keep(
            "region",
            given
                .region
                .parse::<RegionCode>()
                .map_err(|e| format!("{:?} is not a region code: {e}", given.region)),
        )
    };
    let year = if given.year == 0 {
        read.push("year", "is required");
        None
    } else {
        Some(given.year)
    };
    let fund = wire::fund_type(&format!("{prefix}.fund_type"), given.fund_type)
        .map_err(|violation| read.record(violation))
        .ok();
    let mode = read.required_word("mode", &given.mode);
    let basis = match given.basis.as_ref().and_then(|basis| basis.kind.as_ref()) {
        None => {
            read.push("basis", "is required: planned_income or last_year_growth");
            None
        }
        Some(basis) => read_basis(&mut read, basis),
    };
    let split = match given.split.as_ref().and_then(|split| split.kind.as_ref()) {
        None => {
            read.push("split", "is required: shares or amounts");
            None
        }
        Some(split) => Some(read_split(&mut read, split)),
    };
    let mut policy = BudgetPolicy::default();
    if let Some(given) = &given.policy {
        read.decimal_into(
            "policy.adjustment_reserve_rate",
            given.adjustment_reserve_rate.as_ref(),
            &mut policy.adjustment_reserve_rate,
        );
    }
    let document = (|| {
        Some(BudgetDocument {
            region: region?,
            year: year?,
            fund: fund?,
            mode: mode?,
            basis: basis?,
            split: split?,
            policy,
        })
    })();
    read.finish(document)
}

fn read_basis(read: &mut Reader, given: &Basis) -> Option<BudgetBasis> {
    match given {
        Basis::PlannedIncome(income) => {
            let at = |field: &str| format!("basis.planned_income.{field}");
            let planned = read.money(
                &at("planned_pooled_income"),
                income.planned_pooled_income.as_ref(),
            );
            let risk_reserve = read.money(&at("risk_reserve"), income.risk_reserve.as_ref());
            let earmarked = read.money(&at("earmarked"), income.earmarked.as_ref());
            let carried = read.money(&at("carried_balance"), income.carried_balance.as_ref());
            Some(BudgetBasis::PlannedIncome {
                planned_pooled_income: planned?,
                risk_reserve: risk_reserve?,
                earmarked: earmarked?,
                carried_balance: carried?,
            })
        }
        Basis::LastYearGrowth(growth) => {
            let spending = read.money(
                "basis.last_year_growth.last_year_spending",
                growth.last_year_spending.as_ref(),
            );
            let cap = read.decimal(
                "basis.last_year_growth.growth_cap",
                growth.growth_cap.as_ref(),
            );
            Some(BudgetBasis::LastYearGrowth {
                last_year_spending: spending?,
                growth_cap: cap?,
            })
        }
    }
}

/// The split; a bad row is left out, its violation kept.
fn read_split(read: &mut Reader, given: &Split) -> BlockSplit {
    match given {
        Split::Shares(list) => BlockSplit::Shares(
            list.shares
                .iter()
                .enumerate()
                .filter_map(|(index, row)| {
                    let at = |field: &str| format!("split.shares.shares[{index}].{field}");
                    let block = read.required_word(&at("block"), &row.block);
                    let share = read.decimal(&at("share"), row.share.as_ref());
                    Some(BlockShare {
                        block: block?,
                        share: share?,
                    })
                })
                .collect(),
        ),
        Split::Amounts(list) => BlockSplit::Amounts(
            list.amounts
                .iter()
                .enumerate()
                .filter_map(|(index, row)| {
                    let at = |field: &str| format!("split.amounts.amounts[{index}].{field}");
                    let block = read.required_word(&at("block"), &row.block);
                    let amount = read.money(&at("amount"), row.amount.as_ref());
                    Some(BlockAmount {
                        block: block?,
                        amount: amount?,
                    })
                })
                .collect(),
        ),
    }
}

/// The typed form of a document, every field set.
pub fn document_to_wire(document: &BudgetDocument) -> pb::BudgetDocument {
    let basis = match &document.basis {
        BudgetBasis::PlannedIncome {
            planned_pooled_income,
            risk_reserve,
            earmarked,
            carried_balance,
        } => Basis::PlannedIncome(pb::PlannedIncomeBasis {
            planned_pooled_income: money_to_wire(*planned_pooled_income),
            risk_reserve: money_to_wire(*risk_reserve),
            earmarked: money_to_wire(*earmarked),
            carried_balance: money_to_wire(*carried_balance),
        }),
        BudgetBasis::LastYearGrowth {
            last_year_spending,
            growth_cap,
        } => Basis::LastYearGrowth(pb::LastYearGrowthBasis {
            last_year_spending: money_to_wire(*last_year_spending),
            growth_cap: decimal_to_wire(*growth_cap),
        }),
    };
    let split = match &document.split {
        BlockSplit::Shares(shares) => Split::Shares(pb::BlockShareList {
            shares: shares
                .iter()
                .map(|row| pb::BlockShare {
                    block: row.block.name().to_owned(),
                    share: decimal_to_wire(row.share),
                })
                .collect(),
        }),
        BlockSplit::Amounts(amounts) => Split::Amounts(pb::BlockAmountList {
            amounts: amounts
                .iter()
                .map(|row| pb::BlockAmount {
                    block: row.block.name().to_owned(),
                    amount: money_to_wire(row.amount),
                })
                .collect(),
        }),
    };
    pb::BudgetDocument {
        region: document.region.to_string(),
        year: document.year,
        fund_type: wire::fund_type_to_wire(document.fund),
        mode: word_of(&document.mode),
        basis: Some(pb::BudgetBasis { kind: Some(basis) }),
        split: Some(pb::BudgetSplit { kind: Some(split) }),
        policy: Some(pb::BudgetPolicy {
            adjustment_reserve_rate: decimal_to_wire(document.policy.adjustment_reserve_rate),
        }),
    }
}

/// The typed form of a computed budget version, every field set.
pub fn computed_to_wire(budget: &AnnualBudget) -> pb::ComputedBudget {
    pb::ComputedBudget {
        document: Some(document_to_wire(&budget.document)),
        version: budget.version,
        reason: budget.reason.clone(),
        total: money_to_wire(budget.total),
        blocks: budget
            .blocks
            .iter()
            .map(|block| pb::ComputedBlock {
                kind: block.kind.name().to_owned(),
                amount: money_to_wire(block.amount),
                reserve: money_to_wire(block.reserve),
                allocatable: money_to_wire(block.allocatable),
            })
            .collect(),
        adjustment_reserve: money_to_wire(budget.adjustment_reserve),
    }
}
