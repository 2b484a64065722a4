//! Cron strings and schedule presets, checked the way Airflow's timetables read them.

/// Presets Airflow 3.3 accepts for `schedule`.
pub const PRESETS: &[&str] = &[
    "once",
    "continuous",
    "hourly",
    "daily",
    "weekly",
    "monthly",
    "quarterly",
    "yearly",
    "annually",
    "midnight",
];

const FIELDS: [(&str, u32, u32, &[&str]); 5] = [
    ("minute", 0, 59, &[]),
    ("hour", 0, 23, &[]),
    ("day of month", 1, 31, &[]),
    (
        "month",
        1,
        12,
        &[
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ],
    ),
    (
        "day of week",
        0,
        7,
        &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    ),
];

/// Checks a five-field cron expression; the error says which field is wrong and why.
pub fn check(expr: &str) -> Result<(), String> {
    let parts: Vec<&str> = expr.split_whitespace().collect();
    if parts.len() != 5 {
        return Err(format!(
            "a cron expression has 5 fields (minute hour day-of-month month day-of-week), this one has {}",
            parts.len()
        ));
    }
    for (part, (name, lo, hi, names)) in parts.iter().zip(FIELDS) {
        for item in part.split(',') {
            check_item(item, lo, hi, names).map_err(|e| format!("{name} field `{part}`: {e}"))?;
        }
    }
    Ok(())
}

/// Whether a checked cron expression matches some date. A day of the month no month
/// in the expression has (`0 0 30 2 *`) never comes, and Airflow then never schedules
/// the DAG, without an error. When both day fields are restricted, cron fires on
/// either (`day_or`), so only a restricted day of the month with any day of the week
/// can fail to match.
pub fn fires(expr: &str) -> bool {
    let parts: Vec<&str> = expr.split_whitespace().collect();
    let [_, _, dom, month, dow] = parts.as_slice() else {
        return true;
    };
    if *dom == "*" || *dow != "*" {
        return true;
    }
    let (days, months) = (expand(dom, FIELDS[2]), expand(month, FIELDS[3]));
    // February counts its 29th: it comes in leap years.
    const LONGEST: [u32; 13] = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    months.iter().any(|&m| {
        days.iter()
            .any(|&d| LONGEST.get(m as usize).is_some_and(|&n| d <= n))
    })
}

/// The five-field cron a preset stands for (`None` for `once` and `continuous`): the
/// target's table, the same on every Airflow version.
pub use dagf_target::preset_cron;

/// A minute of the calendar (UTC): year, month, day, hour, minute.
pub type Minute = (i32, u32, u32, u32, u32);

/// The first time at or after `from` that a checked cron expression fires, looking up
/// to the end of the year 9999 (Python's last): `None` when it never does by then.
pub fn first_run(expr: &str, from: Minute) -> Option<Minute> {
    let parts: Vec<&str> = expr.split_whitespace().collect();
    let [minute, hour, dom, month, dow] = parts.as_slice() else {
        return None;
    };
    let minutes = expand(minute, FIELDS[0]);
    let hours = expand(hour, FIELDS[1]);
    let (doms, months) = (expand(dom, FIELDS[2]), expand(month, FIELDS[3]));
    // Sunday is 0 and 7.
    let dows: Vec<u32> = expand(dow, FIELDS[4]).into_iter().map(|d| d % 7).collect();
    let (dom_any, dow_any) = (*dom == "*", *dow == "*");
    let day_matches = |y: i32, m: u32, d: u32| {
        let (by_dom, by_dow) = (doms.contains(&d), dows.contains(&weekday(y, m, d)));
        months.contains(&m)
            && match (dom_any, dow_any) {
                (true, true) => true,
                (false, true) => by_dom,
                (true, false) => by_dow,
                // Both restricted: either fires (cron's `day_or`).
                (false, false) => by_dom || by_dow,
            }
    };
    let (mut y, mut m, mut d) = (from.0, from.1, from.2);
    let mut first_day = true;
    // A leap day on a given weekday comes back within 28 years.
    for _ in 0..(366 * 29) {
        if y > 9999 {
            return None;
        }
        if day_matches(y, m, d) {
            let start = if first_day { (from.3, from.4) } else { (0, 0) };
            let time = hours
                .iter()
                .flat_map(|&h| minutes.iter().map(move |&mi| (h, mi)));
            if let Some((h, mi)) = time.filter(|t| *t >= start).min() {
                return Some((y, m, d, h, mi));
            }
        }
        first_day = false;
        let days = dagf_time::days_in_month(y, m).unwrap_or(31);
        if d < days {
            d += 1;
        } else if m < 12 {
            (m, d) = (m + 1, 1);
        } else {
            (y, m, d) = (y + 1, 1, 1);
        }
    }
    None
}

/// The day of the week, Sunday 0 (Sakamoto's method).
fn weekday(y: i32, m: u32, d: u32) -> u32 {
    const T: [i32; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let y = if m < 3 { y - 1 } else { y };
    let w = y + y / 4 - y / 100 + y / 400 + T[(m as usize - 1) % 12] + d as i32;
    w.rem_euclid(7) as u32
}

/// The values a checked field matches.
fn expand(part: &str, (_, lo, hi, names): (&str, u32, u32, &[&str])) -> Vec<u32> {
    let value = |s: &str| {
        names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(s))
            .map(|i| i as u32 + lo)
            .or_else(|| s.parse().ok())
            .unwrap_or(lo)
    };
    let mut out = Vec::new();
    for item in part.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().unwrap_or(1).max(1)),
            None => (item, 1),
        };
        let (a, b) = match range.split_once('-') {
            _ if range == "*" => (lo, hi),
            Some((a, b)) => (value(a), value(b)),
            None if item.contains('/') => (value(range), hi),
            None => (value(range), value(range)),
        };
        out.extend((a..=b).step_by(step as usize));
    }
    out
}

fn check_item(item: &str, lo: u32, hi: u32, names: &[&str]) -> Result<(), String> {
    let (range, step) = match item.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (item, None),
    };
    if let Some(step) = step {
        match step.parse::<u32>() {
            Ok(s) if s >= 1 && s <= hi => {}
            _ => return Err(format!("step `{step}` must be a number from 1 to {hi}")),
        }
    }
    if range == "*" {
        return Ok(());
    }
    let value = |s: &str| -> Result<u32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            return Ok(i as u32 + lo);
        }
        match s.parse::<u32>() {
            Ok(v) if (lo..=hi).contains(&v) => Ok(v),
            Ok(v) => Err(format!("{v} is outside {lo}-{hi}")),
            Err(_) => Err(format!("`{s}` is not a number")),
        }
    };
    match range.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (value(a)?, value(b)?);
            if a > b {
                return Err(format!("range {a}-{b} runs backwards"));
            }
        }
        None => {
            value(range)?;
        }
    }
    Ok(())
}

/// E0345 for a name that is no IANA time zone, with the zone most likely meant: the
/// same name in another case, the zone of a city written alone (`Paris`), or a close
/// spelling.
pub(crate) fn unknown_zone(name: &str, span: dagf_diag::Span) -> Option<dagf_diag::Diagnostic> {
    use dagf_time::zones::ZONES;
    if dagf_time::is_zone(name) {
        return None;
    }
    let d = dagf_diag::Diagnostic::at(
        dagf_diag::Code::E0345,
        span,
        format!("unknown time zone \"{name}\""),
        "not a zone of the IANA time zone database",
    );
    let meant = ZONES
        .iter()
        .find(|z| z.eq_ignore_ascii_case(name))
        .or_else(|| {
            let city = name.replace(' ', "_");
            ZONES.iter().find(|z| {
                z.rsplit_once('/')
                    .is_some_and(|(_, c)| c.eq_ignore_ascii_case(&city))
            })
        });
    let d = match meant {
        Some(z) => d.with_help(format!("did you mean `{z}`?")),
        None => d.with_suggestion(name, ZONES.iter().copied()),
    };
    Some(d.or_help("name a zone as the database does, such as \"Europe/Paris\" or \"UTC\""))
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn accepts_what_airflow_accepts() {
        for ok in [
            "0 6 * * 1-5",
            "*/15 * * * *",
            "0 0 1 jan,jul *",
            "30 2 * * sun",
            "0 0-23/2 * * *",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn knows_a_day_that_never_comes() {
        use super::fires;
        assert!(fires("0 0 29 2 *"), "a leap day comes");
        assert!(fires("0 0 31 * *"));
        assert!(fires("0 0 30 2 1"), "either day field fires");
        assert!(!fires("0 0 30 2 *"));
        assert!(!fires("0 0 31 4,6,9,11 *"));
        assert!(!fires("0 0 30-31 feb *"));
        assert!(fires("0 0 */10 2 *"));
    }

    #[test]
    fn finds_the_first_run() {
        use super::first_run;
        assert_eq!(
            first_run("0 6 * * *", (2024, 1, 1, 7, 0)),
            Some((2024, 1, 2, 6, 0))
        );
        assert_eq!(
            first_run("0 6 * * *", (2024, 1, 1, 6, 0)),
            Some((2024, 1, 1, 6, 0))
        );
        // 2024-01-06 is a Saturday.
        assert_eq!(
            first_run("30 9 * * 1-5", (2024, 1, 6, 0, 0)),
            Some((2024, 1, 8, 9, 30))
        );
        assert_eq!(
            first_run("0 0 29 2 *", (2025, 3, 1, 0, 0)),
            Some((2028, 2, 29, 0, 0))
        );
        assert_eq!(first_run("0 0 1 1 *", (9999, 12, 9, 0, 0)), None);
        assert_eq!(first_run("0 0 * * *", (9999, 12, 31, 0, 1)), None);
    }

    #[test]
    fn names_the_bad_field() {
        assert!(
            check("0 25 * * *")
                .expect_err("must be rejected")
                .contains("hour field `25`: 25 is outside 0-23")
        );
        assert!(
            check("0 6 * *")
                .expect_err("must be rejected")
                .contains("has 4")
        );
        assert!(
            check("*/0 * * * *")
                .expect_err("must be rejected")
                .contains("step")
        );
        assert!(
            check("0 6 * * 5-1")
                .expect_err("must be rejected")
                .contains("backwards")
        );
    }
}
