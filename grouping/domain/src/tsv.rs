//! Reading the scheme's TSV tables: UTF-8 without BOM, LF line ends, a fixed header, one TAB
//! between fields, no quoting. Every malformed row becomes a [`SchemeProblem`] with its line;
//! reading goes on so that one load reports every problem.

use crate::problem::SchemeProblem;

/// One data row of a TSV table: its 1-based line number (the header is line 1) and its fields.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub line: usize,
    pub fields: Vec<String>,
}

/// Parses `bytes` as a TSV table whose header must be exactly `header`.
///
/// Returns the well-formed rows; malformed rows are left out and reported in `problems`.
pub(crate) fn parse(
    file: &str,
    bytes: &[u8],
    header: &[&str],
    problems: &mut Vec<SchemeProblem>,
) -> Vec<Row> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            // Locate the bad byte so the message points at a line.
            let line = bytes[..error.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            problems.push(SchemeProblem::at(file, line, "invalid UTF-8"));
            return Vec::new();
        }
    };
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => {
            problems.push(SchemeProblem::at(
                file,
                1,
                "starts with a byte order mark (BOM); TSV files must be UTF-8 without BOM",
            ));
            rest
        }
        None => text,
    };
    if text.is_empty() {
        problems.push(SchemeProblem::at(
            file,
            1,
            "empty file: header line missing",
        ));
        return Vec::new();
    }
    let body = text.strip_suffix('\n').unwrap_or(text);
    let mut rows = Vec::new();
    for (index, raw) in body.split('\n').enumerate() {
        let line = index + 1;
        let (raw, had_cr) = match raw.strip_suffix('\r') {
            Some(stripped) => (stripped, true),
            None => (raw, false),
        };
        if had_cr {
            problems.push(SchemeProblem::at(
                file,
                line,
                "CRLF line end; TSV files use LF only",
            ));
            continue;
        }
        let fields: Vec<&str> = raw.split('\t').collect();
        if line == 1 {
            if fields != header {
                problems.push(SchemeProblem::at(
                    file,
                    1,
                    format!(
                        "header is {:?}, expected {:?}",
                        fields.join("\\t"),
                        header.join("\\t")
                    ),
                ));
                return Vec::new();
            }
            continue;
        }
        if fields.len() != header.len() {
            problems.push(SchemeProblem::at(
                file,
                line,
                format!(
                    "{} field(s), expected {} ({})",
                    fields.len(),
                    header.len(),
                    header.join(", ")
                ),
            ));
            continue;
        }
        rows.push(Row {
            line,
            fields: fields.into_iter().map(str::to_owned).collect(),
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bytes: &[u8]) -> (Vec<Row>, Vec<SchemeProblem>) {
        let mut problems = Vec::new();
        let rows = parse("t.tsv", bytes, &["code", "name"], &mut problems);
        (rows, problems)
    }

    #[test]
    fn reads_rows_with_line_numbers() {
        let (rows, problems) = run("code\tname\nA\t甲\nB\t\n".as_bytes());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[1].fields, vec!["B".to_owned(), String::new()]);
    }

    #[test]
    fn reports_bom_header_columns_and_crlf() {
        let (_, problems) = run(b"\xef\xbb\xbfcode\tname\nA\n");
        assert!(problems.iter().any(|p| p.message.contains("BOM")));
        assert!(
            problems
                .iter()
                .any(|p| p.line == Some(2) && p.message.contains("1 field"))
        );
        let (_, problems) = run(b"code\tlabel\nA\tB\n");
        assert!(problems[0].message.contains("header"));
        let (_, problems) = run(b"code\tname\r\nA\tB\n");
        assert!(problems[0].message.contains("CRLF"));
        let (_, problems) = run(b"code\tname\nA\t\xff\n");
        assert_eq!(problems[0].line, Some(2));
    }
}
