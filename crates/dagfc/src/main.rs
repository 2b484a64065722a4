//! `dagfc`, the dagf compiler's command line: the one crate that touches the file
//! system and the terminal. Everything it calls is pure.

mod airflow;
mod cli;
mod fixtures;
mod folder_diff;
mod gitrev;
mod outdir;
mod output;
mod project;
mod python;
mod scaffold;
mod stdio;
mod testrun;
mod timings;
mod verify;
mod workdir;

use std::process::ExitCode;

// The compiler allocates many small values; mimalloc serves them several times faster
// than the system allocator on a worker thread.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::parse();
    // Deeply nested input recurses deeply; a big stack keeps that an error, not a crash.
    let worker = std::thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(move || cli::run(args));
    match worker.map(|h| h.join()) {
        Ok(Ok(code)) => ExitCode::from(code),
        _ => {
            stdio::write_err(
                "error: dagfc stopped unexpectedly; please report this with the input that caused it\n",
            );
            ExitCode::from(101)
        }
    }
}
