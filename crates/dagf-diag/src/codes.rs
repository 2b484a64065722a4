//! The one registry of diagnostic codes. Codes are never reused: a retired code keeps
//! its row with a note saying so.

use crate::Severity;
use std::fmt;

/// A stable diagnostic code such as `E0201` (error) or `W0001` (lint).
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Code(&'static str);

/// One registry row: the code, a short title, and its `dagfc explain` page.
#[derive(Debug)]
pub struct CodeInfo {
    /// The code itself.
    pub code: Code,
    /// A few words saying what the code reports (`invalid cron expression`).
    pub title: &'static str,
    /// The Markdown page `dagfc explain CODE` prints, from `explain/CODE.md`.
    pub page: &'static str,
}

/// A code is kept as its text (in a build cache, say); text that names no code is
/// refused, never taken for one.
impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Code, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Code::parse(&text)
            .filter(|c| c.0 == text)
            .ok_or_else(|| serde::de::Error::custom(format!("no diagnostic code `{text}`")))
    }
}

impl Code {
    /// The code's text, `E0201`.
    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// `W` codes are lints (warnings); every other code is an error.
    pub fn severity(self) -> Severity {
        if self.0.starts_with('W') {
            Severity::Warning
        } else {
            Severity::Error
        }
    }

    /// The code's registry row: its title and explain page.
    pub fn info(self) -> &'static CodeInfo {
        CODES.iter().find(|c| c.code == self).unwrap_or(&CODES[0])
    }

    /// Looks a code up by its text, case-insensitively (`e0201` works).
    pub fn parse(text: &str) -> Option<Code> {
        CODES
            .iter()
            .find(|c| c.code.0.eq_ignore_ascii_case(text.trim()))
            .map(|c| c.code)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

macro_rules! codes {
    ($($name:ident => $title:literal,)*) => {
        impl Code {
            $(
                #[doc = concat!("`", stringify!($name), "`: ", $title, ".")]
                pub const $name: Code = Code(stringify!($name));
            )*
        }
        /// Every code, in order.
        pub static CODES: &[CodeInfo] = &[
            $(CodeInfo {
                code: Code::$name,
                title: $title,
                page: include_str!(concat!("../explain/", stringify!($name), ".md")),
            },)*
        ];
    };
}

codes! {
    // Syntax
    E0001 => "syntax error",
    E0002 => "unterminated string or comment",
    E0003 => "invalid character",
    E0004 => "invalid literal",
    E0005 => "file is not UTF-8 text",
    // Modules and names
    E0101 => "imported file not found",
    E0102 => "import cycle",
    E0103 => "name defined twice",
    E0104 => "unknown name",
    E0105 => "unknown type",
    E0106 => "statement not allowed here",
    // Types and calls
    E0201 => "type mismatch",
    E0202 => "missing required argument",
    E0203 => "unknown argument or field",
    E0204 => "value out of range",
    E0205 => "value does not match pattern",
    E0206 => "invalid regular expression",
    E0207 => "argument given twice",
    E0208 => "not callable here",
    E0209 => "invalid operation",
    E0210 => "evaluation limit reached",
    E0211 => "value set twice",
    E0212 => "conflicting values",
    E0213 => "override of nothing",
    E0214 => "abstract factory instantiated",
    E0215 => "abstract task not declared",
    E0216 => "value matches no member of a union",
    E0217 => "unknown or missing kind",
    E0218 => "assertion failed",
    // DAG checks
    E0301 => "duplicate task id",
    E0302 => "invalid dag or task id",
    E0303 => "invalid cron expression",
    E0304 => "unknown schedule preset",
    E0305 => "invalid trigger rule",
    E0306 => "sensor timeout shorter than poke interval",
    E0307 => "sensor soft_fail with never_fail",
    E0308 => "catchup without start",
    E0309 => "dependency cycle",
    E0310 => "duplicate dag id",
    E0311 => "end before start",
    E0312 => "invalid sensor timing",
    E0313 => "dependency across tenants",
    E0314 => "asset without a producer",
    E0315 => "invalid tenant output folder",
    E0316 => "not a Python name",
    E0317 => "text too long for Airflow",
    E0318 => "invalid owner link",
    E0319 => "schedule that never runs as written",
    E0320 => "trigger rule not allowed in a fail_fast dag",
    E0321 => "arguments that exclude each other",
    E0322 => "invalid or repeated state",
    E0323 => "asset URI or name Airflow rejects",
    E0324 => "one asset under two names, or one name for two assets",
    E0325 => "dag id not in the project",
    E0326 => "invalid team",
    E0327 => "not in the targeted Airflow version",
    E0328 => "unknown pool",
    E0329 => "pool of another tenant",
    E0330 => "invalid pool or pool slots",
    E0331 => "param type without a JSON Schema",
    E0332 => "unknown dag param",
    E0333 => "task output where Airflow does not resolve it",
    E0334 => "output of a task that pushes none",
    E0335 => "key of an output not pushed by key",
    E0336 => "field both shared and mapped",
    E0337 => "field that cannot be mapped",
    E0338 => "mapped over something that is not a list",
    E0339 => "task mapped twice",
    E0340 => "task both setup and teardown",
    E0341 => "setup task followed by a task with another trigger rule",
    E0342 => "teardown argument on a task that is not a teardown",
    E0343 => "trigger rule on a teardown task",
    E0344 => "invalid asset or alias declaration",
    E0345 => "unknown time zone",
    E0346 => "invalid timetable",
    E0347 => "UTC offset in a dag with a time zone",
    E0350 => "mapped over one key of an output",
    E0351 => "mapped group's item used where it is not resolved",
    E0352 => "mapping a group or task that cannot be mapped",
    E0353 => "trigger rule `always` in a group mapped over an output",
    // Project and output
    E0401 => "output file not written by dagfc",
    E0402 => "invalid project file",
    E0403 => "project not found",
    E0404 => "cannot read or write a file",
    E0405 => "unknown environment",
    E0406 => "invalid output folder",
    E0407 => "damaged output manifest",
    E0408 => "output folder locked by another build",
    E0409 => "the other side of a diff cannot be read",
    E0410 => "a build's selection matches no dag",
    // Config sources
    E0501 => "invalid config file",
    E0502 => "config file not found",
    E0503 => "database source failed",
    E0504 => "conflicting config documents",
    E0505 => "HTTP source failed",
    E0506 => "not a regular file",
    E0507 => "read limit reached",
    // Importing dag-factory files
    E0601 => "cannot import this dag-factory construct",
    E0602 => "invalid dag-factory file",
    // The Python side
    E0701 => "no usable Python interpreter",
    E0702 => "Python helper timed out",
    E0703 => "Python helper failed",
    E0704 => "Python path that does not resolve",
    E0705 => "Python object of the wrong kind",
    E0706 => "not a constructor parameter",
    E0707 => "required constructor parameter unset",
    E0708 => "argument the callable does not accept",
    E0709 => "built DAG rejected or changed by Airflow",
    // Importing operator classes
    E0710 => "operator import target that does not resolve",
    E0711 => "operator import target that fails to import",
    E0712 => "not an operator class",
    E0713 => "no operator class to import",
    // Tests
    E0801 => "test assertion failed",
    E0802 => "expected error not reported",
    E0803 => "snapshot differs",
    E0804 => "snapshot of something that is not a dag",
    E0805 => "invalid fixture",
    E0806 => "unknown code in expect_error",
    E0807 => "test name used twice",
    E0808 => "malformed run expectation",
    E0809 => "unknown run state",
    E0810 => "expectation of a task the dag lacks",
    E0811 => "run of something that is not a dag",
    E0812 => "integration run ended otherwise",
    E0813 => "dag that could not run in Airflow",
    E0814 => "no Airflow for integration runs",
    E0815 => "Airflow database migration failed",
    E0816 => "integration run timed out",
    E0817 => "source that cannot be recorded",
    E0818 => "recording a source failed",
    // Lints
    W0001 => "unused parameter",
    W0002 => "unused import",
    W0003 => "sensor pokes slowly in poke mode",
    W0004 => "too many parameters",
    W0005 => "unvalidated string in a name",
    W0006 => "environment read inside a factory",
    W0007 => "config data from the HTTP cache",
    W0008 => "text Airflow reads as a file name",
    W0009 => "deprecated access_control",
    W0010 => "mapping argument on a task that is not mapped",
    W0011 => "task group mapped over an empty list",
    W0601 => "dag-factory setting without effect",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_sorted_and_documented() {
        for pair in CODES.windows(2) {
            assert!(
                pair[0].code < pair[1].code,
                "{} then {}",
                pair[0].code,
                pair[1].code
            );
        }
        for info in CODES {
            let heading = format!("# {}: {}", info.code, info.title);
            assert!(
                info.page.starts_with(&heading),
                "{} page must start with `{heading}`",
                info.code
            );
        }
    }

    #[test]
    fn parse_is_case_insensitive() {
        assert_eq!(Code::parse("e0201"), Some(Code::E0201));
        assert_eq!(Code::parse("E9999"), None);
    }
}
