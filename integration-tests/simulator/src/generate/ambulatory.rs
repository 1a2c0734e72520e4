//! Outpatient and pharmacy settlements with their fee lines.

use super::*;

impl<'a> CaseStream<'a> {
    pub(super) fn ambulatory(
        &mut self,
        year: i32,
        mode: Mode,
        shift: Option<(StaySummary, bool)>,
    ) -> SimulatedCase {
        let province = self.province();
        let seed = self.simulation.config.seed;
        let pharmacy_visit = mode == Mode::Pharmacy;
        let (institution, level, region, person, date, diagnosis) = match &shift {
            Some((stay, before_admission)) => {
                let date = if *before_admission {
                    stay.admitted
                        .date()
                        .add_days(-(self.rng.between(1, 7) as i32))
                } else {
                    let los = stay.discharged.date().days_since(stay.admitted.date());
                    stay.admitted
                        .date()
                        .add_days(self.rng.between(0, i64::from(los)) as i32)
                };
                let hospital = &province.hospitals[stay.hospital];
                if pharmacy_visit {
                    let region = hospital.region();
                    let pharmacy = province
                        .pharmacies
                        .iter()
                        .find(|p| p.institution.pooling_region == region)
                        .unwrap_or(&province.pharmacies[0]);
                    (
                        &pharmacy.institution,
                        None,
                        pharmacy.institution.pooling_region,
                        stay.person.clone(),
                        date,
                        None,
                    )
                } else {
                    (
                        &hospital.institution,
                        Some(hospital.level),
                        hospital.region(),
                        stay.person.clone(),
                        date,
                        Some(stay.principal.clone()),
                    )
                }
            }
            None => {
                let date = self.draw_admission(year);
                if pharmacy_visit {
                    let pharmacy = &province.pharmacies[self.rng.index(province.pharmacies.len())];
                    let person = province.person(seed, self.rng.next_u64());
                    (
                        &pharmacy.institution,
                        None,
                        pharmacy.institution.pooling_region,
                        person,
                        date,
                        None,
                    )
                } else {
                    let hospital_index = self.rng.index(province.hospitals.len());
                    let hospital = &province.hospitals[hospital_index];
                    let pool = &self.pools().conservative;
                    let template = &self.catalogue().templates[self.pick(pool)];
                    let person = self.pick_person(template.population, date, hospital_index);
                    (
                        &hospital.institution,
                        Some(hospital.level),
                        hospital.region(),
                        person,
                        date,
                        Some(named(&template.principal)),
                    )
                }
            }
        };
        let chronic = !pharmacy_visit && shift.is_none() && self.rng.chance(0.2);
        let (kind, med_type, prefix, mean) = if pharmacy_visit {
            (AmbulatoryKind::Pharmacy, "41", "YD", 120.0)
        } else if chronic {
            (AmbulatoryKind::ChronicOutpatient, "14", "MZ", 650.0)
        } else {
            (AmbulatoryKind::Outpatient, "11", "MZ", 260.0)
        };
        let mean = if shift.as_ref().is_some_and(|(_, before)| *before) {
            900.0
        } else {
            mean
        };
        let total = money_from_sample(self.rng.log_normal(mean, 0.5));
        let settled_at = at(
            date,
            self.rng.between(8, 17) as u32,
            self.rng.between(0, 59) as u32,
        );
        let plan: Vec<(Item, f64)> = if pharmacy_visit {
            vec![(items::PROTON_PUMP, 0.5), (items::ANTIBIOTIC, 0.5)]
        } else if shift.is_some() {
            vec![
                (items::CT, 0.5),
                (items::BLOOD_COUNT, 0.2),
                (items::BIOCHEMISTRY, 0.3),
            ]
        } else {
            vec![
                (items::REGISTRATION, 0.05),
                (items::GENERAL_DIAGNOSIS, 0.10),
                (items::BLOOD_COUNT, 0.30),
                (items::PROTON_PUMP, 0.55),
            ]
        };
        let department = if pharmacy_visit {
            "pharmacy"
        } else {
            "outpatient"
        };
        let fee_lines: Vec<FeeLine> = split_by_weight(total, &plan)
            .into_iter()
            .map(|(item, amount)| fee_line(&item, amount, settled_at, department))
            .collect();
        let list_id = format!("{prefix}{:012}", self.sequence);
        let header = ListHeader {
            list_id: list_id.clone(),
            hospital_code: institution.code.clone(),
            hospital_level: level.map_or("pharmacy", HospitalLevel::code).to_owned(),
            insurance_type: person.fund.code(),
            person_id: person.person_id.clone(),
            case_number: format!("{prefix}{:010}", self.sequence),
            declared_at: at(date, 21, 0),
            pooling_region: region,
            insured_region: None,
            refund: false,
        };
        let payment = payment_of(total, person.fund, level.unwrap_or(HospitalLevel::Primary1));
        let settlement = AmbulatorySettlement {
            header,
            kind,
            med_type: med_type.to_owned(),
            settled_at,
            diagnoses: diagnosis
                .map(|d| Diagnosis {
                    code: d.code,
                    name: d.name,
                    admission_condition: 1,
                })
                .into_iter()
                .collect(),
            payment,
            fee_lines,
            procedures: Vec::new(),
        };
        let record = match kind {
            AmbulatoryKind::Pharmacy => RecordKind::Pharmacy,
            AmbulatoryKind::ChronicOutpatient => RecordKind::ChronicOutpatient,
            AmbulatoryKind::Outpatient => RecordKind::Outpatient,
        };
        let mut truth = self.truth(year, record, mode, &list_id);
        truth.institution_code = institution.code.clone();
        truth.hospital_level = level;
        truth.person_id = person.person_id;
        if let Some((stay, before)) = shift {
            truth.irregularity = Some(Irregularity::CostShiftedToOutpatient);
            truth.related_list_id = Some(stay.list_id.clone());
            truth.evidence = Some(if before {
                format!(
                    "examinations billed as outpatient before admission to {}",
                    stay.list_id
                )
            } else {
                format!("settled during stay {}", stay.list_id)
            });
        }
        SimulatedCase {
            record: Record::Ambulatory(Box::new(settlement)),
            truth,
        }
    }
}
