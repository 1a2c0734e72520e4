//! A stay's settlement list assembled from its plan: fee lines by charge category, the fund's
//! payment by hospital level, and the totals settled from them.

use super::*;

impl<'a> CaseStream<'a> {
    /// Turns a plan into a settlement list (fee lines, charges, payment).
    pub(super) fn assemble(&mut self, plan: &StayPlan<'_>) -> SettlementList {
        let province = self.province();
        let hospital = &province.hospitals[plan.hospital];
        let admission_date = plan.admitted.date();
        let person = &plan.person;
        let age = age_years(person.birth_date, admission_date).max(0);
        let age_days = admission_date.days_since(person.birth_date);
        let newborn_weight = (age == 0 && age_days <= 28).then(|| {
            if plan.principal.code.starts_with("P07") {
                self.rng.between(1000, 2400) as u32
            } else {
                self.rng.between(2500, 4000) as u32
            }
        });
        let mut diagnoses = vec![Diagnosis {
            code: plan.principal.code.clone(),
            name: plan.principal.name.clone(),
            admission_condition: 1,
        }];
        let secondary =
            self.secondary_diagnoses(&plan.principal.code, plan.coded.population.newborn);
        // The comorbidities the patient has cost more to treat and are evidenced by the tests
        // that follow them; the diagnoses an upcode adds (`extra_diagnoses`) do neither.
        let care = StayCare {
            cost: comorbid_cost(plan.cost, self.catalogue().charlson_index(&secondary)),
            evidenced: secondary
                .iter()
                .filter_map(|d| d.code.chars().next())
                .collect(),
        };
        for d in secondary
            .into_iter()
            .chain(plan.extra_diagnoses.iter().cloned())
        {
            if !diagnoses.iter().any(|x| x.code == d.code) {
                diagnoses.push(Diagnosis {
                    code: d.code,
                    name: d.name,
                    admission_condition: 1,
                });
            }
        }
        let los = plan.discharged.date().days_since(admission_date);
        let procedure_day =
            admission_date.add_days(self.rng.between(0, i64::from(los.min(1))) as i32);
        let procedures: Vec<Procedure> = if plan.procedures {
            plan.coded
                .procedures
                .iter()
                .map(|p| Procedure {
                    code: p.code.clone(),
                    name: p.name.clone(),
                    date: procedure_day,
                    anaesthesia: (plan.coded.treatment == TreatmentType::Surgical)
                        .then(|| "general".to_owned()),
                })
                .collect()
        } else {
            Vec::new()
        };
        let fee_lines = stay_fee_lines(plan, procedure_day, &care);
        let list_id = format!("ZY{:012}", plan.sequence);
        let declared = plan
            .discharged
            .date()
            .add_days(self.rng.between(1, 5) as i32);
        let mut list = SettlementList {
            header: ListHeader {
                list_id,
                hospital_code: hospital.code().to_owned(),
                hospital_level: hospital.level.code().to_owned(),
                insurance_type: person.fund.code(),
                person_id: person.person_id.clone(),
                case_number: format!("BA{:012}", plan.sequence),
                declared_at: at(declared, 18, 0),
                pooling_region: hospital.region(),
                insured_region: None,
                refund: false,
            },
            patient: Patient {
                sex: person.sex,
                birth_date: person.birth_date,
                age_years: u32::try_from(age).unwrap_or(0),
                age_days: (age == 0).then(|| u32::try_from(age_days).unwrap_or(0)),
                newborn_birth_weight_g: newborn_weight,
                newborn_admission_weight_g: newborn_weight,
            },
            stay: Stay {
                med_type: plan.med_type.to_owned(),
                admission_route: if plan.profile == FeeProfile::PerDiem {
                    "2"
                } else {
                    "1"
                }
                .to_owned(),
                admitted_at: plan.admitted,
                admission_department: plan.department.to_owned(),
                discharged_at: plan.discharged,
                discharge_department: plan.department.to_owned(),
                discharge_type: plan.discharge_type,
                receiving_institution: None,
                ventilator_hours: Decimal::ZERO,
                icu_hours: Decimal::ZERO,
                planned_readmission_31d: false,
            },
            diagnoses,
            procedures,
            charges: Vec::new(),
            payment: payment_of(Money::ZERO, person.fund, hospital.level),
            fee_lines,
        };
        settle_amounts(&mut list, hospital.level);
        list
    }
}

/// What the patient's own condition adds to a planned stay.
pub(super) struct StayCare {
    /// The plan's cost with its comorbidities.
    pub cost: Money,
    /// First letters of the comorbidities, each evidenced by a test on admission.
    pub evidenced: BTreeSet<char>,
}

/// Share of the cost each point of the Charlson index adds (12 %).
const COST_PER_CHARLSON_POINT: Decimal = Decimal::from_parts(12, 0, 0, false, 2);

/// `cost` raised by [`COST_PER_CHARLSON_POINT`] per point of `charlson_index`, rounded to the
/// fen by [`Money::mul_round`].
fn comorbid_cost(cost: Money, charlson_index: u32) -> Money {
    cost.mul_round(Decimal::ONE + COST_PER_CHARLSON_POINT * Decimal::from(charlson_index))
}

pub(super) fn fee_line(item: &Item, amount: Money, time: DateTime, department: &str) -> FeeLine {
    FeeLine {
        hilist_code: item.code.to_owned(),
        list_type: item.list_type,
        med_chrgitm_type: item.charge_item_type.to_owned(),
        pric: amount.value(),
        cnt: Decimal::ONE,
        det_item_fee_sumamt: amount,
        inscp_amt: amount,
        fee_ocur_time: time,
        department: Some(department.to_owned()),
        refund: false,
    }
}

/// Splits `total` over weighted items in whole fen; the last takes the remainder, so the parts
/// add up to the total exactly.
pub(super) fn split_by_weight(total: Money, parts: &[(Item, f64)]) -> Vec<(Item, Money)> {
    let fen = total.to_fen().unwrap_or(0);
    let weight: f64 = parts.iter().map(|(_, w)| w).sum();
    let mut left = fen;
    let mut out = Vec::with_capacity(parts.len());
    for (i, (item, w)) in parts.iter().enumerate() {
        let share = if i + 1 == parts.len() {
            left
        } else {
            (((fen as f64) * w / weight).floor() as i64).min(left)
        };
        left -= share;
        out.push((*item, Money::from_fen(share)));
    }
    out
}

/// Category weights of a stay's costs.
pub(super) fn category_weights(profile: FeeProfile) -> &'static [(ChargeCategory, f64)] {
    use ChargeCategory as C;
    match profile {
        FeeProfile::Acute(TreatmentType::Conservative) => &[
            (C::Bed, 0.10),
            (C::Nursing, 0.08),
            (C::Consultation, 0.04),
            (C::Examination, 0.12),
            (C::Laboratory, 0.12),
            (C::Treatment, 0.14),
            (C::WesternDrugs, 0.40),
        ],
        FeeProfile::Acute(TreatmentType::Surgical) => &[
            (C::Bed, 0.06),
            (C::Nursing, 0.05),
            (C::Consultation, 0.02),
            (C::Examination, 0.08),
            (C::Laboratory, 0.08),
            (C::Treatment, 0.06),
            (C::Surgery, 0.30),
            (C::Consumables, 0.15),
            (C::WesternDrugs, 0.20),
        ],
        FeeProfile::Acute(TreatmentType::Interventional) => &[
            (C::Bed, 0.06),
            (C::Nursing, 0.05),
            (C::Consultation, 0.02),
            (C::Examination, 0.08),
            (C::Laboratory, 0.08),
            (C::Treatment, 0.06),
            (C::Surgery, 0.15),
            (C::Consumables, 0.30),
            (C::WesternDrugs, 0.20),
        ],
        FeeProfile::Acute(_) => &[
            (C::Bed, 0.08),
            (C::Nursing, 0.07),
            (C::Consultation, 0.03),
            (C::Examination, 0.14),
            (C::Laboratory, 0.12),
            (C::Treatment, 0.16),
            (C::Consumables, 0.08),
            (C::WesternDrugs, 0.32),
        ],
        FeeProfile::PerDiem => &[
            (C::Bed, 0.25),
            (C::Nursing, 0.25),
            (C::Consultation, 0.03),
            (C::Examination, 0.03),
            (C::Laboratory, 0.04),
            (C::Treatment, 0.20),
            (C::WesternDrugs, 0.20),
        ],
        FeeProfile::Phantom => &[
            (C::Bed, 0.35),
            (C::Consultation, 0.05),
            (C::WesternDrugs, 0.60),
        ],
    }
}

/// The fee lines of a stay: daily bed, nursing, treatment and drugs; consultation,
/// examinations, laboratory tests and the test of each comorbidity on admission; operation,
/// anaesthesia, consumables and the item of each diagnostic or therapeutic procedure performed
/// on the procedure day. The stay's cost (`care`) is split over categories by weight and within
/// a category evenly, in whole fen, so the lines add up to it exactly.
pub(super) fn stay_fee_lines(
    plan: &StayPlan<'_>,
    procedure_day: Date,
    care: &StayCare,
) -> Vec<FeeLine> {
    let admission = plan.admitted.date();
    let los = plan.discharged.date().days_since(admission);
    let days = los.max(1);
    let mut planned: Vec<(Item, DateTime)> = Vec::new();
    let time_of = |day: i32| {
        if day == 0 {
            plan.admitted
        } else {
            at(admission.add_days(day), 8, 0)
        }
    };
    let phantom = plan.profile == FeeProfile::Phantom;
    planned.push((items::CONSULTATION, time_of(0)));
    if !phantom {
        planned.push((items::CT, time_of(0)));
        planned.push((items::BLOOD_COUNT, time_of(0)));
        planned.push((items::BIOCHEMISTRY, time_of(0)));
        for letter in &care.evidenced {
            if let Some(item) = items::supporting_item(*letter) {
                planned.push((item, time_of(0)));
            }
        }
        if days > 2 {
            planned.push((items::BLOOD_COUNT, time_of(2)));
        }
    }
    for day in 0..days {
        planned.push((items::BED, time_of(day)));
        let blocked = plan
            .blocked_days
            .is_some_and(|(first, last)| (first..=last).contains(&day));
        if blocked {
            continue;
        }
        let drug = if day % 2 == 0 {
            items::ANTIBIOTIC
        } else {
            items::PROTON_PUMP
        };
        planned.push((drug, time_of(day)));
        if !phantom {
            planned.push((items::NURSING_PACKAGE, time_of(day)));
            planned.push((items::INFUSION, time_of(day)));
        }
    }
    if plan.procedures {
        let when = if procedure_day == admission {
            plan.admitted
        } else {
            at(procedure_day, 9, 0)
        };
        match plan.care.treatment {
            TreatmentType::Surgical => {
                planned.push((items::OPERATION, when));
                planned.push((items::ANAESTHESIA, when));
                planned.push((items::CONSUMABLE, when));
            }
            TreatmentType::Interventional => {
                planned.push((items::OPERATION, when));
                planned.push((items::CONSUMABLE, when));
            }
            TreatmentType::Diagnostic | TreatmentType::Therapeutic => {
                planned.push((items::CONSUMABLE, when));
            }
            TreatmentType::Conservative => {}
        }
        // The procedures performed, not those coded: an upcoded list's coded procedure has no
        // line of its own.
        for procedure in &plan.care.procedures {
            if let Some(item) = items::procedure_item(&procedure.code) {
                planned.push((item, when));
            }
        }
    }
    let profile = match plan.profile {
        // The charges follow the care given, whatever is coded.
        FeeProfile::Acute(_) if !plan.procedures => FeeProfile::Acute(TreatmentType::Conservative),
        FeeProfile::Acute(_) => FeeProfile::Acute(plan.care.treatment),
        other => other,
    };
    let weights: Vec<(Item, f64)> = category_weights(profile)
        .iter()
        .filter_map(|(category, w)| {
            planned
                .iter()
                .find(|(item, _)| item.category == *category)
                .map(|(item, _)| (*item, *w))
        })
        .collect();
    let mut lines = Vec::with_capacity(planned.len());
    for (representative, amount) in split_by_weight(care.cost, &weights) {
        let category = representative.category;
        let members: Vec<&(Item, DateTime)> = planned
            .iter()
            .filter(|(item, _)| item.category == category)
            .collect();
        let count = members.len() as i64;
        let fen = amount.to_fen().unwrap_or(0);
        for (i, (item, time)) in members.iter().enumerate() {
            let share = if i as i64 + 1 == count {
                fen - (fen / count) * (count - 1)
            } else {
                fen / count
            };
            lines.push(fee_line(
                item,
                Money::from_fen(share),
                *time,
                plan.department,
            ));
        }
    }
    lines.sort_by_key(|l| l.fee_ocur_time);
    lines
}

/// The fund's share of the cost by fund and level (Hainan-like reimbursement ratios).
pub(super) fn fund_ratio(fund: FundType, level: HospitalLevel) -> Decimal {
    let percent = match (fund, level) {
        (FundType::Employee, HospitalLevel::Tertiary3A) => 82,
        (FundType::Employee, HospitalLevel::Tertiary3B) => 84,
        (FundType::Employee, HospitalLevel::Secondary2A | HospitalLevel::Secondary2B) => 86,
        (FundType::Employee, _) => 90,
        (FundType::Resident, HospitalLevel::Tertiary3A) => 60,
        (FundType::Resident, HospitalLevel::Tertiary3B) => 63,
        (FundType::Resident, HospitalLevel::Secondary2A | HospitalLevel::Secondary2B) => 70,
        (FundType::Resident, _) => 80,
    };
    Decimal::new(percent, 2)
}

/// The payment block of `total`: pooled fund by ratio, serious-illness insurance for a personal
/// part above 20,000, the employee's personal account for 30 % of the rest, cash for the
/// remainder; self-pay is 8 % of the personal part. Identity total = funds + account + cash
/// holds exactly.
pub(super) fn payment_of(total: Money, fund: FundType, level: HospitalLevel) -> Payment {
    let pooled = total.mul_round(fund_ratio(fund, level));
    let mut personal = total - pooled;
    let threshold = Money::from_yuan(20_000);
    let serious = if personal > threshold {
        (personal - threshold).mul_round(Decimal::new(6, 1))
    } else {
        Money::ZERO
    };
    personal -= serious;
    let account = match fund {
        FundType::Employee => personal.mul_round(Decimal::new(3, 1)),
        FundType::Resident => Money::ZERO,
    };
    let cash = personal - account;
    let self_pay = personal.mul_round(Decimal::new(8, 2));
    Payment {
        total,
        pooled_fund: pooled,
        serious_illness: serious,
        medical_aid: Money::ZERO,
        other_funds: Money::ZERO,
        personal_account: account,
        personal_cash: cash,
        self_pay,
        co_pay: personal - self_pay,
    }
}

/// Charges by category and the payment block from the fee lines (so that both agree with them
/// after a line was added).
pub(super) fn settle_amounts(list: &mut SettlementList, level: HospitalLevel) {
    let mut by_category: BTreeMap<ChargeCategory, Money> = BTreeMap::new();
    for line in &list.fee_lines {
        let category = category_of(&line.med_chrgitm_type);
        *by_category.entry(category).or_insert(Money::ZERO) += line.det_item_fee_sumamt;
    }
    let total: Money = by_category.values().copied().sum();
    list.charges = by_category
        .into_iter()
        .map(|(category, amount)| CategoryCharge {
            category,
            amount,
            class_a: Money::ZERO,
            class_b: Money::ZERO,
            self_pay: Money::ZERO,
            other: Money::ZERO,
        })
        .collect();
    let fund = FundType::from_code(list.header.insurance_type).unwrap_or(FundType::Resident);
    list.payment = payment_of(total, fund, level);
}

pub(super) fn category_of(charge_item_type: &str) -> ChargeCategory {
    use ChargeCategory as C;
    match charge_item_type {
        "01" => C::Bed,
        "02" => C::Consultation,
        "03" => C::Examination,
        "04" => C::Laboratory,
        "05" => C::Treatment,
        "06" => C::Surgery,
        "07" => C::Nursing,
        "08" => C::Consumables,
        "09" => C::WesternDrugs,
        "10" => C::HerbalPieces,
        "11" => C::ChinesePatentDrugs,
        "12" => C::GeneralDiagnosis,
        "13" => C::Registration,
        _ => C::Other,
    }
}
