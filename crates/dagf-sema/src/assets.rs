//! Asset URIs as Airflow reads them (`airflow/sdk/definitions/asset/__init__.py`,
//! `_sanitize_uri` and the identifier validators): what it rejects, and the normal
//! form two spellings of one asset share.

/// Python's `urlsplit`, for the parts normalising looks at.
struct Split<'a> {
    scheme: &'a str,
    netloc: Option<&'a str>,
    path: &'a str,
    query: &'a str,
}

fn split(uri: &str) -> Split<'_> {
    let (scheme, rest) = match uri.split_once(':') {
        Some((s, r))
            if s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            (s, r)
        }
        _ => ("", uri),
    };
    let rest = rest.split('#').next().unwrap_or("");
    let (netloc, rest) = match rest.strip_prefix("//") {
        Some(r) => {
            let end = r.find(['/', '?']).unwrap_or(r.len());
            (Some(&r[..end]), &r[end..])
        }
        None => (None, rest),
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    Split {
        scheme,
        netloc,
        path,
        query,
    }
}

/// Why Airflow would reject (or warn about) this asset URI, which dagf also writes as
/// the asset's name, if it would.
pub fn uri_problem(uri: &str) -> Option<String> {
    if uri.is_empty() {
        return Some("it is empty".into());
    }
    if uri.chars().all(char::is_whitespace) {
        return Some("it is only whitespace".into());
    }
    if !uri.is_ascii() {
        return Some("it has characters other than ASCII (Airflow on MySQL rejects them)".into());
    }
    if matches!(uri, "self" | "context") {
        return Some(format!("`{uri}` is a name Airflow reserves"));
    }
    let parts = split(uri);
    if parts.scheme.eq_ignore_ascii_case("airflow") {
        return Some("the `airflow` scheme is reserved".into());
    }
    let netloc = parts.netloc.unwrap_or("");
    if let Some((user, _)) = netloc.rsplit_once('@')
        && user.contains(':')
    {
        return Some("it holds a password (Airflow drops it, with a warning)".into());
    }
    let n = normalize(uri).chars().count().max(uri.chars().count());
    if n > 1500 {
        return Some(format!("it is {n} characters long; Airflow allows 1500"));
    }
    None
}

/// Why Airflow would reject this asset name, alias name or group (`_validate_identifier`
/// and `_validate_asset_name`), if it would. `reserved` says whether `self` and
/// `context` are refused, as they are for an asset's name.
pub fn name_problem(name: &str, reserved: bool) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".into());
    }
    if name.chars().all(char::is_whitespace) {
        return Some("it is only whitespace".into());
    }
    if !name.is_ascii() {
        return Some("it has characters other than ASCII (Airflow on MySQL rejects them)".into());
    }
    if reserved && matches!(name, "self" | "context") {
        return Some(format!("`{name}` is a name Airflow reserves"));
    }
    let n = name.chars().count();
    if n > 1500 {
        return Some(format!("it is {n} characters long; Airflow allows 1500"));
    }
    None
}

/// The URI Airflow stores for `uri`: scheme in lower case, query sorted, trailing `/`
/// of the path and any fragment dropped (and nothing changed in a string that is not a
/// URI, or whose scheme starts with `x-`).
pub fn normalize(uri: &str) -> String {
    let parts = split(uri);
    let scheme = parts.scheme.to_ascii_lowercase();
    if (scheme.is_empty() && parts.netloc.is_none_or(str::is_empty)) || scheme.starts_with("x-") {
        return uri.to_string();
    }
    let mut query: Vec<(String, String)> = parts
        .query
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (!v.is_empty()).then(|| (unquote_plus(k), unquote_plus(v)))
        })
        .collect();
    query.sort();
    let query: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{}={}", quote_plus(k), quote_plus(v)))
        .collect();
    let path = parts.path.trim_end_matches('/');
    let path = if path.is_empty() { "/" } else { path };
    // `urlunsplit` writes `//` when there is a host, or for schemes that use one.
    let mut out = scheme.clone();
    out.push(':');
    let netloc = parts.netloc.unwrap_or("");
    if !netloc.is_empty() || USES_NETLOC.contains(&scheme.as_str()) {
        out.push_str("//");
        out.push_str(netloc);
        if !path.starts_with('/') {
            out.push('/');
        }
    }
    out.push_str(path);
    if !query.is_empty() {
        out.push('?');
        out.push_str(&query.join("&"));
    }
    out
}

/// Python's `urllib.parse.uses_netloc`.
const USES_NETLOC: [&str; 25] = [
    "", "ftp", "http", "gopher", "nntp", "telnet", "imap", "wais", "file", "mms", "https", "shttp",
    "snews", "prospero", "rtsp", "rtsps", "rtspu", "rsync", "svn", "svn+ssh", "sftp", "nfs", "git",
    "git+ssh", "ws",
];

fn unquote_plus(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |c: u8| char::from(c).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn quote_plus(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b' ' => out.push('+'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_forms_follow_airflow() {
        assert_eq!(normalize("S3://b/k/?b=2&a=1#frag"), "s3://b/k?a=1&b=2");
        assert_eq!(normalize("file://"), "file:///");
        assert_eq!(normalize("/tmp/x"), "/tmp/x");
        assert_eq!(normalize("x-custom://A/b/"), "x-custom://A/b/");
        assert_eq!(normalize("s3://bucket"), "s3://bucket/");
        assert_eq!(normalize("s3://b/k?a=&b=1"), "s3://b/k?b=1");
    }

    #[test]
    fn problems_are_named() {
        assert!(uri_problem("airflow://x").is_some());
        assert!(uri_problem("s3://user:secret@b/k").is_some());
        assert!(uri_problem("self").is_some());
        assert!(uri_problem("   ").is_some());
        assert!(uri_problem("s3://b/é").is_some());
        assert!(uri_problem(&format!("s3://b/{}", "k".repeat(1500))).is_some());
        assert_eq!(uri_problem("s3://user@b/k"), None);
        assert_eq!(uri_problem("s3://lake/orders"), None);
        assert!(name_problem("self", true).is_some());
        assert_eq!(name_problem("self", false), None);
        assert!(name_problem(" ", false).is_some());
        assert!(name_problem("", false).is_some());
        assert!(name_problem(&"n".repeat(1501), false).is_some());
        assert_eq!(name_problem("orders", true), None);
    }
}
