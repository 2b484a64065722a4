//! The pools file: the project's pools in the JSON form `airflow pools import FILE`
//! reads (`airflow/cli/commands/pool_command.py`, `pool_import_helper`): an object from
//! each pool's name to its `slots`, `description` and `include_deferred`. Keys are
//! sorted and indented by four spaces, as `airflow pools export` writes them, so an
//! export of the imported pools reads the same.

use dagf_ir::{Built, Pool};
use std::fmt::Write as _;

/// The pools file's name, at the top of the output folder. Airflow's DAG processor
/// reads only `.py` files and zip archives, so it is never taken for a DAG file.
pub const POOLS_FILE: &str = "pools.json";

/// The text of the pools file for `pools`.
pub fn pools_json(pools: &[Pool]) -> String {
    let mut sorted: Vec<&Pool> = pools.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    if sorted.is_empty() {
        return "{}\n".to_string();
    }
    let mut out = String::from("{\n");
    for (i, p) in sorted.iter().enumerate() {
        let description = match &p.description {
            Some(d) => json_str(d),
            None => "null".to_string(),
        };
        let _ = write!(
            out,
            "    {}: {{\n        \"description\": {description},\n        \"include_deferred\": {},\n        \"slots\": {}\n    }}",
            json_str(&p.name),
            p.include_deferred,
            p.slots,
        );
        out.push_str(if i + 1 < sorted.len() { ",\n" } else { "\n" });
    }
    out.push_str("}\n");
    out
}

/// The pools file as one more generated file, or `None` if the project declares no
/// pool (then the file is not written, and a last build's is removed).
pub fn pools_file(pools: &[Pool]) -> Option<Built> {
    let first = pools.first()?;
    Some(Built {
        dag_id: String::new(),
        span: first.span,
        folder: String::new(),
        file: POOLS_FILE.to_string(),
        text: pools_json(pools),
        tasks: 0,
        tenant: None,
    })
}

/// A JSON string literal: `"` and `\` escaped, control characters as `\uXXXX` (or
/// their short forms), everything else as it is (JSON text is UTF-8).
pub(crate) fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagf_diag::Span;

    fn pool(name: &str, slots: i64, description: Option<&str>) -> Pool {
        Pool {
            name: name.to_string(),
            slots,
            description: description.map(str::to_string),
            include_deferred: false,
            span: Span::default(),
        }
    }

    #[test]
    fn sorted_by_name_with_every_key() {
        let text = pools_json(&[pool("b", 4, None), pool("a", -1, Some("say \"hi\"\n"))]);
        assert_eq!(
            text,
            "{\n    \"a\": {\n        \"description\": \"say \\\"hi\\\"\\n\",\n        \"include_deferred\": false,\n        \"slots\": -1\n    },\n    \"b\": {\n        \"description\": null,\n        \"include_deferred\": false,\n        \"slots\": 4\n    }\n}\n"
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(json_str("a\u{1}é"), "\"a\\u0001é\"");
    }

    #[test]
    fn no_pools_no_file() {
        assert!(pools_file(&[]).is_none());
        let f = pools_file(&[pool("x", 1, None)]);
        assert_eq!(f.map(|f| f.file), Some(POOLS_FILE.to_string()));
    }
}
