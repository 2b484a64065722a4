//! `dagfc test`: runs the project's tests through the driver, prints each result and
//! each failure at its place, writes snapshots (`--update`) and JUnit XML (`--junit`).

use crate::cli::{BuildArgs, Printer, facts, fail_build};
use crate::project;
use crate::stdio::{errln, outln};
use dagf_diag::{ColorChoice, Sources, plural, render_human};
use dagf_driver::tests::{TestOptions, TestReport, TestResult};
use std::path::{Path, PathBuf};

mod integration;

const USER_ERROR: u8 = 1;

/// What `dagfc test` was asked to do.
pub(crate) struct Asked<'a> {
    /// Only the tests whose name contains this.
    pub filter: Option<&'a str>,
    /// Where to write JUnit XML.
    pub junit: Option<&'a Path>,
    /// Write snapshots instead of failing on them.
    pub update: bool,
    /// Make integration tests' runs in Airflow.
    pub integration: bool,
    /// `--python`: the interpreter for the runs.
    pub python: Option<&'a Path>,
    /// `--timeout`: seconds each Airflow command of the runs may take.
    pub timeout: Option<u64>,
}

/// Runs the tests whose name contains `filter` and reports them; 1 if any failed.
pub(crate) fn test(printer: &Printer, common: &BuildArgs, asked: &Asked) -> u8 {
    let (junit, update) = (asked.junit, asked.update);
    let start = common.project.start();
    let Some(root) = project::find_root(&start) else {
        printer.print(vec![project::not_found(&start)], &Sources::new());
        printer.summary("error: no project", true, facts(1, 0));
        return USER_ERROR;
    };
    let loader = dagf_io::DiskLoader { root: &root };
    let options = dagf_driver::Options {
        env: common.env.clone(),
        env_vars: std::env::vars().collect(),
        threads: common.jobs,
        target: common.target,
        ..dagf_driver::Options::default()
    };
    let tests = TestOptions {
        filter: asked.filter.map(str::to_string),
        update,
        integration: asked.integration,
    };
    let mut report = dagf_driver::tests::run_tests(&loader, &options, &tests);
    if let Some(check) = report.check.take() {
        return fail_build(printer, check);
    }
    if asked.integration && report.results.iter().any(|r| !r.runs.is_empty()) {
        integration::run(
            printer,
            &root,
            &loader,
            asked.python,
            asked.timeout,
            &mut report,
        );
    }
    let problems = std::mem::take(&mut report.problems);
    let problem_count = problems.len();
    printer.print(problems, &report.problem_sources);
    for r in &report.results {
        if printer.is_json() {
            printer.json_message(&serde_json::json!({
                "type": "test",
                "name": r.case.name,
                "file": r.case.file,
                "passed": r.passed(),
                "skipped": r.skipped(),
            }));
        } else {
            let status = if r.passed() {
                "ok"
            } else if r.skipped() {
                "skipped (integration)"
            } else {
                "FAILED"
            };
            outln!("test {} \"{}\" ... {status}", r.case.file, r.case.name);
        }
    }
    let mut write_failed = false;
    if update {
        for s in report.results.iter().flat_map(|r| &r.snapshots) {
            if s.matches {
                continue;
            }
            match write_snapshot(&root, &s.path, &s.actual) {
                Ok(()) => printer.note(&format!("wrote snapshot {}", s.path)),
                Err(e) => {
                    errln!("error: cannot write the snapshot {}: {e}", s.path);
                    write_failed = true;
                }
            }
        }
    }
    for r in &report.results {
        printer.print(r.failures.clone(), &r.sources);
    }
    if let Some(path) = junit
        && let Err(e) = std::fs::write(path, junit_xml(&report))
    {
        errln!("error: cannot write {}: {e}", path.display());
        write_failed = true;
    }
    let (passed, failed, skipped) = (report.passed(), report.failed(), report.skipped());
    if report.filtered_out > 0 && !printer.is_json() {
        printer.note(&format!(
            "{} left out by the filter",
            plural(report.filtered_out, "test")
        ));
    }
    if skipped > 0 && !printer.is_json() {
        printer.note(&format!(
            "{} not run: `dagfc test --integration` runs their dags in Airflow",
            plural(skipped, "integration test")
        ));
    }
    let is_error = failed > 0 || problem_count > 0 || write_failed;
    let errors = problem_count
        + report
            .results
            .iter()
            .map(|r| r.failures.len())
            .sum::<usize>();
    let line = match skipped {
        0 => format!("{passed} passed, {failed} failed"),
        n => format!("{passed} passed, {failed} failed, {n} skipped"),
    };
    printer.summary(
        &line,
        is_error,
        serde_json::json!({
            "passed": passed,
            "failed": failed,
            "skipped": skipped,
            "filtered_out": report.filtered_out,
            "errors": errors,
            "warnings": 0,
        }),
    );
    if is_error { USER_ERROR } else { 0 }
}

/// Writes one snapshot file, making its folder.
fn write_snapshot(root: &Path, path: &str, text: &str) -> std::io::Result<()> {
    let full: PathBuf = root.join(path);
    if let Some(dir) = full.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(full, text)
}

/// The report as JUnit XML: a suite per file, a case per test, each failure's
/// diagnostics as text.
pub(crate) fn junit_xml(report: &TestReport) -> String {
    let mut files: Vec<&str> = report
        .results
        .iter()
        .map(|r| r.case.file.as_str())
        .collect();
    files.dedup();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"dagfc test\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n",
        report.results.len(),
        report.failed(),
        report.skipped()
    ));
    for file in files {
        let here: Vec<&TestResult> = report
            .results
            .iter()
            .filter(|r| r.case.file == file)
            .collect();
        let failed = here.iter().filter(|r| !r.failures.is_empty()).count();
        let skipped = here.iter().filter(|r| r.skipped()).count();
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" skipped=\"{skipped}\">\n",
            xml(file),
            here.len()
        ));
        for r in here {
            out.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"{}\"",
                xml(&r.case.name),
                xml(file)
            ));
            if r.passed() {
                out.push_str("/>\n");
                continue;
            }
            if r.skipped() {
                out.push_str(">\n      <skipped message=\"an integration test: run with dagfc test --integration\"/>\n    </testcase>\n");
                continue;
            }
            let text = render_human(&r.failures, &r.sources, ColorChoice::Never);
            let first = r.failures.first().map_or("", |d| d.message.as_str());
            out.push_str(&format!(
                ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                xml(first),
                xml(&text)
            ));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Text escaped for XML, without the characters XML 1.0 cannot hold.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}
