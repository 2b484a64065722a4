//! The one way the compiler spreads work over threads. Every parallel loop (parsing
//! the roots, making the dags of a large project, optimising, generating and staging
//! files) goes through here with a thread count the caller chose, so one option sets
//! them all and a build with one thread runs on the caller's thread alone.

use std::num::NonZeroUsize;

/// The stack of every worker: deeply nested input recurses deeply, and a big stack
/// keeps that an error, not a crash (the memory is only reserved).
const STACK: usize = 256 << 20;

/// How many threads to use: `asked`, else one per core.
pub fn threads(asked: Option<NonZeroUsize>) -> usize {
    match asked {
        Some(n) => n.get(),
        None => std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
    }
}

/// `parts.iter().map(f).collect()`, each part on a thread of its own, order kept. One
/// part is done on the caller's thread, and so is a part no thread can be had for.
pub fn each_part<P: Sync, U: Send>(parts: &[P], f: impl Fn(&P) -> U + Sync) -> Vec<U> {
    if parts.len() < 2 {
        return parts.iter().map(f).collect();
    }
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .iter()
            .map(|p| {
                let thread = std::thread::Builder::new()
                    .stack_size(STACK)
                    .spawn_scoped(s, move || f(p));
                (p, thread)
            })
            .collect();
        handles
            .into_iter()
            .map(|(p, h)| match h {
                Ok(h) => h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
                Err(_) => f(p),
            })
            .collect()
    })
}

/// `items.iter().map(f).collect()` over `threads` threads, each taking a contiguous
/// run of the items, order kept.
pub fn map<T: Sync, U: Send>(threads: usize, items: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    if threads < 2 || items.len() < 2 {
        return items.iter().map(f).collect();
    }
    let runs: Vec<&[T]> = items.chunks(items.len().div_ceil(threads)).collect();
    each_part(&runs, |run| run.iter().map(&f).collect::<Vec<U>>())
        .into_iter()
        .flatten()
        .collect()
}

/// `for x in items { f(x) }` over `threads` threads, each taking a contiguous run.
pub fn each_mut<T: Send>(threads: usize, items: &mut [T], f: impl Fn(&mut T) + Sync) {
    if threads < 2 || items.len() < 2 {
        items.iter_mut().for_each(f);
        return;
    }
    let chunk = items.len().div_ceil(threads);
    // Each run behind its own lock, never contended: the lock only lets a shared
    // reference hand out the run.
    let runs: Vec<std::sync::Mutex<&mut [T]>> =
        items.chunks_mut(chunk).map(std::sync::Mutex::new).collect();
    each_part(&runs, |run| {
        let mut run = run
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        run.iter_mut().for_each(&f);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_kept_whatever_the_thread_count() {
        let items: Vec<u32> = (0..1000).collect();
        let one = map(1, &items, |x| x * 2);
        for t in [2, 3, 7, 2000] {
            assert_eq!(map(t, &items, |x| x * 2), one);
            let mut v = items.clone();
            each_mut(t, &mut v, |x| *x *= 2);
            assert_eq!(v, one);
        }
    }

    #[test]
    fn asked_count_wins() {
        assert_eq!(threads(NonZeroUsize::new(3)), 3);
        assert!(threads(None) >= 1);
    }
}
