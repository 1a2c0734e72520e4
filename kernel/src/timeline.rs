//! Effective-dated versions looked up through the region hierarchy: the version in force on a
//! date is the latest one started by then, taken from the nearest region that has any (county,
//! then prefecture, then province). Grouping schemes and valuation tables are both chosen this
//! way, so a province that pools at province level publishes once for every county.

use crate::{Date, RegionCode};

/// The versions of one region and the regions containing it, each list ordered by the date it
/// takes effect.
#[derive(Clone, Debug)]
pub struct RegionalTimeline<T> {
    /// The region looked up, then its ancestors.
    regions: Vec<RegionCode>,
    per_region: Vec<Vec<(Date, T)>>,
}

impl<T> RegionalTimeline<T> {
    /// An empty timeline for `region`: it accepts versions of the region and of its ancestors.
    pub fn new(region: RegionCode) -> Self {
        let regions: Vec<RegionCode> = region.self_and_ancestors().collect();
        let per_region = regions.iter().map(|_| Vec::new()).collect();
        Self {
            regions,
            per_region,
        }
    }

    /// The regions whose versions count, nearest first (what a store reads).
    pub fn regions(&self) -> &[RegionCode] {
        &self.regions
    }

    /// Adds a version of `region` effective from `from`. Returns it back when `region` is neither
    /// the timeline's region nor one containing it. A version with the same region and date as
    /// an earlier one is placed after it, so the later addition wins.
    pub fn insert(&mut self, region: RegionCode, from: Date, version: T) -> Result<(), T> {
        let Some(slot) = self.regions.iter().position(|r| *r == region) else {
            return Err(version);
        };
        let versions = &mut self.per_region[slot];
        let at = versions.partition_point(|(start, _)| *start <= from);
        versions.insert(at, (from, version));
        Ok(())
    }

    /// The version in force on `on`, with the region that published it and its start.
    pub fn in_force_with_origin(&self, on: Date) -> Option<(RegionCode, Date, &T)> {
        self.regions
            .iter()
            .zip(&self.per_region)
            .find_map(|(region, versions)| {
                let started = versions.partition_point(|(from, _)| *from <= on);
                let (from, version) = versions.get(started.checked_sub(1)?)?;
                Some((*region, *from, version))
            })
    }

    /// The version in force on `on`.
    pub fn in_force(&self, on: Date) -> Option<&T> {
        self.in_force_with_origin(on).map(|(_, _, version)| version)
    }

    /// The first date on which any version is in force (to explain why none is on an earlier
    /// date).
    pub fn earliest(&self) -> Option<Date> {
        self.per_region
            .iter()
            .filter_map(|versions| versions.first().map(|(from, _)| *from))
            .min()
    }

    pub fn is_empty(&self) -> bool {
        self.per_region.iter().all(Vec::is_empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        text.parse().expect("date")
    }

    fn region(text: &str) -> RegionCode {
        text.parse().expect("region")
    }

    #[test]
    fn the_nearest_region_with_a_started_version_wins() {
        let mut timeline = RegionalTimeline::new(region("460105"));
        timeline
            .insert(region("460000"), date("2024-01-01"), "province")
            .expect("ancestor");
        timeline
            .insert(region("460105"), date("2025-07-01"), "county")
            .expect("self");
        timeline
            .insert(region("460105"), date("2025-01-01"), "county-early")
            .expect("self");
        assert_eq!(timeline.in_force(date("2023-12-31")), None);
        assert_eq!(timeline.in_force(date("2024-06-01")), Some(&"province"));
        assert_eq!(timeline.in_force(date("2025-01-01")), Some(&"county-early"));
        assert_eq!(timeline.in_force(date("2025-06-30")), Some(&"county-early"));
        assert_eq!(timeline.in_force(date("2025-07-01")), Some(&"county"));
        assert_eq!(
            timeline.in_force_with_origin(date("2024-06-01")),
            Some((region("460000"), date("2024-01-01"), &"province"))
        );
        assert_eq!(timeline.earliest(), Some(date("2024-01-01")));
    }

    #[test]
    fn a_version_of_another_branch_is_refused() {
        let mut timeline = RegionalTimeline::new(region("460105"));
        assert_eq!(
            timeline.insert(region("460200"), date("2024-01-01"), 1),
            Err(1)
        );
        assert!(timeline.is_empty());
        assert_eq!(
            timeline.regions(),
            [region("460105"), region("460100"), region("460000")]
        );
    }

    #[test]
    fn the_later_of_two_same_day_versions_wins() {
        let mut timeline = RegionalTimeline::new(region("460100"));
        timeline
            .insert(region("460100"), date("2025-01-01"), 1)
            .expect("self");
        timeline
            .insert(region("460100"), date("2025-01-01"), 2)
            .expect("self");
        assert_eq!(timeline.in_force(date("2025-01-01")), Some(&2));
    }
}
