//! Text layout: the line length, indentation, and writing a form flat or exploded.

pub(crate) const LINE: usize = 88;

/// Spaces per indentation level.
pub(crate) const INDENT: usize = 4;

/// Writes `flat`; if that does not fit on the line (it starts at column `col`, and
/// `after` more characters follow it), replaces it with `exploded`. Says whether the
/// flat form stayed.
pub(crate) fn flat_or_exploded(
    out: &mut String,
    col: usize,
    after: usize,
    flat: impl FnOnce(&mut String),
    exploded: impl FnOnce(&mut String),
) -> bool {
    let start = out.len();
    flat(out);
    if col + (out.len() - start) + after <= LINE {
        return true;
    }
    out.truncate(start);
    exploded(out);
    false
}

/// Writes `items`, `sep` between them.
pub(crate) fn join<T>(
    out: &mut String,
    items: impl IntoIterator<Item = T>,
    sep: &str,
    mut each: impl FnMut(&mut String, T),
) {
    for (n, item) in items.into_iter().enumerate() {
        if n > 0 {
            out.push_str(sep);
        }
        each(out, item);
    }
}

/// Writes `n` spaces.
pub(crate) fn pad(out: &mut String, mut n: usize) {
    const SPACES: &str = "                                ";
    while n > SPACES.len() {
        out.push_str(SPACES);
        n -= SPACES.len();
    }
    out.push_str(&SPACES[..n]);
}
