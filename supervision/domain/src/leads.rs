//! Leads (线索): complaints and reports from the public (举报投诉: the 12393 medical-security
//! hotline, the 12345 government hotline, letters, the web mailbox, visits), recorded against a
//! region and, when the reporter names one, a hospital, and linked to the findings that followed
//! them up.

use kernel::{Date, RegionCode};

/// How a lead came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LeadChannel {
    /// 12393 医保服务热线.
    Hotline12393,
    /// 12345 政务服务热线.
    Hotline12345,
    /// 网上投诉举报信箱.
    Online,
    Letter,
    Visit,
    Other,
}

impl LeadChannel {
    pub const ALL: [LeadChannel; 6] = [
        LeadChannel::Hotline12393,
        LeadChannel::Hotline12345,
        LeadChannel::Online,
        LeadChannel::Letter,
        LeadChannel::Visit,
        LeadChannel::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LeadChannel::Hotline12393 => "hotline_12393",
            LeadChannel::Hotline12345 => "hotline_12345",
            LeadChannel::Online => "online",
            LeadChannel::Letter => "letter",
            LeadChannel::Visit => "visit",
            LeadChannel::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// A recorded lead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lead {
    pub lead_id: String,
    pub region: RegionCode,
    pub channel: LeadChannel,
    pub received_on: Date,
    /// The hospital the reporter names; empty when none.
    pub hospital_code: String,
    pub summary: String,
    pub recorded_by: String,
    /// The findings it was linked to, in the order linked.
    pub finding_ids: Vec<String>,
}

/// Why a lead cannot be linked to a finding.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error(
        "lead {lead_id} names hospital {lead_hospital}; finding {finding_id} is on hospital {finding_hospital}"
    )]
    OtherHospital {
        lead_id: String,
        lead_hospital: String,
        finding_id: String,
        finding_hospital: String,
    },
    #[error("lead {lead_id} is linked to finding {finding_id} already")]
    AlreadyLinked { lead_id: String, finding_id: String },
}

impl Lead {
    /// Links the finding (on `finding_hospital`) to the lead: a lead naming a hospital follows
    /// up only that hospital's findings, and each finding once.
    pub fn link(&mut self, finding_id: &str, finding_hospital: &str) -> Result<(), LinkError> {
        if !self.hospital_code.is_empty() && self.hospital_code != finding_hospital {
            return Err(LinkError::OtherHospital {
                lead_id: self.lead_id.clone(),
                lead_hospital: self.hospital_code.clone(),
                finding_id: finding_id.to_owned(),
                finding_hospital: finding_hospital.to_owned(),
            });
        }
        if self.finding_ids.iter().any(|f| f == finding_id) {
            return Err(LinkError::AlreadyLinked {
                lead_id: self.lead_id.clone(),
                finding_id: finding_id.to_owned(),
            });
        }
        self.finding_ids.push(finding_id.to_owned());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead(hospital: &str) -> Lead {
        Lead {
            lead_id: "L1".into(),
            region: "460100".parse().expect("region"),
            channel: LeadChannel::Hotline12393,
            received_on: Date::new(2025, 3, 1).expect("date"),
            hospital_code: hospital.into(),
            summary: "重复收费".into(),
            recorded_by: "bureau".into(),
            finding_ids: Vec::new(),
        }
    }

    #[test]
    fn a_lead_naming_a_hospital_links_only_that_hospitals_findings_once() {
        let mut named = lead("H1");
        assert!(matches!(
            named.link("F9", "H2"),
            Err(LinkError::OtherHospital { .. })
        ));
        named.link("F1", "H1").expect("own hospital");
        assert!(matches!(
            named.link("F1", "H1"),
            Err(LinkError::AlreadyLinked { .. })
        ));
        assert_eq!(named.finding_ids, ["F1"]);
        let mut anonymous = lead("");
        anonymous.link("F9", "H2").expect("no hospital named");
    }

    #[test]
    fn channels_read_back_from_their_codes() {
        for channel in LeadChannel::ALL {
            assert_eq!(LeadChannel::parse(channel.as_str()), Some(channel));
        }
        assert_eq!(LeadChannel::parse("12393"), None);
    }
}
