//! The results table and number formatting.

/// One line of the table.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) figure: String,
    pub(crate) value: String,
    pub(crate) target: String,
    pub(crate) peer: String,
}

impl Row {
    pub(crate) fn new(
        figure: impl Into<String>,
        value: impl Into<String>,
        target: impl Into<String>,
        peer: impl Into<String>,
    ) -> Self {
        Self {
            figure: figure.into(),
            value: value.into(),
            target: target.into(),
            peer: peer.into(),
        }
    }
}

/// What a benchmark reports: rows of the table, notes printed under it
/// (diagnostics such as CPU use, which help to read the figures), and the
/// measurements that could not be made, with why (the others still are;
/// the process then exits 1 after printing the table).
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub(crate) rows: Vec<Row>,
    pub(crate) notes: Vec<String>,
    pub(crate) failures: Vec<String>,
}

impl Report {
    pub(crate) fn extend(&mut self, other: Report) {
        self.rows.extend(other.rows);
        self.notes.extend(other.notes);
        self.failures.extend(other.failures);
    }

    /// The markdown table, then the notes as a list.
    pub(crate) fn render(&self) -> String {
        let header = Row::new("figure", "value", "target", "peer");
        let cells = |r: &Row| {
            [
                r.figure.clone(),
                r.value.clone(),
                r.target.clone(),
                r.peer.clone(),
            ]
        };
        let mut widths = [0usize; 4];
        for row in std::iter::once(&header).chain(&self.rows) {
            for (w, c) in widths.iter_mut().zip(cells(row)) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |c: [String; 4]| {
            let padded: Vec<String> = c
                .iter()
                .zip(widths)
                .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
                .collect();
            format!("| {} |", padded.join(" | "))
        };
        let mut out = vec![line(cells(&header))];
        out.push(format!(
            "|{}|",
            widths
                .iter()
                .map(|w| "-".repeat(w + 2))
                .collect::<Vec<_>>()
                .join("|")
        ));
        out.extend(self.rows.iter().map(|r| line(cells(r))));
        if !self.notes.is_empty() {
            out.push(String::new());
            out.push("Notes:".to_owned());
            out.extend(self.notes.iter().map(|n| format!("- {n}")));
        }
        if !self.failures.is_empty() {
            out.push(String::new());
            out.push("Not measured:".to_owned());
            out.extend(self.failures.iter().map(|n| format!("- {n}")));
        }
        out.join("\n")
    }
}

/// `1234567.8` → `1,234,568`.
pub(crate) fn thousands(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_owned();
    }
    let n = v.round().abs() as u64;
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if v.round() < 0.0 {
        out.insert(0, '-');
    }
    out
}

/// `met` or `MISSED (why)`.
pub(crate) fn verdict(met: bool, why: &str) -> String {
    if met {
        "met".to_owned()
    } else if why.is_empty() {
        "MISSED".to_owned()
    } else {
        format!("MISSED ({why})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1_234_567.8), "1,234,568");
        assert_eq!(thousands(-61_000.0), "-61,000");
        assert_eq!(thousands(f64::NAN), "n/a");
    }

    #[test]
    fn table_is_aligned_markdown() {
        let report = Report {
            rows: vec![Row::new("a", "1", "—", "—")],
            notes: vec!["n".to_owned()],
            failures: Vec::new(),
        };
        let text = report.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "| figure | value | target | peer |");
        assert_eq!(lines[1], "|--------|-------|--------|------|");
        assert_eq!(lines[2], "| a      | 1     | —      | —    |");
        assert_eq!(lines[4], "Notes:");
    }
}
