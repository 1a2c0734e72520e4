//! The typed table document (`medpay.points.v1.PointsTableDocument`) read into the one
//! [`TableDocument`] the JSON document is read into, and written back from it.
//!
//! Reading starts every section from the defaults the JSON reader gives a missing key and writes
//! each field the message sets over them; a field the JSON requires is required here too. The
//! document read is then checked by the same checks as a JSON one ([`crate::convert`]). Writing
//! sets every field, so a document read back and put again stores the same document.

mod policy;
mod tables;

use std::collections::BTreeMap;

use kernel::{Date, Decimal, FundType, Money, Points, RegionCode};
use medpay_proto::common::v1 as common;
use medpay_proto::points::v1 as pb;
use platform::document_fields::{FieldReader as Reader, word_of};
use platform::wire::{self, Violation};
use points_domain::HospitalLevel;

use crate::store::TableKey;
use crate::table_choice::TableDocument;

/// Reads a typed document; every violation is named under `prefix` (`document`). Region, year
/// and fund the document fails to name take the request's, so that every other field is still
/// read and reported; the violation is kept.
pub fn document_from_wire(
    prefix: &str,
    given: &pb::PointsTableDocument,
    key: TableKey,
) -> Result<TableDocument, Vec<Violation>> {
    let mut read = Reader::new(prefix);
    let policy = match &given.policy {
        Some(typed) => Some(policy::from_wire(&mut read, typed, key)),
        None => {
            read.push("policy", "is required");
            None
        }
    };
    let tables = match &given.tables {
        Some(typed) => Some(tables::from_wire(&mut read, typed, key)),
        None => {
            read.push("tables", "is required");
            None
        }
    };
    let document = match (policy, tables) {
        (Some(policy), Some(tables)) => Some(TableDocument { policy, tables }),
        _ => None,
    };
    read.finish(document)
}

/// The typed form of a stored document, every field set.
pub fn document_to_wire(document: &TableDocument) -> pb::PointsTableDocument {
    pb::PointsTableDocument {
        policy: Some(policy::to_wire(&document.policy)),
        tables: Some(tables::to_wire(&document.tables)),
    }
}

/// What a points table document reads beyond the fields every typed document has.
trait TableFields {
    fn optional_decimal(
        &mut self,
        field: &str,
        given: Option<&common::Decimal>,
    ) -> Result<Option<Decimal>, ()>;
    fn points(&mut self, field: &str, given: Option<&common::Decimal>) -> Option<Points>;
    fn optional_points(
        &mut self,
        field: &str,
        given: Option<&common::Decimal>,
    ) -> Result<Option<Points>, ()>;
    fn optional_money(
        &mut self,
        field: &str,
        given: Option<&common::Money>,
    ) -> Result<Option<Money>, ()>;
    fn date(&mut self, field: &str, given: Option<&common::Date>) -> Option<Date>;
    fn level(&mut self, field: &str, code: &str) -> Option<HospitalLevel>;
    fn key(
        &mut self,
        section: &str,
        region: &str,
        fund: i32,
        key: TableKey,
    ) -> (RegionCode, FundType);
}

impl TableFields for Reader {
    /// A decimal that may be unset (`None`); `Err(())` when set and unreadable.
    fn optional_decimal(
        &mut self,
        field: &str,
        given: Option<&common::Decimal>,
    ) -> Result<Option<Decimal>, ()> {
        match given {
            None => Ok(None),
            Some(_) => self.decimal(field, given).map(Some).ok_or(()),
        }
    }

    fn points(&mut self, field: &str, given: Option<&common::Decimal>) -> Option<Points> {
        let full = self.path(field);
        match wire::points(&full, given) {
            Ok(points) => Some(points),
            Err((_, description)) => {
                self.push(field, description);
                None
            }
        }
    }

    fn optional_points(
        &mut self,
        field: &str,
        given: Option<&common::Decimal>,
    ) -> Result<Option<Points>, ()> {
        match given {
            None => Ok(None),
            Some(_) => self.points(field, given).map(Some).ok_or(()),
        }
    }

    fn optional_money(
        &mut self,
        field: &str,
        given: Option<&common::Money>,
    ) -> Result<Option<Money>, ()> {
        match given {
            None => Ok(None),
            Some(_) => self.money(field, given).map(Some).ok_or(()),
        }
    }

    fn date(&mut self, field: &str, given: Option<&common::Date>) -> Option<Date> {
        let full = self.path(field);
        match wire::required_date(&full, given) {
            Ok(date) => Some(date),
            Err((_, description)) => {
                self.push(field, description);
                None
            }
        }
    }

    fn level(&mut self, field: &str, code: &str) -> Option<HospitalLevel> {
        let level = HospitalLevel::from_code(code);
        if level.is_none() {
            self.push(
                field,
                format!("{code:?} is not a hospital level (3A, 3B, 2A, 2B, 1, community)"),
            );
        }
        level
    }

    /// The region, year and fund a document section names; the request's where unreadable.
    fn key(
        &mut self,
        section: &str,
        region: &str,
        fund: i32,
        key: TableKey,
    ) -> (RegionCode, FundType) {
        let region = self
            .keep(
                &format!("{section}.region"),
                region
                    .parse::<RegionCode>()
                    .map_err(|e| format!("{region:?} is not a region code: {e}")),
            )
            .unwrap_or(key.region);
        let field = format!("{section}.fund_type");
        let fund = match wire::fund_type(&field, fund) {
            Ok(fund) => fund,
            Err((_, description)) => {
                self.push(&field, description);
                key.fund
            }
        };
        (region, fund)
    }
}

/// A map's entries in key order (the wire maps are ordered), so violations come in a stable
/// order.
fn sorted<V>(map: &BTreeMap<String, V>) -> std::collections::btree_map::Iter<'_, String, V> {
    map.iter()
}

fn decimal_to_wire(value: Decimal) -> Option<common::Decimal> {
    Some(wire::decimal_to_wire(value))
}

/// Money at the fen, so an amount renders alike however it was made (a default zero included,
/// and in documents stored before defaults were put at the fen).
fn money_to_wire(value: Money) -> Option<common::Money> {
    Some(wire::money_to_wire(crate::table_choice::at_fen(value)))
}
