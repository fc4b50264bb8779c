//! Markdown for a ticket on GitHub or GitLab: the ticket report (`ticket`) in GitHub-flavoured
//! Markdown, long parts folded in `<details>`. Comments there are limited to 65,536
//! characters: the default listing stays well under that on any capture.
//!
//! Everything that came from the capture is escaped, so a hostile string renders as text.

use std::io::{self, Write};

use super::Report;
use super::ticket::{Limits, Markup, write_ticket};
use super::view::View;

/// Writes the whole Markdown report.
pub fn write_markdown(report: &Report, view: &View, out: &mut dyn Write) -> io::Result<()> {
    write_ticket(report, view, &GithubMarkdown, out)
}

/// GitHub-flavoured Markdown (GitLab reads it the same).
struct GithubMarkdown;

impl Markup for GithubMarkdown {
    fn escape(&self, text: &str) -> String {
        escape(text)
    }

    fn code(&self, text: &str) -> String {
        code(text)
    }

    fn bold(&self, text: &str) -> String {
        format!("**{text}**")
    }

    fn heading(&self, level: u8, text: &str) -> String {
        format!("{} {text}", "#".repeat(usize::from(level.clamp(1, 6))))
    }

    fn table(&self, header: &[&str], right: &[bool], rows: &[Vec<String>]) -> String {
        let mut text = format!("| {} |\n|", header.join(" | "));
        for (i, _) in header.iter().enumerate() {
            text.push_str(if right.get(i) == Some(&true) {
                "---:|"
            } else {
                "---|"
            });
        }
        text.push('\n');
        for row in rows {
            let cells: Vec<String> = row.iter().map(|cell| pipes_escaped(cell)).collect();
            text.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        text
    }

    fn numbered(&self, n: usize, first: &str, more: &[String]) -> String {
        let mut text = format!("{n}. {first}");
        for line in more {
            text.push_str(&format!("<br>\n   {line}"));
        }
        text
    }

    fn bullet(&self, text: &str) -> String {
        format!("- {text}")
    }

    fn note(&self, text: &str) -> String {
        format!("> {text}")
    }

    fn fold_open(&self, summary: &str) -> String {
        format!("<details><summary>{summary}</summary>")
    }

    fn fold_close(&self) -> String {
        "</details>".to_string()
    }

    fn limits(&self) -> Limits {
        Limits {
            groups_in_words: 3,
            groups_in_detail: 5,
            flows_in_full: 1,
            flows_in_rows: 10,
        }
    }
}

/// A table cell with every pipe escaped: GitHub ends a cell at a bare `|` even inside a code
/// span. Pipes `escape` already escaped (an odd run of backslashes before them) stay as they are.
fn pipes_escaped(cell: &str) -> String {
    let mut out = String::with_capacity(cell.len());
    let mut backslashes = 0;
    for c in cell.chars() {
        if c == '|' && backslashes % 2 == 0 {
            out.push('\\');
        }
        backslashes = if c == '\\' { backslashes + 1 } else { 0 };
        out.push(c);
    }
    out
}

/// Text that renders as itself in Markdown (and in the HTML Markdown may contain): HTML
/// special characters become entities, Markdown punctuation is backslash-escaped, and line
/// breaks become spaces so a table row stays one row.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    for (at, &c) in chars.iter().enumerate() {
        let word_char = |i: Option<usize>| {
            i.and_then(|i| chars.get(i))
                .is_some_and(|c| c.is_alphanumeric())
        };
        match c {
            // Inside a word (SO_KEEPALIVE) an underscore never starts emphasis: leave it.
            '_' if word_char(at.checked_sub(1)) && word_char(Some(at + 1)) => escaped.push(c),
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' => {
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

/// An inline code span that holds any text: backticks and line breaks cannot end it early.
pub fn code(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let fence = if clean.contains('`') { "`` " } else { "`" };
    let close = if clean.contains('`') { " ``" } else { "`" };
    format!("{fence}{}{close}", clean.replace("``", "` `"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_renders_as_text() {
        let text = escape("<script>alert(1)</script> | **bold** [link](x) `code`\nnext");
        assert!(!text.contains('<') && !text.contains('\n'), "{text}");
        assert!(text.contains("&lt;script&gt;"), "{text}");
        assert!(text.contains("\\|") && text.contains("\\*\\*") && text.contains("\\["));
        assert_eq!(escape("SO_KEEPALIVE _x_"), "SO_KEEPALIVE \\_x\\_");
    }

    #[test]
    fn code_spans_survive_backticks() {
        assert_eq!(code("a.pcap"), "`a.pcap`");
        assert_eq!(code("a`b.pcap"), "`` a`b.pcap ``");
    }

    #[test]
    fn pipes_in_cells_never_end_the_cell() {
        assert_eq!(pipes_escaped("`a|b`"), "`a\\|b`");
        assert_eq!(pipes_escaped(&escape("a|b")), "a\\|b");
    }
}
