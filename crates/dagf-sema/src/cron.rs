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
