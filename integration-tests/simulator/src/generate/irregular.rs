//! Follow-up stays and seeded irregularities: readmissions, split admissions, upcoding, charge
//! irregularities and costs shifted to outpatient care, each with its ground truth.

use super::*;

impl<'a> CaseStream<'a> {
    pub(super) fn readmission(&mut self, year: i32, within_15_days: bool) -> SimulatedCase {
        let gap = if within_15_days {
            self.rng.between(1, 15)
        } else {
            self.rng.between(16, 60)
        } as i32;
        let Some(previous) = self.follow_up_of(year, gap) else {
            return self.regular_main(year);
        };
        let date = previous.discharged.date().add_days(gap);
        let previous_category = self.catalogue().templates[previous.template]
            .category3()
            .to_owned();
        let except = within_15_days.then_some(previous_category.as_str());
        let Some(template) = self.template_for(previous.hospital, &previous.person, date, except)
        else {
            return self.regular_main(year);
        };
        let plan = self.acute_plan(
            template,
            previous.hospital,
            date,
            Some(previous.person.clone()),
        );
        let mode = if within_15_days {
            Mode::ReadmissionWithin15Days
        } else {
            Mode::ReadmissionAfter15Days
        };
        let (list, mut truth) = self.inpatient(year, plan, mode, Some(template));
        truth.related_list_id = Some(previous.list_id);
        truth.readmission_gap_days = Some(gap);
        SimulatedCase::inpatient(list, truth)
    }

    pub(super) fn split_admission(&mut self, year: i32) -> SimulatedCase {
        let gap = self.rng.between(0, 3) as i32;
        let Some(previous) = self.follow_up_of(year, gap) else {
            return self.regular_main(year);
        };
        let date = previous.discharged.date().add_days(gap);
        let mut plan = self.acute_plan(
            previous.template,
            previous.hospital,
            date,
            Some(previous.person.clone()),
        );
        if gap == 0 {
            // Readmitted the afternoon of the discharge.
            let hour = previous.discharged.seconds_since(at(date, 0, 0)) / 3600;
            let hour = u32::try_from(hour + 1).unwrap_or(22).min(22);
            plan.admitted = at(date, hour, 30);
            if plan.discharged < plan.admitted {
                plan.discharged = at(date.add_days(2), 10, 0);
            }
        }
        plan.discharge_type = 1;
        let (list, mut truth) =
            self.inpatient(year, plan, Mode::MainMethod, Some(previous.template));
        truth.irregularity = Some(Irregularity::SplitAdmission);
        truth.related_list_id = Some(previous.list_id.clone());
        truth.readmission_gap_days = Some(gap);
        truth.evidence = Some(format!(
            "readmitted {gap} day(s) after {} with the same principal diagnosis {}",
            previous.list_id, previous.principal.code
        ));
        SimulatedCase::inpatient(list, truth)
    }

    pub(super) fn upcoding(&mut self, year: i32) -> SimulatedCase {
        let date = self.draw_admission(year);
        if self.rng.chance(0.7) {
            let pool = &self.pools().upcodable;
            let care = self.pick(pool);
            let upcodes = &self.catalogue().upcodes[care];
            let coded = upcodes[self.rng.index(upcodes.len())];
            let coded_template = &self.catalogue().templates[coded];
            let hospital = self.pick_hospital_for(coded_template);
            let mut plan = self.acute_plan(care, hospital, date, None);
            plan.coded = coded_template;
            let (list, mut truth) = self.inpatient(year, plan, Mode::MainMethod, None);
            truth.irregularity = Some(Irregularity::Upcoding);
            truth.coded_dip_group = Some(coded_template.dip_group.clone());
            truth.evidence = Some(format!(
                "care of {} coded as {}",
                truth.dip_group.as_deref().unwrap_or(""),
                coded_template.dip_group
            ));
            SimulatedCase::inpatient(list, truth)
        } else {
            let pool = &self.pools().main;
            let mut template = self.pick(pool);
            // A symptom as principal takes no other diagnosis (see `secondary_diagnoses`).
            while self.catalogue().templates[template]
                .principal
                .code
                .starts_with('R')
            {
                template = self.pick(pool);
            }
            let hospital = self.pick_hospital_for(&self.catalogue().templates[template]);
            let mut plan = self.acute_plan(template, hospital, date, None);
            let mcc = &self.catalogue().mcc_diagnoses;
            let first = self.rng.index(mcc.len());
            let second =
                (first + 1 + self.rng.index(mcc.len().saturating_sub(1).max(1))) % mcc.len();
            let principal = plan.principal.code.clone();
            plan.extra_diagnoses = [first, second]
                .into_iter()
                .map(|i| named(&mcc[i]))
                .filter(|c| c.code != principal)
                .collect();
            let added: Vec<String> = plan
                .extra_diagnoses
                .iter()
                .map(|c| c.code.clone())
                .collect();
            let (list, mut truth) = self.inpatient(year, plan, Mode::MainMethod, None);
            truth.irregularity = Some(Irregularity::Upcoding);
            truth.evidence = Some(format!(
                "MCC diagnoses {} without supporting charges",
                added.join(", ")
            ));
            SimulatedCase::inpatient(list, truth)
        }
    }

    pub(super) fn charge_irregularity(
        &mut self,
        year: i32,
        irregularity: Irregularity,
    ) -> SimulatedCase {
        // Blocked beds and phantom stays have no procedures: conservative pictures.
        let pool = match irregularity {
            Irregularity::BedBlocking | Irregularity::PhantomStay => &self.pools().conservative,
            _ => &self.pools().main,
        };
        let template = self.pick(pool);
        let hospital = self.pick_hospital_for(&self.catalogue().templates[template]);
        let date = self.draw_admission(year);
        let mut plan = self.acute_plan(template, hospital, date, None);
        let mut evidence = String::new();
        match irregularity {
            Irregularity::BedBlocking => {
                let los = self.rng.between(8, 25) as i32;
                let (admitted, discharged) = self.stay_times(date, los);
                plan.admitted = admitted;
                plan.discharged = discharged;
                plan.cost = self.per_diem_cost(700.0, los, hospital);
                let first = self.rng.between(3, i64::from(los) - 4) as i32;
                let last = (first + self.rng.between(2, 4) as i32).min(los - 2);
                plan.blocked_days = Some((first, last));
                evidence = format!("days {first}–{last} after admission have a bed charge only");
            }
            Irregularity::PhantomStay => {
                let los = self.rng.between(3, 10) as i32;
                let (admitted, discharged) = self.stay_times(date, los);
                plan.admitted = admitted;
                plan.discharged = discharged;
                plan.profile = FeeProfile::Phantom;
                plan.procedures = false;
                plan.cost = self.per_diem_cost(450.0, los, hospital);
                evidence = "no examination, laboratory, nursing or procedure".to_owned();
            }
            _ => {}
        }
        let (mut list, mut truth) = self.inpatient(year, plan, Mode::MainMethod, None);
        match irregularity {
            Irregularity::DuplicateCharge => {
                let candidates: Vec<usize> = list
                    .fee_lines
                    .iter()
                    .enumerate()
                    // Items billed at most once a day (a procedure's own item or a comorbidity's
                    // test has no such limit).
                    .filter(|(_, l)| {
                        items::ONCE_A_DAY
                            .iter()
                            .any(|item| item.code == l.hilist_code)
                    })
                    .map(|(i, _)| i)
                    .collect();
                if !candidates.is_empty() {
                    let line = list.fee_lines[candidates[self.rng.index(candidates.len())]].clone();
                    evidence = format!(
                        "{} billed twice at {}",
                        line.hilist_code, line.fee_ocur_time
                    );
                    list.fee_lines.push(line);
                }
            }
            Irregularity::UnbundledCharge => {
                let days: Vec<DateTime> = list
                    .fee_lines
                    .iter()
                    .filter(|l| l.hilist_code == items::NURSING_PACKAGE.code)
                    .map(|l| l.fee_ocur_time)
                    .collect();
                let count = days.len().min(self.rng.between(1, 3) as usize);
                let (package, components) = items::PACKAGES[0];
                for time in days.iter().take(count) {
                    for (component, yuan) in components.iter().zip([1200, 800]) {
                        let amount = Money::from_fen(yuan);
                        list.fee_lines.push(fee_line(
                            component,
                            amount,
                            *time,
                            list.stay.discharge_department.as_str(),
                        ));
                    }
                }
                evidence = format!(
                    "{} and {} billed besides {} on {count} day(s)",
                    components[0].code, components[1].code, package.code
                );
            }
            _ => {}
        }
        settle_amounts(&mut list, self.province().hospitals[hospital].level);
        truth.irregularity = Some(irregularity);
        truth.evidence = Some(evidence);
        SimulatedCase::inpatient(list, truth)
    }

    pub(super) fn cost_shift(&mut self, year: i32) -> SimulatedCase {
        let Some(stay) = self.follow_up_of(year, 0) else {
            return self.regular_main(year);
        };
        let before_admission = self.rng.chance(0.6);
        let mode = if before_admission || self.rng.chance(0.5) {
            Mode::Outpatient
        } else {
            Mode::Pharmacy
        };
        self.ambulatory(year, mode, Some((stay, before_admission)))
    }
}
