//! Reading files and data safely: what can go wrong reading a file, turning its bytes
//! into text (UTF-8, a byte order mark dropped), and the bounds every read keeps so that
//! no input makes a build hang or take unbounded memory.

use dagf_diag::{Code, Diagnostic, FileId, Sources, Span};
use std::fmt;
use std::time::Duration;

/// The largest config file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// The largest `.dagf` file read, in bytes: each byte of source may become a token of
/// some 50 bytes in memory (a project's sources are a few hundred kilobytes).
pub const MAX_SOURCE_BYTES: u64 = 16 << 20;

/// How long a SQLite query may run, how many rows and how many bytes of data it may
/// give, unless the source says otherwise.
pub const SQL_TIMEOUT: Duration = Duration::from_secs(5);
/// See [`SQL_TIMEOUT`].
pub const SQL_MAX_ROWS: u64 = 100_000;
/// See [`SQL_TIMEOUT`]; also the bound on an HTTP answer.
pub const MAX_DATA_BYTES: u64 = 64 << 20;

/// The bounds on one SQLite query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SqlLimits {
    /// How long the query may run (a source's `timeout = ...`; 5s unless set).
    pub timeout: Duration,
    /// How many rows it may give (`max_rows = ...`; 100000 unless set).
    pub max_rows: u64,
    /// The text and numbers of every cell together, in bytes; no one value may be
    /// larger either.
    pub max_bytes: u64,
}

impl Default for SqlLimits {
    fn default() -> Self {
        SqlLimits {
            timeout: SQL_TIMEOUT,
            max_rows: SQL_MAX_ROWS,
            max_bytes: MAX_DATA_BYTES,
        }
    }
}

/// The bounds on one HTTP GET.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// The whole exchange, the answer's body included.
    pub timeout: Duration,
    /// How many bytes the answer's body may have (`max_bytes = ...`; 64 MiB unless set).
    pub max_bytes: u64,
}

/// Why a file could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// Nothing is at the path.
    NotFound,
    /// Something other than a regular file is there: "a folder", "a named pipe", ...
    NotAFile(&'static str),
    /// The file is larger than `limit` bytes.
    TooLarge {
        /// The bound it went past, in bytes.
        limit: u64,
    },
    /// Any other failure, as the system words it.
    Other(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotFound => f.write_str("there is no such file"),
            ReadError::NotAFile(what) => write!(f, "it is {what}, not a file"),
            ReadError::TooLarge { limit } => write!(f, "it is larger than {}", bytes(*limit)),
            ReadError::Other(e) => f.write_str(e),
        }
    }
}

/// `64 MiB`, `100 KiB`, `12 bytes`: a size as people read it.
pub fn bytes(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// A file's bytes that are not UTF-8 text: the text with each bad sequence replaced by
/// U+FFFD (the valid text before the first is as in the file, so positions up to it are
/// right), where the first one is in that text, and its bytes.
#[derive(Clone, Debug)]
pub struct NotText {
    /// The text, each invalid sequence replaced by U+FFFD.
    pub lossy: String,
    /// The byte offset in `lossy` of the first replacement.
    pub at: usize,
    /// The bytes of the first invalid sequence, for the message.
    pub bad: Vec<u8>,
}

/// The text of a file's bytes: UTF-8, without a leading byte order mark (editors show
/// none, so lines and columns count as the user sees them).
pub fn decode(mut bytes: Vec<u8>) -> Result<String, NotText> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let len = e
            .utf8_error()
            .error_len()
            .unwrap_or(e.as_bytes().len() - at);
        let bytes = e.into_bytes();
        NotText {
            lossy: String::from_utf8_lossy(&bytes).into_owned(),
            at,
            bad: bytes[at..at + len].to_vec(),
        }
    })
}

/// E0005 for the file `path` that is not UTF-8 text: its lossy text goes into the
/// source map, so that the diagnostic points at the first bad byte's line and column.
pub fn not_text(path: &str, e: NotText, sources: &mut Sources) -> (FileId, Diagnostic) {
    let hex: Vec<String> = e.bad.iter().map(|b| format!("0x{b:02X}")).collect();
    let at = e.at;
    let file = sources.add(path.to_string(), e.lossy);
    let width = sources.get(file).text[at..]
        .chars()
        .next()
        .map_or(0, char::len_utf8);
    let d = Diagnostic::at(
        Code::E0005,
        Span::new(file, at, at + width),
        format!("`{path}` is not UTF-8 text"),
        format!(
            "the first byte that is not UTF-8: {} (shown as \u{FFFD})",
            hex.join(" ")
        ),
    )
    .with_help(
        "save the file as UTF-8 (an editor's \"save with encoding\"; `iconv -f latin1 -t utf-8`)",
    );
    (file, d)
}

/// E0506 or E0507 (or E0404) for a file that could not be read at all, at `at` if
/// something names it there.
pub fn unreadable(what: &str, path: &str, e: &ReadError, at: Option<(Span, &str)>) -> Diagnostic {
    let (code, help) = match e {
        ReadError::NotAFile(_) => (
            Code::E0506,
            "name a regular file: dagfc does not read folders, named pipes, sockets or devices, which could block the build or never end".to_string(),
        ),
        ReadError::TooLarge { limit } => (
            Code::E0507,
            format!(
                "files are read whole, up to {}: split the data over several files",
                bytes(*limit)
            ),
        ),
        ReadError::NotFound => (
            Code::E0404,
            "check that the file exists".to_string(),
        ),
        ReadError::Other(_) => (
            Code::E0404,
            "check that the file is readable".to_string(),
        ),
    };
    let message = format!("cannot read {what} `{path}`: {e}");
    let d = match at {
        Some((span, label)) => Diagnostic::at(code, span, message, label),
        None => Diagnostic::new(code, message),
    };
    d.with_help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_is_dropped() {
        assert_eq!(
            decode(b"\xEF\xBB\xBFdag d {}".to_vec()).ok().as_deref(),
            Some("dag d {}")
        );
        assert_eq!(
            decode(b"x\xEF\xBB\xBF".to_vec()).ok().as_deref(),
            Some("x\u{FEFF}")
        );
    }

    #[test]
    fn the_first_bad_byte_is_found() {
        let e = decode(b"a\nb\xE9t\xFF".to_vec()).expect_err("not UTF-8");
        assert_eq!(e.at, 3);
        assert_eq!(e.bad, vec![0xE9]);
        assert_eq!(&e.lossy[..3], "a\nb");
        let mut sources = Sources::new();
        let (file, d) = not_text("x.dagf", e, &mut sources);
        let label = d.primary.expect("a place");
        assert_eq!(label.span.file, file);
        assert_eq!(
            sources.get(file).text[label.span.range()].to_string(),
            "\u{FFFD}"
        );
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(bytes(64 << 20), "64 MiB");
        assert_eq!(bytes(2048), "2 KiB");
        assert_eq!(bytes(1000), "1000 bytes");
    }
}
