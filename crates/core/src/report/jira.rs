//! Jira wiki markup for Jira (Server, Data Center, and Cloud's wiki-markup field renderer),
//! Confluence's wiki import and ServiceNow: the same ticket report as the Markdown, in the
//! notation those read (`h2.`, `||header||`, `*bold*`, `{{monospace}}`). It cannot fold, and a
//! Jira comment holds at most 32,767 characters by default, so it lists less than Markdown.
//!
//! Markup characters that came from the capture are backslash-escaped; a backslash itself
//! becomes `&#92;`, as pandoc's Jira writer does, since `\\` is a line break.

use std::io::{self, Write};

use super::Report;
use super::ticket::{Limits, Markup, write_ticket};
use super::view::View;

/// Writes the whole report in Jira wiki markup.
pub fn write_jira(report: &Report, view: &View, out: &mut dyn Write) -> io::Result<()> {
    write_ticket(report, view, &JiraWiki, out)
}

struct JiraWiki;

impl Markup for JiraWiki {
    fn escape(&self, text: &str) -> String {
        escape(text)
    }

    fn code(&self, text: &str) -> String {
        let text = escape(text);
        if text.is_empty() {
            String::new()
        } else {
            format!("{{{{{text}}}}}")
        }
    }

    fn bold(&self, text: &str) -> String {
        format!("*{text}*")
    }

    fn heading(&self, level: u8, text: &str) -> String {
        format!("h{}. {text}", level.clamp(1, 6))
    }

    fn table(&self, header: &[&str], _right: &[bool], rows: &[Vec<String>]) -> String {
        let mut text = format!("||{}||\n", header.join("||"));
        for row in rows {
            // An empty cell would merge with its neighbour: write a space.
            let cells: Vec<&str> = row
                .iter()
                .map(|cell| if cell.is_empty() { " " } else { cell.as_str() })
                .collect();
            text.push_str(&format!("|{}|\n", cells.join("|")));
        }
        text
    }

    fn numbered(&self, n: usize, first: &str, more: &[String]) -> String {
        // Jira numbers the items itself; a forced line break keeps the item's lines in it.
        let _ = n;
        let mut text = format!("# {first}");
        for line in more {
            text.push_str(&format!(" \\\\ {line}"));
        }
        text
    }

    fn bullet(&self, text: &str) -> String {
        format!("* {text}")
    }

    fn note(&self, text: &str) -> String {
        format!("bq. {text}")
    }

    fn fold_open(&self, _summary: &str) -> String {
        String::new()
    }

    fn fold_close(&self) -> String {
        String::new()
    }

    fn limits(&self) -> Limits {
        Limits {
            groups_in_words: 3,
            groups_in_detail: 3,
            flows_in_full: 1,
            flows_in_rows: 5,
        }
    }
}

/// Text that renders as itself in Jira wiki markup.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("&#92;"),
            '*' | '_' | '?' | '-' | '+' | '^' | '~' | '{' | '}' | '[' | ']' | '|' | '!' | '#' => {
                escaped.push('\\');
                escaped.push(c);
            }
            '\n' | '\r' | '\t' => escaped.push(' '),
            c if c.is_control() => escaped.push('\u{fffd}'),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_from_a_capture_renders_as_text() {
        assert_eq!(escape("a|b *c* {code}"), "a\\|b \\*c\\* \\{code\\}");
        assert_eq!(escape("C:\\temp"), "C:&#92;temp");
        assert_eq!(escape("x\ny"), "x y");
        assert_eq!(JiraWiki.code("ShADadr"), "{{ShADadr}}");
    }

    #[test]
    fn tables_keep_their_columns() {
        let table = JiraWiki.table(&["A", "B"], &[], &[vec![String::new(), "x".to_string()]]);
        assert_eq!(table, "||A||B||\n| |x|\n");
    }
}
