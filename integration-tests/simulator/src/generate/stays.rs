//! Inpatient stays paid under each Hainan mode: the main method, basic-level diseases, day surgery,
//! per-diem psychiatric, rehabilitation and hospice stays, and long stays.

use super::*;

impl<'a> CaseStream<'a> {
    pub(super) fn regular_main(&mut self, year: i32) -> SimulatedCase {
        let pool = &self.pools().main;
        let template = self.pick(pool);
        let hospital = self.pick_hospital_for(&self.catalogue().templates[template]);
        let date = self.draw_admission(year);
        let plan = self.acute_plan(template, hospital, date, None);
        let (list, truth) = self.inpatient(year, plan, Mode::MainMethod, Some(template));
        SimulatedCase::inpatient(list, truth)
    }

    pub(super) fn basic_level(&mut self, year: i32) -> SimulatedCase {
        let pool = &self.pools().basic;
        let template = self.pick(pool);
        let hospital = self.pick_hospital_at(&[HospitalLevel::Primary1, HospitalLevel::Community]);
        let date = self.draw_admission(year);
        let plan = self.acute_plan(template, hospital, date, None);
        let (list, truth) = self.inpatient(year, plan, Mode::BasicLevel, None);
        SimulatedCase::inpatient(list, truth)
    }

    pub(super) fn day_surgery(&mut self, year: i32) -> SimulatedCase {
        let pool = &self.pools().day_surgery;
        let template_index = self.pick(pool);
        let template = &self.catalogue().templates[template_index];
        let hospital = self.pick_hospital_at(&[
            HospitalLevel::Tertiary3A,
            HospitalLevel::Tertiary3B,
            HospitalLevel::Secondary2A,
        ]);
        let date = self.draw_admission(year);
        let mut plan = self.acute_plan(template_index, hospital, date, None);
        // Under 48 hours: home the same evening or the next morning.
        plan.admitted = at(
            date,
            self.rng.between(7, 9) as u32,
            self.rng.between(0, 59) as u32,
        );
        plan.discharged = if self.rng.chance(0.4) {
            at(
                date,
                self.rng.between(15, 19) as u32,
                self.rng.between(0, 59) as u32,
            )
        } else {
            at(
                date.add_days(1),
                self.rng.between(8, 11) as u32,
                self.rng.between(0, 59) as u32,
            )
        };
        plan.med_type = "28";
        plan.discharge_type = 1;
        plan.cost = money_from_sample(self.rng.log_normal(template.mean_cost * 0.8, 0.25));
        let (list, truth) = self.inpatient(year, plan, Mode::DaySurgery, None);
        SimulatedCase::inpatient(list, truth)
    }

    /// A per-diem or long stay of `los` days.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn long_plan(
        &mut self,
        year: i32,
        template_index: usize,
        principal: Option<NamedCode>,
        hospital: usize,
        los: i32,
        per_day: f64,
        department: Option<&'static str>,
        med_type: &'static str,
    ) -> StayPlan<'a> {
        let date = self.draw_admission(year);
        let mut plan = self.acute_plan(template_index, hospital, date, None);
        let (admitted, discharged) = self.stay_times(date, los);
        plan.admitted = admitted;
        plan.discharged = discharged;
        if let Some(principal) = principal {
            plan.principal = principal;
        }
        if let Some(department) = department {
            plan.department = department;
        }
        plan.med_type = med_type;
        plan.cost = self.per_diem_cost(per_day, los, hospital);
        plan.profile = FeeProfile::PerDiem;
        plan.procedures = false;
        plan
    }

    pub(super) fn psychiatric(&mut self, year: i32) -> SimulatedCase {
        let diagnoses = &self.catalogue().psychiatric_diagnoses;
        let principal = named(&diagnoses[self.rng.index(diagnoses.len())]);
        let pool = &self.pools().psychiatric;
        let hospital = self.pick(pool);
        let los = self.rng.between(57, 150) as i32;
        // Any adult conservative template serves as the patient profile; the principal
        // diagnosis is the psychiatric one.
        let template = self.pick_adult_conservative();
        let mut plan = self.long_plan(
            year,
            template,
            Some(principal),
            hospital,
            los,
            420.0,
            Some(PSYCHIATRY_DEPARTMENT),
            "2105",
        );
        plan.discharge_type = 1;
        let (list, truth) = self.inpatient(year, plan, Mode::PerDiemPsychiatric, None);
        SimulatedCase::inpatient(list, truth)
    }

    pub(super) fn pick_adult_conservative(&mut self) -> usize {
        let pool = &self.pools().long_stay;
        for _ in 0..64 {
            let t = self.pick(pool);
            if self.catalogue().templates[t].population == Population::ANY {
                return t;
            }
        }
        self.pick(pool)
    }

    pub(super) fn rehabilitation(&mut self, year: i32) -> SimulatedCase {
        let pool = &self.pools().rehabilitation;
        let template = self.pick(pool);
        let hospital = if self.rng.chance(0.5) {
            let pool = &self.pools().rehabilitation_hospitals;
            self.pick(pool)
        } else {
            self.pick_hospital_at(&[HospitalLevel::Tertiary3A, HospitalLevel::Secondary2A])
        };
        let los = self.rng.between(14, 45) as i32;
        let mut plan = self.long_plan(
            year,
            template,
            None,
            hospital,
            los,
            780.0,
            Some(REHABILITATION_DEPARTMENT),
            "2105",
        );
        plan.discharge_type = 1;
        let (list, truth) = self.inpatient(year, plan, Mode::PerDiemRehabilitation, None);
        SimulatedCase::inpatient(list, truth)
    }

    pub(super) fn hospice(&mut self, year: i32) -> SimulatedCase {
        let pool = &self.pools().hospice;
        let template = self.pick(pool);
        let hospital = self.pick_hospital_at(&[
            HospitalLevel::Secondary2A,
            HospitalLevel::Secondary2B,
            HospitalLevel::Primary1,
        ]);
        let los = self.rng.between(3, 40) as i32;
        let mut plan = self.long_plan(
            year,
            template,
            None,
            hospital,
            los,
            650.0,
            Some(HOSPICE_DEPARTMENT),
            "2105",
        );
        plan.discharge_type = if self.rng.chance(0.4) { 5 } else { 1 };
        let (list, truth) = self.inpatient(year, plan, Mode::PerDiemHospice, None);
        SimulatedCase::inpatient(list, truth)
    }

    pub(super) fn long_stay(&mut self, year: i32) -> SimulatedCase {
        let pool = &self.pools().long_stay;
        let template = self.pick(pool);
        let hospital = self.pick_hospital_at(&[
            HospitalLevel::Tertiary3A,
            HospitalLevel::Tertiary3B,
            HospitalLevel::Secondary2A,
            HospitalLevel::Secondary2B,
        ]);
        let los = self.rng.between(60, 150) as i32;
        let mut plan = self.long_plan(year, template, None, hospital, los, 900.0, None, "21");
        plan.discharge_type = self.discharge_type(0.05);
        let (list, truth) = self.inpatient(year, plan, Mode::LongStay, None);
        SimulatedCase::inpatient(list, truth)
    }

    /// The latest stay when a follow-up `gap` days after its discharge still lies in the
    /// simulation's window (at most 200 days after the year), else `None`.
    pub(super) fn follow_up_of(&self, year: i32, gap: i32) -> Option<StaySummary> {
        let stay = self.last_stay.as_ref()?;
        let limit = year_start(year + 1).add_days(200);
        (stay.discharged.date().add_days(gap) <= limit).then(|| stay.clone())
    }

    /// A core template other than `except_category` (when given) that the hospital treats and
    /// the person fits on `date`.
    pub(super) fn template_for(
        &mut self,
        hospital: usize,
        person: &Person,
        date: Date,
        except_category: Option<&str>,
    ) -> Option<usize> {
        let level = self.province().hospitals[hospital].level;
        let pool = &self.pools().main;
        for _ in 0..64 {
            let t = self.pick(pool);
            let template = &self.catalogue().templates[t];
            let age = age_years(person.birth_date, date);
            if template.treated_at(level)
                && !template.population.newborn
                && template
                    .population
                    .admits(person.sex, age, date.days_since(person.birth_date))
                && except_category.is_none_or(|c| template.category3() != c)
            {
                return Some(t);
            }
        }
        None
    }
}
