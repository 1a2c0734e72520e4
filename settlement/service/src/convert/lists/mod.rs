//! Typed settlement records (`lists.proto`) read into the domain's [`SettlementList`] and
//! [`AmbulatorySettlement`], the values a JSON record is parsed into, and written back for reads.
//!
//! The messages mirror the JSON form member for member, so a field that cannot be read is named
//! by the same path the JSON form and validation use (`payment.hifp_pay`, `fee_lines[2].pric`).
//! Each scalar is read exactly as serde reads its JSON text (money through `Money`'s `FromStr`,
//! decimals as `rust_decimal` reads a string, dates and times through the kernel's), and an
//! optional member left unset takes the value serde's default gives: the same list, hence the
//! same canonical JSON and content hash, whichever form it was sent in.

use kernel::date::{Date, DateTime};
use kernel::{Decimal, Money, RegionCode};
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as pb;
use platform::wire;
use prost::Message;
use settlement_domain::admission::{Typed, Unreadable};
use settlement_domain::case::{
    AmbulatoryKind, AmbulatorySettlement, CategoryCharge, ChargeCategory, Diagnosis, FeeLine,
    ListHeader, ListType, Patient, Payment, Procedure, SettlementList, Stay,
};
use settlement_domain::ledger::RecordKind;

/// A typed inpatient list as intake takes it: its bytes for the fingerprint and its reading.
pub fn typed_list(message: pb::SettlementList) -> Typed<SettlementList> {
    let wire = message.encode_to_vec();
    Typed {
        wire,
        read: read_list(message).map(Box::new),
    }
}

/// A typed ambulatory settlement as intake takes it.
pub fn typed_ambulatory(message: pb::AmbulatorySettlement) -> Typed<AmbulatorySettlement> {
    let wire = message.encode_to_vec();
    Typed {
        wire,
        read: read_ambulatory(message).map(Box::new),
    }
}

/// Reads a typed inpatient list, naming every field that cannot be read.
pub fn read_list(message: pb::SettlementList) -> Result<SettlementList, Unreadable> {
    let mut r = Reader::new(message.header.as_ref());
    let header = r.header(message.header);
    let patient = r.patient(message.patient);
    let stay = r.stay(message.stay);
    let diagnoses = r.diagnoses(message.diagnoses);
    let procedures: Vec<Option<Procedure>> = message
        .procedures
        .into_iter()
        .enumerate()
        .map(|(i, p)| r.procedure(i, p))
        .collect();
    let charges: Vec<Option<CategoryCharge>> = message
        .charges
        .into_iter()
        .enumerate()
        .map(|(i, c)| r.charge(i, c))
        .collect();
    let payment = r.payment(message.payment);
    let fee_lines = r.fee_lines(message.fee_lines);
    r.finish(|| {
        Some(SettlementList {
            header: header?,
            patient: patient?,
            stay: stay?,
            diagnoses: diagnoses.into_iter().collect::<Option<_>>()?,
            procedures: procedures.into_iter().collect::<Option<_>>()?,
            charges: charges.into_iter().collect::<Option<_>>()?,
            payment: payment?,
            fee_lines: fee_lines.into_iter().collect::<Option<_>>()?,
        })
    })
}

/// Reads a typed ambulatory settlement, naming every field that cannot be read.
pub fn read_ambulatory(
    message: pb::AmbulatorySettlement,
) -> Result<AmbulatorySettlement, Unreadable> {
    let mut r = Reader::new(message.header.as_ref());
    let header = r.header(message.header);
    let kind = match pb::AmbulatoryKind::try_from(message.kind) {
        Ok(pb::AmbulatoryKind::Outpatient) => Some(AmbulatoryKind::Outpatient),
        Ok(pb::AmbulatoryKind::ChronicOutpatient) => Some(AmbulatoryKind::ChronicOutpatient),
        Ok(pb::AmbulatoryKind::Pharmacy) => Some(AmbulatoryKind::Pharmacy),
        Ok(pb::AmbulatoryKind::Unspecified) | Err(_) => r.fail("kind", unknown_enum(message.kind)),
    };
    let settled_at = r.date_time(&"settled_at", message.settled_at.as_ref());
    let diagnoses = r.diagnoses(message.diagnoses);
    let payment = r.payment(message.payment);
    let fee_lines = r.fee_lines(message.fee_lines);
    r.finish(|| {
        Some(AmbulatorySettlement {
            header: header?,
            kind: kind?,
            med_type: message.med_type,
            settled_at: settled_at?,
            diagnoses: diagnoses.into_iter().collect::<Option<_>>()?,
            payment: payment?,
            fee_lines: fee_lines.into_iter().collect::<Option<_>>()?,
            procedures: message.procedure_codes,
        })
    })
}

/// The fields of one record that could not be read: each reading answers `None` for a value it
/// could not read and names the field, so that every such field of the record is named.
struct Reader {
    /// The record's institution and list id as sent, to name it in its rejections.
    hospital_code: String,
    list_id: String,
    fields: Vec<(String, String)>,
}

fn unknown_enum(value: i32) -> String {
    if value == 0 {
        "is required".to_owned()
    } else {
        format!("{value} is not one of the enum's values")
    }
}

type Path<'a> = &'a dyn std::fmt::Display;

impl Reader {
    fn new(header: Option<&pb::ListHeader>) -> Self {
        let (hospital_code, list_id) = header.map_or_else(Default::default, |h| {
            (h.fixmedins_code.clone(), h.setl_id.clone())
        });
        Self {
            hospital_code,
            list_id,
            fields: Vec::new(),
        }
    }

    /// Names `field` as unreadable; `None` for the caller's value.
    fn fail<T>(&mut self, field: impl ToString, why: impl Into<String>) -> Option<T> {
        self.fields.push((field.to_string(), why.into()));
        None
    }

    fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, Unreadable> {
        let built = if self.fields.is_empty() {
            build()
        } else {
            None
        };
        built.ok_or_else(|| Unreadable {
            hospital_code: self.hospital_code,
            list_id: self.list_id,
            fields: if self.fields.is_empty() {
                vec![("record".to_owned(), "could not be read".to_owned())]
            } else {
                self.fields
            },
        })
    }

    fn header(&mut self, header: Option<pb::ListHeader>) -> Option<ListHeader> {
        let Some(header) = header else {
            return self.fail("header", "is required");
        };
        let insurance_type = match u16::try_from(header.insutype) {
            Ok(code) => Some(code),
            Err(_) => self.fail(
                "header.insutype",
                format!("{} is not an insurance type code", header.insutype),
            ),
        };
        let declared_at = self.date_time(&"header.declared_at", header.declared_at.as_ref());
        let pooling_region = self.region("header.pooling_region", &header.pooling_region);
        let insured_region = match header.insured_region.as_deref() {
            None => Some(None),
            Some(code) => self.region("header.insured_region", code).map(Some),
        };
        Some(ListHeader {
            list_id: header.setl_id,
            hospital_code: header.fixmedins_code,
            hospital_level: header.hospital_level,
            insurance_type: insurance_type?,
            person_id: header.psn_no,
            case_number: header.case_number,
            declared_at: declared_at?,
            pooling_region: pooling_region?,
            insured_region: insured_region?,
            refund: header.refd_setl_flag,
        })
    }

    fn region(&mut self, field: &str, code: &str) -> Option<RegionCode> {
        match code.parse::<RegionCode>() {
            Ok(region) => Some(region),
            Err(error) => self.fail(field, error.to_string()),
        }
    }

    fn patient(&mut self, patient: Option<pb::Patient>) -> Option<Patient> {
        let Some(patient) = patient else {
            return self.fail("patient", "is required");
        };
        let sex = self.small(&"patient.sex", patient.sex);
        let birth_date = self.date(&"patient.birth_date", patient.birth_date.as_ref());
        Some(Patient {
            sex: sex?,
            birth_date: birth_date?,
            age_years: patient.age_years,
            age_days: patient.age_days,
            newborn_birth_weight_g: patient.newborn_birth_weight_g,
            newborn_admission_weight_g: patient.newborn_admission_weight_g,
        })
    }

    fn stay(&mut self, stay: Option<pb::Stay>) -> Option<Stay> {
        let Some(stay) = stay else {
            return self.fail("stay", "is required");
        };
        let admitted_at = self.date_time(&"stay.admitted_at", stay.admitted_at.as_ref());
        let discharged_at = self.date_time(&"stay.discharged_at", stay.discharged_at.as_ref());
        let discharge_type = self.small(&"stay.discharge_type", stay.discharge_type);
        let ventilator_hours =
            self.decimal_or_zero(&"stay.ventilator_hours", stay.ventilator_hours.as_ref());
        let icu_hours = self.decimal_or_zero(&"stay.icu_hours", stay.icu_hours.as_ref());
        Some(Stay {
            med_type: stay.med_type,
            admission_route: stay.admission_route,
            admitted_at: admitted_at?,
            admission_department: stay.admission_department,
            discharged_at: discharged_at?,
            discharge_department: stay.discharge_department,
            discharge_type: discharge_type?,
            receiving_institution: stay.receiving_institution,
            ventilator_hours: ventilator_hours?,
            icu_hours: icu_hours?,
            planned_readmission_31d: stay.planned_readmission_31d,
        })
    }

    fn diagnoses(&mut self, diagnoses: Vec<pb::Diagnosis>) -> Vec<Option<Diagnosis>> {
        diagnoses
            .into_iter()
            .enumerate()
            .map(|(i, d)| {
                let condition = self.small(
                    &format_args!("diagnoses[{i}].admission_condition"),
                    d.admission_condition,
                );
                Some(Diagnosis {
                    code: d.code,
                    name: d.name,
                    admission_condition: condition?,
                })
            })
            .collect()
    }

    fn procedure(&mut self, i: usize, procedure: pb::Procedure) -> Option<Procedure> {
        let date = self.date(
            &format_args!("procedures[{i}].date"),
            procedure.date.as_ref(),
        );
        Some(Procedure {
            code: procedure.code,
            name: procedure.name,
            date: date?,
            anaesthesia: procedure.anaesthesia,
        })
    }

    fn charge(&mut self, i: usize, charge: pb::CategoryCharge) -> Option<CategoryCharge> {
        use pb::ChargeCategory as W;
        let category = match W::try_from(charge.category) {
            Ok(W::Bed) => Some(ChargeCategory::Bed),
            Ok(W::Consultation) => Some(ChargeCategory::Consultation),
            Ok(W::Examination) => Some(ChargeCategory::Examination),
            Ok(W::Laboratory) => Some(ChargeCategory::Laboratory),
            Ok(W::Treatment) => Some(ChargeCategory::Treatment),
            Ok(W::Surgery) => Some(ChargeCategory::Surgery),
            Ok(W::Nursing) => Some(ChargeCategory::Nursing),
            Ok(W::Consumables) => Some(ChargeCategory::Consumables),
            Ok(W::WesternDrugs) => Some(ChargeCategory::WesternDrugs),
            Ok(W::HerbalPieces) => Some(ChargeCategory::HerbalPieces),
            Ok(W::ChinesePatentDrugs) => Some(ChargeCategory::ChinesePatentDrugs),
            Ok(W::GeneralDiagnosis) => Some(ChargeCategory::GeneralDiagnosis),
            Ok(W::Registration) => Some(ChargeCategory::Registration),
            Ok(W::Other) => Some(ChargeCategory::Other),
            Ok(W::Unspecified) | Err(_) => self.fail(
                format_args!("charges[{i}].category"),
                unknown_enum(charge.category),
            ),
        };
        let amount = self.money(&format_args!("charges[{i}].amount"), charge.amount.as_ref());
        let class_a = self.money_or_zero(
            &format_args!("charges[{i}].class_a"),
            charge.class_a.as_ref(),
        );
        let class_b = self.money_or_zero(
            &format_args!("charges[{i}].class_b"),
            charge.class_b.as_ref(),
        );
        let self_pay = self.money_or_zero(
            &format_args!("charges[{i}].self_pay"),
            charge.self_pay.as_ref(),
        );
        let other = self.money_or_zero(&format_args!("charges[{i}].other"), charge.other.as_ref());
        Some(CategoryCharge {
            category: category?,
            amount: amount?,
            class_a: class_a?,
            class_b: class_b?,
            self_pay: self_pay?,
            other: other?,
        })
    }

    fn payment(&mut self, payment: Option<pb::SettlementPayment>) -> Option<Payment> {
        let Some(p) = payment else {
            return self.fail("payment", "is required");
        };
        let total = self.money(&"payment.medfee_sumamt", p.medfee_sumamt.as_ref());
        let pooled_fund = self.money(&"payment.hifp_pay", p.hifp_pay.as_ref());
        let serious_illness = self.money_or_zero(&"payment.hifmi_pay", p.hifmi_pay.as_ref());
        let medical_aid = self.money_or_zero(&"payment.maf_pay", p.maf_pay.as_ref());
        let other_funds = self.money_or_zero(&"payment.oth_fund_pay", p.oth_fund_pay.as_ref());
        let personal_account = self.money_or_zero(&"payment.acct_pay", p.acct_pay.as_ref());
        let personal_cash = self.money_or_zero(&"payment.psn_cash_pay", p.psn_cash_pay.as_ref());
        let self_pay =
            self.money_or_zero(&"payment.fulamt_ownpay_amt", p.fulamt_ownpay_amt.as_ref());
        let co_pay = self.money_or_zero(&"payment.copay_amt", p.copay_amt.as_ref());
        Some(Payment {
            total: total?,
            pooled_fund: pooled_fund?,
            serious_illness: serious_illness?,
            medical_aid: medical_aid?,
            other_funds: other_funds?,
            personal_account: personal_account?,
            personal_cash: personal_cash?,
            self_pay: self_pay?,
            co_pay: co_pay?,
        })
    }

    fn fee_lines(&mut self, lines: Vec<pb::FeeLine>) -> Vec<Option<FeeLine>> {
        lines
            .into_iter()
            .enumerate()
            .map(|(i, line)| self.fee_line(i, line))
            .collect()
    }

    fn fee_line(&mut self, i: usize, line: pb::FeeLine) -> Option<FeeLine> {
        use pb::ListType as W;
        let list_type = match W::try_from(line.list_type) {
            Ok(W::WesternDrug) => Some(ListType::WesternDrug),
            Ok(W::HerbalPiece) => Some(ListType::HerbalPiece),
            Ok(W::Service) => Some(ListType::Service),
            Ok(W::Consumable) => Some(ListType::Consumable),
            Ok(W::Unspecified) | Err(_) => self.fail(
                format_args!("fee_lines[{i}].list_type"),
                unknown_enum(line.list_type),
            ),
        };
        let pric = self.decimal(&format_args!("fee_lines[{i}].pric"), line.pric.as_ref());
        let cnt = self.decimal(&format_args!("fee_lines[{i}].cnt"), line.cnt.as_ref());
        let amount = self.money(
            &format_args!("fee_lines[{i}].det_item_fee_sumamt"),
            line.det_item_fee_sumamt.as_ref(),
        );
        let in_policy = self.money_or_zero(
            &format_args!("fee_lines[{i}].inscp_amt"),
            line.inscp_amt.as_ref(),
        );
        let at = self.date_time(
            &format_args!("fee_lines[{i}].fee_ocur_time"),
            line.fee_ocur_time.as_ref(),
        );
        Some(FeeLine {
            hilist_code: line.hilist_code,
            list_type: list_type?,
            med_chrgitm_type: line.med_chrgitm_type,
            pric: pric?,
            cnt: cnt?,
            det_item_fee_sumamt: amount?,
            inscp_amt: in_policy?,
            fee_ocur_time: at?,
            department: line.department,
            refund: line.refd_setl_flag,
        })
    }

    /// A coded value of one byte (sex, discharge type, admission condition), as JSON reads u8.
    fn small(&mut self, field: Path, value: u32) -> Option<u8> {
        match u8::try_from(value) {
            Ok(code) => Some(code),
            Err(_) => self.fail(field, format!("{value} is not a code of 0..=255")),
        }
    }

    /// A required amount.
    fn money(&mut self, field: Path, value: Option<&common::Money>) -> Option<Money> {
        match value {
            None => self.fail(field, "is required"),
            Some(money) => self.parse_money(field, &money.yuan),
        }
    }

    /// An amount that serde defaults to zero: unset (or blank) is zero.
    fn money_or_zero(&mut self, field: Path, value: Option<&common::Money>) -> Option<Money> {
        match value {
            Some(money) if !money.yuan.trim().is_empty() => self.parse_money(field, &money.yuan),
            _ => Some(Money::default()),
        }
    }

    fn parse_money(&mut self, field: Path, text: &str) -> Option<Money> {
        match text.parse::<Money>() {
            Ok(money) => Some(money),
            Err(error) => self.fail(field, error.to_string()),
        }
    }

    /// A required decimal.
    fn decimal(&mut self, field: Path, value: Option<&common::Decimal>) -> Option<Decimal> {
        match value {
            None => self.fail(field, "is required"),
            Some(decimal) => self.parse_decimal(field, &decimal.value),
        }
    }

    /// A decimal that serde defaults to zero: unset (or blank) is zero.
    fn decimal_or_zero(&mut self, field: Path, value: Option<&common::Decimal>) -> Option<Decimal> {
        match value {
            Some(decimal) if !decimal.value.is_empty() => self.parse_decimal(field, &decimal.value),
            _ => Some(Decimal::default()),
        }
    }

    /// As `rust_decimal` reads a JSON string: plain notation, else scientific.
    fn parse_decimal(&mut self, field: Path, text: &str) -> Option<Decimal> {
        if let Err(too_long) = kernel::check_decimal_text(text) {
            return self.fail(field, too_long.to_string());
        }
        match text
            .parse::<Decimal>()
            .or_else(|_| Decimal::from_scientific(text))
        {
            Ok(value) => Some(value),
            Err(_) => self.fail(field, format!("{text:?} is not a decimal number")),
        }
    }

    /// A required date.
    fn date(&mut self, field: Path, value: Option<&common::Date>) -> Option<Date> {
        let Some(value) = value else {
            return self.fail(field, "is required");
        };
        match wire::date("", value) {
            Ok(date) => Some(date),
            Err((_, why)) => self.fail(field, why),
        }
    }

    /// A required date and time; a bad day is named on `<field>.date`.
    fn date_time(&mut self, field: Path, value: Option<&pb::LocalDateTime>) -> Option<DateTime> {
        let Some(value) = value else {
            return self.fail(field, "is required");
        };
        let date = self.date(&format_args!("{field}.date"), value.date.as_ref())?;
        let part = |n: i32| u32::try_from(n).unwrap_or(u32::MAX);
        match DateTime::new(
            date,
            part(value.hour),
            part(value.minute),
            part(value.second),
        ) {
            Ok(time) => Some(time),
            Err(_) => self.fail(
                field,
                format!(
                    "{:02}:{:02}:{:02} is not a time of day",
                    value.hour, value.minute, value.second
                ),
            ),
        }
    }
}

/// A stored record's canonical JSON, typed: the list of an inpatient case or the settlement of an
/// ambulatory one. A stored record that does not read as its kind (which intake never stores)
/// is answered as JSON only.
pub fn stored_record_to_wire(
    kind: RecordKind,
    case_json: &str,
) -> (Option<pb::SettlementList>, Option<pb::AmbulatorySettlement>) {
    let unreadable = |error: serde_json::Error| {
        tracing::warn!(%error, "a stored record does not read as its kind");
    };
    match kind {
        RecordKind::Inpatient => match serde_json::from_str::<SettlementList>(case_json) {
            Ok(list) => (Some(list_to_wire(&list)), None),
            Err(error) => {
                unreadable(error);
                (None, None)
            }
        },
        RecordKind::Outpatient | RecordKind::ChronicOutpatient | RecordKind::Pharmacy => {
            match serde_json::from_str::<AmbulatorySettlement>(case_json) {
                Ok(settlement) => (None, Some(ambulatory_to_wire(&settlement))),
                Err(error) => {
                    unreadable(error);
                    (None, None)
                }
            }
        }
    }
}

/// A stored inpatient list, typed (GetCase's `CaseVersion.settlement_list`).
pub fn list_to_wire(list: &SettlementList) -> pb::SettlementList {
    pb::SettlementList {
        header: Some(header_to_wire(&list.header)),
        patient: Some(pb::Patient {
            sex: u32::from(list.patient.sex),
            birth_date: Some(wire::wire_date(list.patient.birth_date)),
            age_years: list.patient.age_years,
            age_days: list.patient.age_days,
            newborn_birth_weight_g: list.patient.newborn_birth_weight_g,
            newborn_admission_weight_g: list.patient.newborn_admission_weight_g,
        }),
        stay: Some(pb::Stay {
            med_type: list.stay.med_type.clone(),
            admission_route: list.stay.admission_route.clone(),
            admitted_at: Some(time_to_wire(list.stay.admitted_at)),
            admission_department: list.stay.admission_department.clone(),
            discharged_at: Some(time_to_wire(list.stay.discharged_at)),
            discharge_department: list.stay.discharge_department.clone(),
            discharge_type: u32::from(list.stay.discharge_type),
            receiving_institution: list.stay.receiving_institution.clone(),
            ventilator_hours: Some(wire::decimal_to_wire(list.stay.ventilator_hours)),
            icu_hours: Some(wire::decimal_to_wire(list.stay.icu_hours)),
            planned_readmission_31d: list.stay.planned_readmission_31d,
        }),
        diagnoses: list.diagnoses.iter().map(diagnosis_to_wire).collect(),
        procedures: list
            .procedures
            .iter()
            .map(|p| pb::Procedure {
                code: p.code.clone(),
                name: p.name.clone(),
                date: Some(wire::wire_date(p.date)),
                anaesthesia: p.anaesthesia.clone(),
            })
            .collect(),
        charges: list.charges.iter().map(charge_to_wire).collect(),
        payment: Some(payment_to_wire(&list.payment)),
        fee_lines: list.fee_lines.iter().map(fee_line_to_wire).collect(),
    }
}

/// A stored ambulatory settlement, typed (GetCase's `CaseVersion.ambulatory`).
pub fn ambulatory_to_wire(settlement: &AmbulatorySettlement) -> pb::AmbulatorySettlement {
    pb::AmbulatorySettlement {
        header: Some(header_to_wire(&settlement.header)),
        kind: match settlement.kind {
            AmbulatoryKind::Outpatient => pb::AmbulatoryKind::Outpatient,
            AmbulatoryKind::ChronicOutpatient => pb::AmbulatoryKind::ChronicOutpatient,
            AmbulatoryKind::Pharmacy => pb::AmbulatoryKind::Pharmacy,
        } as i32,
        med_type: settlement.med_type.clone(),
        settled_at: Some(time_to_wire(settlement.settled_at)),
        diagnoses: settlement.diagnoses.iter().map(diagnosis_to_wire).collect(),
        payment: Some(payment_to_wire(&settlement.payment)),
        fee_lines: settlement.fee_lines.iter().map(fee_line_to_wire).collect(),
        procedure_codes: settlement.procedures.clone(),
    }
}

fn header_to_wire(header: &ListHeader) -> pb::ListHeader {
    pb::ListHeader {
        setl_id: header.list_id.clone(),
        fixmedins_code: header.hospital_code.clone(),
        hospital_level: header.hospital_level.clone(),
        insutype: i32::from(header.insurance_type),
        psn_no: header.person_id.clone(),
        case_number: header.case_number.clone(),
        declared_at: Some(time_to_wire(header.declared_at)),
        pooling_region: header.pooling_region.to_string(),
        insured_region: header.insured_region.map(|r| r.to_string()),
        refd_setl_flag: header.refund,
    }
}

fn time_to_wire(time: DateTime) -> pb::LocalDateTime {
    let midnight = time.date().to_yyyymmdd();
    let seconds = Date::from_yyyymmdd(midnight)
        .ok()
        .and_then(|day| DateTime::new(day, 0, 0, 0).ok())
        .map_or(0, |start| time.seconds_since(start));
    let seconds = i32::try_from(seconds).unwrap_or(0);
    pb::LocalDateTime {
        date: Some(wire::wire_date(time.date())),
        hour: seconds / 3600,
        minute: seconds / 60 % 60,
        second: seconds % 60,
    }
}

fn diagnosis_to_wire(d: &Diagnosis) -> pb::Diagnosis {
    pb::Diagnosis {
        code: d.code.clone(),
        name: d.name.clone(),
        admission_condition: u32::from(d.admission_condition),
    }
}

fn charge_to_wire(charge: &CategoryCharge) -> pb::CategoryCharge {
    use pb::ChargeCategory as W;
    let category = match charge.category {
        ChargeCategory::Bed => W::Bed,
        ChargeCategory::Consultation => W::Consultation,
        ChargeCategory::Examination => W::Examination,
        ChargeCategory::Laboratory => W::Laboratory,
        ChargeCategory::Treatment => W::Treatment,
        ChargeCategory::Surgery => W::Surgery,
        ChargeCategory::Nursing => W::Nursing,
        ChargeCategory::Consumables => W::Consumables,
        ChargeCategory::WesternDrugs => W::WesternDrugs,
        ChargeCategory::HerbalPieces => W::HerbalPieces,
        ChargeCategory::ChinesePatentDrugs => W::ChinesePatentDrugs,
        ChargeCategory::GeneralDiagnosis => W::GeneralDiagnosis,
        ChargeCategory::Registration => W::Registration,
        ChargeCategory::Other => W::Other,
    };
    pb::CategoryCharge {
        category: category as i32,
        amount: Some(wire::money_to_wire(charge.amount)),
        class_a: optional_money_to_wire(charge.class_a),
        class_b: optional_money_to_wire(charge.class_b),
        self_pay: optional_money_to_wire(charge.self_pay),
        other: optional_money_to_wire(charge.other),
    }
}

fn payment_to_wire(p: &Payment) -> pb::SettlementPayment {
    let optional = optional_money_to_wire;
    pb::SettlementPayment {
        medfee_sumamt: Some(wire::money_to_wire(p.total)),
        hifp_pay: Some(wire::money_to_wire(p.pooled_fund)),
        hifmi_pay: optional(p.serious_illness),
        maf_pay: optional(p.medical_aid),
        oth_fund_pay: optional(p.other_funds),
        acct_pay: optional(p.personal_account),
        psn_cash_pay: optional(p.personal_cash),
        fulamt_ownpay_amt: optional(p.self_pay),
        copay_amt: optional(p.co_pay),
    }
}

/// An amount that serde defaults when absent: unset when it is that default. The default zero
/// is the one amount without 2 places (every amount read is rescaled to them), and it is written
/// "0" in the stored JSON where a sent "0.00" is written "0.00"; leaving it unset keeps the two
/// apart, so the typed list sent back is stored as the same bytes.
fn optional_money_to_wire(value: Money) -> Option<common::Money> {
    (value.value().scale() == Money::SCALE).then(|| wire::money_to_wire(value))
}

fn fee_line_to_wire(line: &FeeLine) -> pb::FeeLine {
    pb::FeeLine {
        hilist_code: line.hilist_code.clone(),
        list_type: match line.list_type {
            ListType::WesternDrug => pb::ListType::WesternDrug,
            ListType::HerbalPiece => pb::ListType::HerbalPiece,
            ListType::Service => pb::ListType::Service,
            ListType::Consumable => pb::ListType::Consumable,
        } as i32,
        med_chrgitm_type: line.med_chrgitm_type.clone(),
        pric: Some(wire::decimal_to_wire(line.pric)),
        cnt: Some(wire::decimal_to_wire(line.cnt)),
        det_item_fee_sumamt: Some(wire::money_to_wire(line.det_item_fee_sumamt)),
        inscp_amt: optional_money_to_wire(line.inscp_amt),
        fee_ocur_time: Some(time_to_wire(line.fee_ocur_time)),
        department: line.department.clone(),
        refd_setl_flag: line.refund,
    }
}

#[cfg(test)]
pub(crate) mod tests;
