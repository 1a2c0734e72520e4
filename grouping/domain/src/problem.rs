//! What is wrong with a scheme: each problem with its file and line, and the error that lists
//! them all. The scheme loader and the TSV table reader both report here.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One thing wrong with a scheme: the file it is in, the 1-based line when it is a table row,
/// and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemeProblem {
    /// File name as named in `scheme.json` (or `scheme.json` itself).
    pub file: String,
    /// 1-based line (the header is line 1); `None` for problems not tied to one line.
    pub line: Option<usize>,
    /// What is wrong, lowercase, without trailing punctuation.
    pub message: String,
}

impl SchemeProblem {
    pub(crate) fn at(file: &str, line: usize, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line: Some(line),
            message: message.into(),
        }
    }

    pub(crate) fn in_file(file: &str, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for SchemeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// A scheme that cannot be used, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid DRG scheme ({} problem(s)): {}", .problems.len(), first_problems(.problems))]
pub struct SchemeError {
    /// Every problem found, in file order.
    pub problems: Vec<SchemeProblem>,
}

impl SchemeError {
    /// Stable machine-readable reason.
    pub fn reason(&self) -> &'static str {
        "INVALID_SCHEME"
    }
}

fn first_problems(problems: &[SchemeProblem]) -> String {
    let shown: Vec<String> = problems.iter().take(5).map(ToString::to_string).collect();
    let more = problems.len().saturating_sub(shown.len());
    if more > 0 {
        format!("{}; and {more} more", shown.join("; "))
    } else {
        shown.join("; ")
    }
}
