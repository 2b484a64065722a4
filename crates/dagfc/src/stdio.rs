//! Printing. `print!` and `eprint!` panic when the other end of a pipe has gone away
//! (`dagfc build --emit python | head -1`); dagfc instead stops printing quietly.

use std::io::{ErrorKind, Write};

/// Writes `text` to standard output. When the reader has gone away the command has
/// nothing left to do, so the process ends quietly with status 0; any other failure
/// (a full disk behind a redirection) is an error.
pub fn write_out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            write_err(&format!("error: cannot write to standard output: {e}\n"));
            std::process::exit(1);
        }
    }
}

/// Writes machine-readable messages (`--message-format json`) to standard output. Like
/// standard error, a reader that has gone away is ignored: the command still does its
/// work and ends with the status it would have had, which a build with errors must not
/// lose to a closed pipe. Any other failure is said on standard error.
pub fn write_messages(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
    match written {
        Err(e) if e.kind() != ErrorKind::BrokenPipe => {
            write_err(&format!("error: cannot write to standard output: {e}\n"));
        }
        _ => {}
    }
}

/// Writes `text` to standard error. A closed or broken standard error is ignored: the
/// command still does its work and ends with the status it would have had.
pub fn write_err(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// `print!` that ends quietly when standard output is a closed pipe.
macro_rules! out {
    ($($arg:tt)*) => { $crate::stdio::write_out(&format!($($arg)*)) };
}

/// `println!` that ends quietly when standard output is a closed pipe.
macro_rules! outln {
    ($($arg:tt)*) => { $crate::stdio::write_out(&format!("{}\n", format_args!($($arg)*))) };
}

/// `eprintln!` that never panics.
macro_rules! errln {
    ($($arg:tt)*) => { $crate::stdio::write_err(&format!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {errln, out, outln};
