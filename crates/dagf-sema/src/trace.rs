//! What a build reports about its own time, for `--timings`, `--trace` and
//! `--metrics`: the caller's [`Trace`] reads the clock; the compiler only says when
//! each piece of work started and what it was, so it stays a pure function of its
//! inputs.

/// Receives the pieces of a build's work as each one ends: a phase (`parse`,
/// `evaluate`), a module, a dag. Called from every thread that works.
pub trait Trace: Send + Sync + std::fmt::Debug {
    /// The clock, in microseconds from any fixed start.
    fn now(&self) -> u64;
    /// `name` (of kind `category`: `phase`, `module`, `dag`) ran on this thread from
    /// `start` (a reading of [`Trace::now`]) until now.
    fn done(&self, category: &'static str, name: &str, start: u64);
}

/// A trace, if the caller wants one: the clock's reading now (0 without a trace).
pub(crate) fn now(trace: Option<&dyn Trace>) -> u64 {
    trace.map_or(0, Trace::now)
}

/// Reports a piece of work to the trace, if there is one.
pub(crate) fn done(trace: Option<&dyn Trace>, category: &'static str, name: &str, start: u64) {
    if let Some(t) = trace {
        t.done(category, name, start);
    }
}
