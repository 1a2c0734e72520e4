//! Horizontal bar charts as inline SVG, escaping and number formatting for the report. Lengths
//! are computed in `Decimal` like every figure they draw, so a bar is exactly as long as its
//! value says, to the hundredth of a pixel.

use std::fmt::Write as _;

use kernel::Decimal;

/// Left column for the category labels.
const LABEL_WIDTH: Decimal = Decimal::from_parts(400, 0, 0, false, 0);
/// The plotting area the longest bar fills.
pub const PLOT_WIDTH: Decimal = Decimal::from_parts(400, 0, 0, false, 0);
/// Right column for the printed values.
const VALUE_WIDTH: u32 = 170;
const BAR_HEIGHT: u32 = 14;
const BAR_GAP: u32 = 2;
const ROW_GAP: u32 = 8;
const LEGEND_HEIGHT: u32 = 22;

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

/// A decimal's own digits with thousands separated by commas: `-1234567.80` → `-1,234,567.80`.
/// Nothing is rounded: the figure reads exactly as the summary and the CSV files print it.
pub fn grouped(value: impl std::fmt::Display) -> String {
    let text = value.to_string();
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let mut out = String::from(sign);
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// One category of a chart: its label and a value per series, already formatted for print.
#[derive(Clone, Debug)]
pub struct Bar {
    pub label: String,
    pub values: Vec<(Decimal, String)>,
}

/// A chart: categories down, one bar per series in each.
#[derive(Clone, Debug)]
pub struct BarChart {
    /// The chart's id in the page.
    pub id: &'static str,
    pub title: String,
    pub series: Vec<String>,
    pub bars: Vec<Bar>,
}

/// The one place a value becomes a length: |value| / span × the plotting width, to 0.01 px.
pub fn bar_length(value: Decimal, span: Decimal) -> Decimal {
    if span.is_zero() {
        return Decimal::ZERO;
    }
    (value.abs() * PLOT_WIDTH / span).round_dp(2)
}

impl BarChart {
    fn marks(&self) -> usize {
        self.bars.iter().map(|b| b.values.len()).sum()
    }

    /// The chart as an `<svg>` element. Negative values draw left of the zero line.
    pub fn svg(&self) -> String {
        let series = u32::try_from(self.series.len().max(1)).unwrap_or(1);
        let row = series * (BAR_HEIGHT + BAR_GAP) + ROW_GAP;
        let rows = u32::try_from(self.bars.len()).unwrap_or(u32::MAX);
        let height = LEGEND_HEIGHT + rows.saturating_mul(row) + ROW_GAP;
        let width = LABEL_WIDTH + PLOT_WIDTH + Decimal::from(VALUE_WIDTH);
        let values = self.bars.iter().flat_map(|b| b.values.iter().map(|v| v.0));
        let low = values.clone().fold(Decimal::ZERO, Decimal::min);
        let high = values.fold(Decimal::ZERO, Decimal::max);
        let span = high - low;
        let zero = LABEL_WIDTH + bar_length(low, span);

        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg class="chart" id="{id}" data-bars="{marks}" role="img" aria-labelledby="{id}-title" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}"><title id="{id}-title">{title}</title>"#,
            id = self.id,
            marks = self.marks(),
            title = escape(&self.title),
        );
        let mut legend_x = LABEL_WIDTH;
        for (i, name) in self.series.iter().enumerate() {
            let _ = write!(
                svg,
                r#"<rect class="key s{i}" x="{legend_x}" y="4" width="12" height="12"/><text x="{}" y="14">{}</text>"#,
                legend_x + Decimal::from(16),
                escape(name)
            );
            legend_x += Decimal::from(16 + 9 * name.chars().count().min(40) as u32);
        }
        let _ = write!(
            svg,
            r#"<line class="axis" x1="{zero}" y1="{LEGEND_HEIGHT}" x2="{zero}" y2="{}"/>"#,
            height - ROW_GAP
        );
        for (r, bar) in (0..).zip(&self.bars) {
            let top = LEGEND_HEIGHT + r * row + ROW_GAP / 2;
            let label_y = top + (row - ROW_GAP) / 2 + 4;
            let _ = write!(
                svg,
                r#"<text class="label" x="{}" y="{label_y}" text-anchor="end">{}</text>"#,
                LABEL_WIDTH - Decimal::from(8),
                escape(&bar.label)
            );
            for (s, (value, printed)) in (0..).zip(&bar.values) {
                let length = bar_length(*value, span);
                let x = if value.is_sign_negative() {
                    zero - length
                } else {
                    zero
                };
                let y = top + s * (BAR_HEIGHT + BAR_GAP);
                let series = self.series.get(s as usize).map_or("", String::as_str);
                let _ = write!(
                    svg,
                    r#"<rect class="bar s{s}" x="{x}" y="{y}" width="{length}" height="{BAR_HEIGHT}" data-value="{value}"><title>{}</title></rect><text class="value" x="{}" y="{}">{}</text>"#,
                    escape(&format!("{} · {series}: {printed}", bar.label)),
                    LABEL_WIDTH + PLOT_WIDTH + Decimal::from(6),
                    y + BAR_HEIGHT - 3,
                    escape(printed)
                );
            }
        }
        svg.push_str("</svg>");
        svg
    }
}
