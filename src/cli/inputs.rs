//! Which of `analyze`'s words are files and which a filter, as tcpdump reads them.
//!
//! With `-r FILE` (repeatable) every other word is the BPF filter: `analyze -r x.pcap port 80`.
//! Without it the first word is a file, and so is every word after it that exists; from the
//! first one that does not, the rest is the filter if it compiles as one (`analyze x.pcap port
//! 80`), and otherwise that word is a missing file, reported as such when the inputs are
//! checked. `-` (standard input) counts as a file that exists.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use rstscope_core::source::check_filter;

/// The files to read and the filter, from `-r`'s files, the positional words and `--filter`.
pub(super) fn files_and_filter(
    read: Vec<PathBuf>,
    words: Vec<OsString>,
    flag: Option<String>,
) -> anyhow::Result<(Vec<PathBuf>, Option<String>)> {
    let exists = |path: &Path| path.as_os_str() == "-" || path.exists();
    let compiles = |expr: &str| check_filter(expr).is_ok();
    let (files, trailing) = split(read, words, &exists, &compiles)?;
    let filter = match (flag, trailing) {
        (Some(flag), Some(trailing)) => anyhow::bail!(
            "two filters, --filter '{flag}' and '{trailing}' after the files; give one (the words after the files are a filter, as in tcpdump)"
        ),
        (flag, trailing) => flag.or(trailing),
    };
    if files.iter().filter(|path| path.as_os_str() == "-").count() > 1 {
        anyhow::bail!(
            "-: standard input is named twice, and it can be read only once; name it once"
        );
    }
    Ok((files, filter))
}

/// Splits the words into files and a trailing filter.
fn split(
    read: Vec<PathBuf>,
    words: Vec<OsString>,
    exists: &dyn Fn(&Path) -> bool,
    compiles: &dyn Fn(&str) -> bool,
) -> anyhow::Result<(Vec<PathBuf>, Option<String>)> {
    if !read.is_empty() {
        if words.is_empty() {
            return Ok((read, None));
        }
        let filter = filter_text(&words)?;
        if !compiles(&filter) && exists(Path::new(&words[0])) {
            let file = Path::new(&words[0]).display();
            anyhow::bail!(
                "{file}: a file after -r FILE, where the words after the options are a BPF filter; give it as -r {file} too, or name every file without -r"
            );
        }
        return Ok((read, Some(filter)));
    }
    let first_missing = words
        .iter()
        .skip(1)
        .position(|word| !exists(Path::new(word)))
        .map(|at| at + 1);
    let as_files = |words: &[OsString]| words.iter().map(PathBuf::from).collect::<Vec<_>>();
    if let Some(at) = first_missing
        && let Ok(filter) = filter_text(&words[at..])
        && compiles(&filter)
    {
        return Ok((as_files(&words[..at]), Some(filter)));
    }
    Ok((as_files(&words), None))
}

/// The words of a filter as one expression.
fn filter_text(words: &[OsString]) -> anyhow::Result<String> {
    let words: Option<Vec<&str>> = words.iter().map(|word| word.to_str()).collect();
    match words {
        Some(words) => Ok(words.join(" ")),
        None => anyhow::bail!(
            "the filter is not UTF-8 text; write it as for tcpdump, e.g. 'tcp port 443'"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Files that exist in these tests, and filters that compile (a stand-in for libpcap).
    fn exists(path: &Path) -> bool {
        ["a.pcap", "b.pcap.gz", "-"].contains(&path.to_str().unwrap_or_default())
    }

    fn compiles(expr: &str) -> bool {
        ["port 8000", "tcp", "tcp and port 443"].contains(&expr)
    }

    fn words(text: &str) -> Vec<OsString> {
        text.split_whitespace().map(OsString::from).collect()
    }

    fn paths(text: &str) -> Vec<PathBuf> {
        text.split_whitespace().map(PathBuf::from).collect()
    }

    fn split_of(read: &str, positional: &str) -> (Vec<PathBuf>, Option<String>) {
        split(paths(read), words(positional), &exists, &compiles)
            .unwrap_or_else(|err| panic!("{read} / {positional}: {err}"))
    }

    #[test]
    fn with_r_every_word_is_the_filter() {
        assert_eq!(
            split_of("a.pcap", "port 8000"),
            (paths("a.pcap"), Some("port 8000".into()))
        );
        assert_eq!(split_of("a.pcap -", ""), (paths("a.pcap -"), None));
        // Not compiled here: each file compiles it for its own link type.
        assert_eq!(
            split_of("a.pcap", "wlan host 1"),
            (paths("a.pcap"), Some("wlan host 1".into()))
        );
    }

    #[test]
    fn with_r_a_file_among_the_filter_words_is_named() {
        let err = split(paths("a.pcap"), words("b.pcap.gz"), &exists, &compiles)
            .err()
            .map(|err| err.to_string())
            .unwrap_or_default();
        assert!(err.starts_with("b.pcap.gz: a file after -r FILE"), "{err}");
        assert!(err.contains("-r b.pcap.gz"), "{err}");
    }

    #[test]
    fn without_r_the_words_after_the_files_are_the_filter_when_they_compile() {
        assert_eq!(
            split_of("", "a.pcap b.pcap.gz"),
            (paths("a.pcap b.pcap.gz"), None)
        );
        assert_eq!(
            split_of("", "a.pcap b.pcap.gz tcp and port 443"),
            (paths("a.pcap b.pcap.gz"), Some("tcp and port 443".into()))
        );
        assert_eq!(
            split_of("", "- port 8000"),
            (paths("-"), Some("port 8000".into()))
        );
        // The first word is a file even when it compiles as a filter.
        assert_eq!(split_of("", "tcp"), (paths("tcp"), None));
    }

    #[test]
    fn without_r_a_tail_that_is_no_filter_is_a_missing_file() {
        assert_eq!(
            split_of("", "a.pcap missing.pcap"),
            (paths("a.pcap missing.pcap"), None)
        );
        assert_eq!(
            split_of("", "a.pcap port 8000 b.pcap.gz"),
            (paths("a.pcap port 8000 b.pcap.gz"), None)
        );
    }
}
