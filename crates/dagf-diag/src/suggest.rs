/// The closest candidate to `name`, if one is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        if c == name {
            continue;
        }
        let score = strsim::jaro_winkler(name, c);
        let close = score >= 0.82 || strsim::damerau_levenshtein(name, c) <= 1 + name.len() / 5;
        if close && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

/// A count and its noun, as messages and summaries write it: `1 error`, `2 errors`.
pub fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn finds_typos_and_ignores_strangers() {
        let names = ["retries", "retry_delay", "pool", "queue"];
        assert_eq!(did_you_mean("retires", names), Some("retries"));
        assert_eq!(did_you_mean("pol", names), Some("pool"));
        assert_eq!(did_you_mean("bash_command", names), None);
    }
}
