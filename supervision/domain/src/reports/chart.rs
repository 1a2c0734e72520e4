//! Inline SVG charts for the HTML report: horizontal bars (hospitals, regions, rules) and a
//! line per series over the months (the trend). Every length is computed in `Decimal` in
//! [`scaled`] and written to the hundredth of a pixel, so a mark is exactly as long as its
//! value says.

use std::fmt::Write as _;

use kernel::Decimal;

const LABEL_WIDTH: u32 = 300;
const PLOT_WIDTH: u32 = 420;
const VALUE_WIDTH: u32 = 170;
const BAR_HEIGHT: u32 = 14;
const BAR_GAP: u32 = 2;
const ROW_GAP: u32 = 8;
const LEGEND_HEIGHT: u32 = 22;
const LINE_HEIGHT: u32 = 220;
const LINE_MARGIN: u32 = 40;

/// Text for HTML and SVG alike: every character that could open markup or close an attribute
/// is replaced by its entity.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The one place a value becomes a length: |value| / span × `extent`, to 0.01 px.
pub fn scaled(value: Decimal, span: Decimal, extent: u32) -> Decimal {
    let mut length = if span.is_zero() {
        Decimal::ZERO
    } else {
        (value.abs() * Decimal::from(extent) / span).round_dp(2)
    };
    // Always two places in the markup, so equal lengths read equally.
    length.rescale(2);
    length
}

/// A series: its name and one value per category, with the value as printed.
#[derive(Clone, Debug)]
pub struct Series {
    pub name: String,
    pub values: Vec<(Decimal, String)>,
}

/// A chart of categories (hospitals, months, rules) and one or more series over them.
#[derive(Clone, Debug)]
pub struct Chart {
    /// The chart's id in the page.
    pub id: &'static str,
    pub title: String,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
}

impl Chart {
    fn marks(&self) -> usize {
        self.series.iter().map(|s| s.values.len()).sum()
    }

    fn open(&self, kind: &str, width: u32, height: u32) -> String {
        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg class="chart {kind}" id="{id}" data-marks="{marks}" role="img" aria-labelledby="{id}-title" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}"><title id="{id}-title">{title}</title>"#,
            id = self.id,
            marks = self.marks(),
            title = escape(&self.title),
        );
        let mut x = if kind == "bars" {
            LABEL_WIDTH
        } else {
            LINE_MARGIN
        };
        for (i, series) in self.series.iter().enumerate() {
            let _ = write!(
                svg,
                r#"<rect class="key s{i}" x="{x}" y="4" width="12" height="12"/><text x="{}" y="14">{}</text>"#,
                x + 16,
                escape(&series.name)
            );
            x += 24 + 8 * u32::try_from(series.name.chars().count().min(40)).unwrap_or(40);
        }
        svg
    }

    /// Horizontal bars: a row per category, a bar per series in it (values are not negative).
    pub fn bars(&self) -> String {
        let series = u32::try_from(self.series.len().max(1)).unwrap_or(1);
        let row = series * (BAR_HEIGHT + BAR_GAP) + ROW_GAP;
        let rows = u32::try_from(self.categories.len()).unwrap_or(u32::MAX);
        let height = LEGEND_HEIGHT + rows.saturating_mul(row) + ROW_GAP;
        let width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH;
        let mut svg = self.open("bars", width, height);
        let _ = write!(
            svg,
            r#"<line class="axis" x1="{LABEL_WIDTH}" y1="{LEGEND_HEIGHT}" x2="{LABEL_WIDTH}" y2="{}"/>"#,
            height - ROW_GAP
        );
        for (r, label) in (0u32..).zip(&self.categories) {
            let top = LEGEND_HEIGHT + r * row + ROW_GAP / 2;
            let _ = write!(
                svg,
                r#"<text class="label" x="{}" y="{}" text-anchor="end">{}</text>"#,
                LABEL_WIDTH - 8,
                top + (row - ROW_GAP) / 2 + 4,
                escape(label)
            );
            for (s, serie) in (0u32..).zip(&self.series) {
                let Some((value, printed)) = serie.values.get(r as usize) else {
                    continue;
                };
                let high = serie
                    .values
                    .iter()
                    .map(|v| v.0)
                    .fold(Decimal::ZERO, Decimal::max);
                let length = scaled(*value, high, PLOT_WIDTH);
                let y = top + s * (BAR_HEIGHT + BAR_GAP);
                let _ = write!(
                    svg,
                    r#"<rect class="mark bar s{s}" x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" data-value="{value}"><title>{}</title></rect><text class="value" x="{}" y="{}">{}</text>"#,
                    escape(&format!("{label} · {}: {printed}", serie.name)),
                    LABEL_WIDTH + PLOT_WIDTH + 6,
                    y + BAR_HEIGHT - 3,
                    escape(printed)
                );
            }
        }
        svg.push_str("</svg>");
        svg
    }

    /// A line per series over the categories (months), each on its own scale from zero to its
    /// highest value, with a point per value.
    pub fn lines(&self) -> String {
        let count = u32::try_from(self.categories.len().max(1)).unwrap_or(1);
        let step = PLOT_WIDTH / count;
        let width = 2 * LINE_MARGIN + PLOT_WIDTH;
        let height = LEGEND_HEIGHT + LINE_HEIGHT + LINE_MARGIN;
        let base = LEGEND_HEIGHT + LINE_HEIGHT;
        let mut svg = self.open("lines", width, height);
        let _ = write!(
            svg,
            r#"<line class="axis" x1="{LINE_MARGIN}" y1="{base}" x2="{}" y2="{base}"/>"#,
            LINE_MARGIN + PLOT_WIDTH
        );
        let x_of = |i: u32| LINE_MARGIN + step / 2 + i * step;
        for (i, label) in (0u32..).zip(&self.categories) {
            let _ = write!(
                svg,
                r#"<text class="label" x="{}" y="{}" text-anchor="middle">{}</text>"#,
                x_of(i),
                base + 16,
                escape(label)
            );
        }
        for (s, serie) in (0u32..).zip(&self.series) {
            let high = serie
                .values
                .iter()
                .map(|v| v.0)
                .fold(Decimal::ZERO, Decimal::max);
            let points: Vec<(u32, Decimal)> = (0u32..)
                .zip(&serie.values)
                .map(|(i, (value, _))| {
                    (
                        x_of(i),
                        Decimal::from(base) - scaled(*value, high, LINE_HEIGHT - 20),
                    )
                })
                .collect();
            let path: Vec<String> = points.iter().map(|(x, y)| format!("{x},{y}")).collect();
            let _ = write!(
                svg,
                r#"<polyline class="line s{s}" fill="none" points="{}"/>"#,
                path.join(" ")
            );
            for ((x, y), (label, (value, printed))) in
                points.iter().zip(self.categories.iter().zip(&serie.values))
            {
                let _ = write!(
                    svg,
                    r#"<circle class="mark point s{s}" cx="{x}" cy="{y}" r="4" data-value="{value}"><title>{}</title></circle>"#,
                    escape(&format!("{label} · {}: {printed}", serie.name)),
                );
            }
        }
        svg.push_str("</svg>");
        svg
    }
}
