//! Markdown text shared by the committed `CASES.md` and the run reports (`matrix.md`,
//! `differences.md`). It sits apart from both so neither imports the other.

/// `text` as one cell of a markdown table: a `|` would end the cell and a line break the row, so
/// the first is escaped and the second becomes a space.
pub fn table_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipes_and_line_breaks_cannot_break_the_table() {
        assert_eq!(table_cell("a | b\nc"), "a \\| b c");
        assert_eq!(table_cell("leaf → r3"), "leaf → r3");
    }
}
