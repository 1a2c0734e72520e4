//! The monitoring indicators section: each hospital's CMI, average length of stay, mean cost
//! and readmission rate over the year, as the supervision reports service computed them, in a
//! table and two charts.

use kernel::Decimal;

use super::chart::{Bar, BarChart, grouped};
use super::{Report, chart_block, table};
use crate::demo::bureau::HospitalIndicators;

/// A figure as the service wrote it, or a dash where the data did not support it.
fn cell(value: Option<Decimal>) -> String {
    value.map_or_else(|| "–".to_owned(), grouped)
}

impl Report<'_> {
    fn hospital_label(&self, code: &str) -> String {
        match self.roster.institutions.get(code) {
            Some(entry) => format!("{code} {}", entry.name),
            None => code.to_owned(),
        }
    }

    pub(super) fn indicators(&self) -> String {
        let hospitals = &self.screening.indicators;
        let mut html = format!(
            "<h2>Monitoring indicators 监测指标</h2><p>{} hospitals over the year (GetIndicators): \
             CMI 病例组合指数 on the group weights, average length of stay 平均住院日, mean cost \
             次均费用 and the readmission rate 再入院率. A dash: the hospital's data does not \
             support the indicator.</p>",
            grouped(hospitals.len())
        );
        let rows: Vec<Vec<String>> = hospitals
            .iter()
            .map(|h| {
                vec![
                    self.hospital_label(&h.hospital),
                    cell(h.cmi),
                    cell(h.average_length_of_stay),
                    cell(h.mean_cost),
                    cell(h.readmission_rate),
                ]
            })
            .collect();
        html.push_str(&table(
            &[
                "hospital 医疗机构",
                "CMI",
                "ALOS 平均住院日",
                "mean cost 次均费用",
                "readmission 再入院率",
            ],
            &rows,
            1,
            false,
        ));
        let chart =
            |id: &'static str, title: &str, value: fn(&HospitalIndicators) -> Option<Decimal>| {
                BarChart {
                    id,
                    title: title.into(),
                    series: vec![title.into()],
                    bars: hospitals
                        .iter()
                        .filter_map(|h| {
                            value(h).map(|v| Bar {
                                label: self.hospital_label(&h.hospital),
                                values: vec![(v, grouped(v))],
                            })
                        })
                        .collect(),
                }
            };
        for chart in [
            chart(
                "indicators-mean-cost",
                "Mean cost per hospital 次均费用",
                |h| h.mean_cost,
            ),
            chart("indicators-cmi", "CMI per hospital 病例组合指数", |h| h.cmi),
        ] {
            // A chart without a bar would announce nothing to draw.
            if !chart.bars.is_empty() {
                html.push_str(&chart_block(&chart));
            }
        }
        html
    }
}
