//! The rstscope binary: runs the command line, prints errors and warnings, sets the exit code.

use std::io::{self, Write};
use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    match cli::run() {
        Ok(outcome) => {
            for warning in &outcome.warnings {
                let _ = writeln!(io::stderr(), "rstscope: warning: {warning}");
            }
            if outcome.complete {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(3)
            }
        }
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let _ = writeln!(io::stderr(), "rstscope: {}", one_line(&err));
            ExitCode::from(1)
        }
    }
}

/// A closed stdout (e.g. `| head`) is not a failure.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// The error on one line. Every error rstscope raises carries its cause and its fix in its
/// own message, so only the outermost message is printed.
fn one_line(err: &anyhow::Error) -> String {
    err.to_string().replace('\n', " ")
}
