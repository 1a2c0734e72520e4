//! The institutions of the simulated province as the bureau registers them: each hospital and
//! pharmacy in its pooling region with its service agreement, and the roster the summary and
//! the report name them by.

use super::Channel;
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use medpay_simulator::Simulation;

use super::summary::{Roster, RosterEntry};

/// Every simulated institution by code (pooling region, name, level) and the region names.
pub fn roster(simulation: &Simulation) -> Roster {
    let province = simulation.province();
    let institutions = province
        .hospitals
        .iter()
        .map(|h| &h.institution)
        .chain(province.pharmacies.iter().map(|p| &p.institution))
        .map(|i| {
            (
                i.code.clone(),
                RosterEntry {
                    region: i.pooling_region,
                    name: i.name.clone(),
                    level: level_word(i.level),
                },
            )
        })
        .collect();
    let region_names = province
        .regions
        .iter()
        .map(|r| (r.code.to_string(), r.name.to_owned()))
        .collect();
    Roster {
        institutions,
        region_names,
    }
}

fn date(value: kernel::Date) -> Option<common::Date> {
    let (year, month, day) = value.ymd();
    Some(common::Date {
        year,
        month: month as i32,
        day: day as i32,
    })
}

fn level_word(level: settlement_domain::institution::InstitutionLevel) -> &'static str {
    use settlement_domain::institution::InstitutionLevel as L;
    match level {
        L::TertiaryA => "3A",
        L::TertiaryB => "3B",
        L::SecondaryA => "2A",
        L::SecondaryB => "2B",
        L::Primary => "1",
        L::Community => "community",
        _ => "unrated",
    }
}

fn type_word(kind: settlement_domain::institution::InstitutionType) -> &'static str {
    use settlement_domain::institution::InstitutionType as T;
    match kind {
        T::GeneralHospital => "general",
        T::SpecialistHospital => "specialist",
        T::TraditionalChineseMedicine => "tcm",
        T::PrimaryCare => "primary",
        T::MaternalChild => "maternal_child",
        _ => "other",
    }
}

/// Registers every hospital and pharmacy in its pooling region with its service agreement.
pub async fn register(
    simulation: &Simulation,
    client: &mut SettlementServiceClient<Channel>,
) -> anyhow::Result<()> {
    let province = simulation.province();
    let institutions = province
        .hospitals
        .iter()
        .map(|h| (&h.institution, &h.agreement))
        .chain(
            province
                .pharmacies
                .iter()
                .map(|p| (&p.institution, &p.agreement)),
        );
    let mut count = 0;
    for (institution, agreement) in institutions {
        let region = institution.pooling_region.to_string();
        client
            .put_institution(settlement::PutInstitutionRequest {
                request_id: format!("demo-institution-{}", institution.code),
                institution: Some(settlement::Institution {
                    code: institution.code.clone(),
                    name: institution.name.clone(),
                    region_code: region.clone(),
                    level: level_word(institution.level).into(),
                    institution_type: type_word(institution.institution_type).into(),
                    alliance_code: String::new(),
                }),
                effective_from: date(agreement.start),
                reason: "designated institution".into(),
            })
            .await?;
        client
            .put_agreement(settlement::PutAgreementRequest {
                request_id: format!("demo-agreement-{}", institution.code),
                region_code: region,
                institution_code: institution.code.clone(),
                agreement: Some(settlement::Agreement {
                    agreement_id: agreement.agreement_id.clone(),
                    valid_from: date(agreement.start),
                    valid_to: date(agreement.end),
                    status: "active".into(),
                }),
                reason: "service agreement".into(),
            })
            .await?;
        count += 1;
    }
    eprintln!("institutions: {count} registered with their agreements");
    Ok(())
}
