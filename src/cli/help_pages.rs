//! `rstscope completions SHELL` and `rstscope man [COMMAND]`: shell completion scripts and
//! manual pages, both generated from the same clap definition as `--help`, so they cannot
//! drift from it.

use std::io::{self, Write};

use clap::CommandFactory;
use clap_complete::Shell;

use super::{Cli, Outcome};

/// Writes the completion script for `shell` to standard output.
pub(super) fn run_completions(shell: Shell) -> anyhow::Result<Outcome> {
    let mut cli = Cli::command();
    let mut out = io::stdout().lock();
    clap_complete::generate(shell, &mut cli, "rstscope", &mut out);
    out.flush()?;
    Ok(Outcome {
        warnings: Vec::new(),
        complete: true,
    })
}

/// Writes the manual page of rstscope, or of one of its commands (`rstscope-analyze(1)`), as
/// roff to standard output.
pub(super) fn run_man(command: Option<&str>) -> anyhow::Result<Outcome> {
    let mut out = io::stdout().lock();
    out.write_all(&man_page(command)?)?;
    out.flush()?;
    Ok(Outcome {
        warnings: Vec::new(),
        complete: true,
    })
}

/// The commands that have a page of their own, and the page's name.
pub(super) const PAGES: &[(&str, &str)] = &[
    ("analyze", "rstscope-analyze"),
    ("capture", "rstscope-capture"),
    ("compare", "rstscope-compare"),
    ("interfaces", "rstscope-interfaces"),
];

/// The roff text of the page.
pub(super) fn man_page(command: Option<&str>) -> anyhow::Result<Vec<u8>> {
    let mut cli = Cli::command();
    cli.build();
    let page = match command {
        None => cli,
        Some(name) => {
            let page = PAGES.iter().find(|(command, _)| *command == name);
            let sub = page.and_then(|(command, _)| cli.find_subcommand(command).cloned());
            let (Some((_, page)), Some(sub)) = (page, sub) else {
                let names: Vec<&str> = PAGES.iter().map(|(command, _)| *command).collect();
                anyhow::bail!(
                    "man {name}: no such command; pages exist for rstscope and for {}",
                    names.join(", ")
                );
            };
            sub.name(*page).bin_name(*page)
        }
    };
    let mut roff = Vec::new();
    clap_mangen::Man::new(page).render(&mut roff)?;
    Ok(roff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_page_that_names_it_and_its_options() {
        let main = String::from_utf8(man_page(None).unwrap()).unwrap();
        assert!(main.starts_with(".ie"), "roff: {}", &main[..40]);
        assert!(main.contains(".TH rstscope 1"), "{main}");
        for (name, _) in PAGES {
            assert!(main.contains(name), "the main page lists {name}");
        }
        let analyze = String::from_utf8(man_page(Some("analyze")).unwrap()).unwrap();
        assert!(analyze.contains(".TH rstscope-analyze 1"), "{analyze}");
        assert!(analyze.contains("\\-\\-filter"), "{analyze}");
        assert!(analyze.contains("EXAMPLES"), "the examples are in the page");
        let capture = String::from_utf8(man_page(Some("capture")).unwrap()).unwrap();
        assert!(capture.contains("\\-\\-duration"), "{capture}");
    }

    #[test]
    fn an_unknown_page_is_refused_with_the_list() {
        let err = man_page(Some("analyse")).unwrap_err().to_string();
        assert!(err.contains("analyze, capture, compare"), "{err}");
    }
}
