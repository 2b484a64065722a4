//! Conversions of small dag-factory files, the diagnostics of what cannot be converted
//! (each at its place in the YAML), and that no text makes the import panic.

use super::*;
use dagf_diag::{Severity, SourceFile};
use proptest::prelude::*;

const BASH: &str = "airflow.providers.standard.operators.bash.BashOperator";
const EMPTY: &str = "airflow.providers.standard.operators.empty.EmptyOperator";
const PYTHON: &str = "airflow.providers.standard.operators.python.PythonOperator";

fn import(yaml: &str) -> Imported {
    dag_factory(yaml, FileId(0), "test.yml")
}

/// The import's text, which must come without any diagnostic.
fn clean(yaml: &str) -> String {
    let out = import(yaml);
    let shown: Vec<String> = out
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    assert!(
        shown.is_empty(),
        "unexpected diagnostics {shown:?} for:\n{yaml}"
    );
    out.dagf
}

/// (code, 1-based line of the primary label, message) of every diagnostic.
fn found(yaml: &str) -> Vec<(String, usize, String)> {
    let file = SourceFile::new("test.yml", yaml);
    let out = import(yaml);
    out.diagnostics
        .into_sorted()
        .into_iter()
        .map(|d| {
            let line = d
                .primary
                .as_ref()
                .map_or(0, |l| file.line_col(l.span.start).line);
            (d.code.to_string(), line, d.message)
        })
        .collect()
}

fn has(found: &[(String, usize, String)], code: &str, line: usize) -> bool {
    found.iter().any(|(c, l, _)| c == code && *l == line)
}

fn contains_lines(text: &str, lines: &[&str]) {
    for l in lines {
        assert!(
            text.lines().any(|t| t.trim() == l.trim()),
            "no line `{l}` in:\n{text}"
        );
    }
}

#[test]
fn tasks_as_a_list_and_as_a_mapping_give_the_same_dags() {
    let list = format!(
        "etl:\n  tasks:\n    - task_id: extract\n      operator: {BASH}\n      bash_command: echo extract\n    - task_id: load\n      operator: {EMPTY}\n      dependencies: [extract]\n"
    );
    let mapping = format!(
        "etl:\n  tasks:\n    extract:\n      operator: {BASH}\n      bash_command: echo extract\n    load:\n      operator: {EMPTY}\n      dependencies: [extract]\n"
    );
    let a = clean(&list);
    assert_eq!(a, clean(&mapping));
    contains_lines(
        &a,
        &[
            "dag etl {",
            "task extract: bash {",
            "bash_command = \"echo extract\"",
            "task load: empty",
            "extract >> load",
        ],
    );
}

#[test]
fn defaults_become_a_mixin_and_dags_say_what_they_change() {
    let yaml = format!(
        "default:\n  schedule: '@daily'\n  catchup: false\n  tags: [etl]\n  default_args:\n    owner: data\n    retries: 2\n\
         a:\n  tasks:\n    t:\n      operator: {EMPTY}\n\
         b:\n  schedule: '@hourly'\n  catchup: null\n  default_args:\n    retries: 5\n    pool: big\n  tasks:\n    t:\n      operator: {EMPTY}\n"
    );
    let text = clean(&yaml);
    contains_lines(
        &text,
        &[
            "mixin defaults {",
            "schedule = \"@daily\"",
            "dag a with defaults {",
            "dag b with defaults {",
            "override schedule = \"@hourly\"",
            "override default_args {",
            "retries = 5",
            "pool = \"big\"",
            // dag-factory's pools are made in Airflow: the import declares them extern.
            "extern pool big",
            // `catchup: null` in the dag replaces the default's value (merge_configs).
            "override catchup = none",
        ],
    );
    // What `b` does not change is not repeated, and `a` changes nothing.
    assert!(!text.contains("owner = \"data\"\n        retries = 5"));
    assert_eq!(text.matches("owner = \"data\"").count(), 1, "{text}");
    let a = text
        .split("dag a with defaults {")
        .nth(1)
        .and_then(|r| r.split("dag b").next())
        .unwrap_or_default();
    assert!(
        !a.contains("schedule") && !a.contains("default_args"),
        "{a}"
    );
}

#[test]
fn nested_mappings_merge_with_the_default_key_by_key() {
    let yaml = format!(
        "default:\n  params:\n    a: 1\n    nested: {{x: 1}}\nd:\n  params:\n    nested: {{y: 2}}\n  tasks:\n    t: {{operator: {EMPTY}}}\n"
    );
    let text = clean(&yaml);
    // merge_configs merges recursively: `nested` holds both keys (the dag's first).
    contains_lines(&text, &["override params {", "nested = { y = 2, x = 1 }"]);
}

#[test]
fn python_callables_by_dotted_path_by_file_and_by_yaml_tag() {
    let yaml = format!(
        "d:\n  tasks:\n    a:\n      operator: {PYTHON}\n      python_callable: etl.jobs.extract\n\
         \x20   b:\n      operator: {PYTHON}\n      python_callable_name: transform\n      python_callable_file: /opt/airflow/dags/etl_jobs.py\n\
         \x20   c:\n      operator: {PYTHON}\n      python_callable: !!python/name:etl.jobs.load\n"
    );
    let text = clean(&yaml);
    contains_lines(
        &text,
        &[
            "python_callable = \"etl.jobs.extract\"",
            "python_callable = \"etl_jobs.transform\"",
            "python_callable = \"etl.jobs.load\"",
        ],
    );
}

#[test]
fn callbacks_by_dotted_path_and_with_arguments() {
    let yaml = format!(
        "d:\n  on_failure_callback: alerts.page\n  on_success_callback:\n    callback: alerts.SlackNotifier\n    channel: '#ok'\n  default_args:\n    on_retry_callback:\n      callback: alerts.post\n      channel: '#retries'\n  tasks:\n    t:\n      operator: {EMPTY}\n      on_execute_callback_name: started\n      on_execute_callback_file: /dags/hooks.py\n"
    );
    let text = clean(&yaml);
    contains_lines(
        &text,
        &[
            "callback slack_notifier = notifier \"alerts.SlackNotifier\" {",
            "callback post = python \"alerts.post\" {",
            "channel = \"#retries\"",
            "on_failure_callback = \"alerts.page\"",
            "on_success_callback = slack_notifier",
            "on_retry_callback = post",
            "on_execute_callback = \"hooks.started\"",
        ],
    );
}

#[test]
fn other_operators_are_declared_with_the_fields_the_tasks_use() {
    let yaml = "d:\n  tasks:\n    load:\n      operator: acme.operators.WarehouseLoadOperator\n      table: sales.orders\n      batch: 500\n      retries: 3\n    wait:\n      operator: acme.sensors.S3KeySensor\n      bucket_key: s3://x/y\n      poke_interval: 30\n";
    let text = clean(yaml);
    contains_lines(
        &text,
        &[
            "operator warehouse_load_operator = \"acme.operators.WarehouseLoadOperator\" {",
            "table: any?",
            "batch: any?",
            "sensor s3_key_sensor = \"acme.sensors.S3KeySensor\" {",
            "bucket_key: any?",
            "task load: warehouse_load_operator {",
            "retries = 3",
            // A sensor's poke_interval is read as seconds.
            "poke_interval = 30s",
        ],
    );
    // Task arguments every operator takes are not redeclared.
    assert!(!text.contains("retries: any?"), "{text}");
}

#[test]
fn task_groups_nest_and_connect() {
    let yaml = format!(
        "d:\n  task_groups:\n    outer:\n      tooltip: the outer group\n      default_args: {{retries: 4}}\n    inner:\n      parent_group_name: outer\n    after:\n      dependencies: [outer]\n  tasks:\n    a: {{operator: {EMPTY}, task_group_name: outer}}\n    b: {{operator: {EMPTY}, task_group_name: inner, dependencies: [a]}}\n    c: {{operator: {EMPTY}, task_group_name: after}}\n    d: {{operator: {EMPTY}, dependencies: [c], retries: 1}}\n    e: {{operator: {EMPTY}, task_group_name: inner, retries: 0}}\n"
    );
    let text = clean(&yaml);
    contains_lines(
        &text,
        &[
            "group outer {",
            "tooltip = \"the outer group\"",
            "group inner {",
            // The edge is written in the group holding both tasks, by path.
            "a >> inner.b",
            "outer >> \"after\"",
            // `after` is special in dagf, so it cannot start a path: the edge is written
            // inside the group, where `d` is found by name.
            "c >> d",
            // The group's default_args reach its tasks, nested ones too, unless set.
            "retries = 4",
            "retries = 0",
        ],
    );
    assert_eq!(text.matches("retries = 4").count(), 2, "{text}");
}

#[test]
fn names_that_are_not_identifiers_are_strings_or_reported() {
    let ok = format!(
        "d:\n  task_groups:\n    g: {{}}\n  tasks:\n    load-a: {{operator: {EMPTY}}}\n    t-b: {{operator: {EMPTY}, task_group_name: g, dependencies: [load-a]}}\n"
    );
    let text = clean(&ok);
    // Reached by name from inside the group.
    contains_lines(&text, &["task \"load-a\": empty", "\"load-a\" >> \"t-b\""]);

    let bad = format!(
        "d:\n  task_groups:\n    g1: {{}}\n    g2: {{}}\n  tasks:\n    x-1: {{operator: {EMPTY}, task_group_name: g1}}\n    y: {{operator: {EMPTY}, task_group_name: g2, dependencies: [x-1]}}\n"
    );
    let f = found(&bad);
    assert!(has(&f, "E0601", 7), "{f:?}");
}

#[test]
fn unknown_names_and_fields_are_reported_where_they_are_written() {
    let yaml = format!(
        "d:\n  tasks:\n    extract:\n      operator: {BASH}\n      bash_comand: x\n    load:\n      operator: {EMPTY}\n      dependencies: [extrakt]\n      task_group_name: nowhere\n"
    );
    let f = found(&yaml);
    assert!(has(&f, "E0601", 5), "{f:?}");
    assert!(has(&f, "E0602", 8), "{f:?}");
    // Without task groups, dag-factory ignores `task_group_name`.
    assert!(has(&f, "W0601", 9), "{f:?}");
    let out = import(&yaml);
    let helps: Vec<String> = out
        .diagnostics
        .iter()
        .filter_map(|d| d.help.clone())
        .collect();
    assert!(
        helps.iter().any(|h| h.contains("`bash_command`")),
        "{helps:?}"
    );
    assert!(helps.iter().any(|h| h.contains("`extract`")), "{helps:?}");
}

#[test]
fn keys_dag_factory_ignores_are_dropped_with_a_warning() {
    let yaml = format!("d:\n  shedule: '@daily'\n  tasks:\n    t: {{operator: {EMPTY}}}\n");
    let out = import(&yaml);
    assert!(!out.diagnostics.has_errors());
    let w: Vec<&Diagnostic> = out.diagnostics.iter().collect();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].code.as_str(), "W0601");
    assert_eq!(w[0].severity(), Severity::Warning);
    assert_eq!(w[0].help.as_deref(), Some("did you mean `schedule`?"));
    assert!(!out.dagf.contains("shedule") && out.dagf.contains("dag d {"));
}

#[test]
fn expand_and_partial_become_a_mapped_task() {
    let yaml = format!(
        "d:\n  tasks:\n    list_files:\n      operator: {PYTHON}\n      python_callable: etl.list_files\n\
         \x20   per_file:\n      operator: {PYTHON}\n      partial:\n        python_callable: etl.load\n        retries: 2\n\
         \x20     expand:\n        op_args: list_files.output\n      dependencies: [list_files]\n\
         \x20   per_xcom:\n      operator: {BASH}\n      expand:\n        bash_command: XcomArg(list_files)\n\
         \x20   each:\n      operator: {BASH}\n      expand:\n        bash_command: [echo a, echo b]\n"
    );
    let text = clean(&yaml);
    contains_lines(
        &text,
        &[
            "python_callable = \"etl.load\"",
            "retries = 2",
            "expand = { op_args = list_files.output }",
            "expand = { bash_command = list_files.output }",
            "expand = { bash_command = [\"echo a\", \"echo b\"] }",
        ],
    );
    // A value that is not a list is refused where it is, as dagf would refuse it.
    let bad = format!(
        "d:\n  tasks:\n    t:\n      operator: {BASH}\n      expand:\n        bash_command: echo\n"
    );
    let bad = found(&bad);
    assert!(has(&bad, "E0338", 6) && bad.len() == 1, "{bad:?}");
}

#[test]
fn what_cannot_be_converted_is_an_error_at_its_place() {
    let cases: [(String, &str, usize); 9] = [
        (
            "d:\n  tasks:\n    t:\n      decorator: airflow.sdk.task\n      python_callable: a.b\n"
                .to_string(),
            "E0601",
            4,
        ),
        (
            format!(
                "d:\n  tasks:\n    t:\n      operator: {BASH}\n      expand: {{bash_command: my-task.output}}\n"
            ),
            "E0601",
            5,
        ),
        (
            format!("d:\n  start_date: 3 days\n  tasks:\n    t: {{operator: {EMPTY}}}\n"),
            "E0601",
            2,
        ),
        (
            format!(
                "d:\n  timezone: Europe/Berlin\n  start_date: 2024-01-01\n  tasks:\n    t: {{operator: {EMPTY}}}\n"
            ),
            "E0601",
            2,
        ),
        (
            format!("d:\n  timetable: x.Y\n  tasks:\n    t: {{operator: {EMPTY}}}\n"),
            "E0601",
            2,
        ),
        (
            format!(
                "d:\n  params:\n    p: {{__type__: airflow.sdk.Param, default: 1}}\n  tasks:\n    t: {{operator: {EMPTY}}}\n"
            ),
            "E0601",
            3,
        ),
        (
            format!("d:\n  schedule_interval: '@daily'\n  tasks:\n    t: {{operator: {EMPTY}}}\n"),
            "E0602",
            2,
        ),
        (
            format!(
                "d:\n  task_groups:\n    g: {{prefix_group_id: false}}\n  tasks:\n    t: {{operator: {EMPTY}, task_group_name: g}}\n"
            ),
            "E0601",
            3,
        ),
        (
            format!(
                "d:\n  default_args:\n    email_on_failure: true\n  tasks:\n    t: {{operator: {EMPTY}}}\n"
            ),
            "E0601",
            3,
        ),
    ];
    for (yaml, code, line) in cases {
        let f = found(&yaml);
        assert!(
            has(&f, code, line),
            "expected {code} at line {line}, found {f:?} in:\n{yaml}"
        );
    }
}

#[test]
fn problems_the_compiler_finds_are_shown_in_the_yaml() {
    let yaml = format!(
        "d:\n  schedule: '0 25 * * *'\n  tasks:\n    a:\n      operator: {EMPTY}\n      trigger_rule: all_sucess\n    b:\n      operator: {EMPTY}\n      dependencies: [a, b]\n"
    );
    let f = found(&yaml);
    assert!(has(&f, "E0303", 2), "{f:?}");
    assert!(has(&f, "E0305", 6), "{f:?}");
    assert!(f.iter().any(|(c, _, _)| c == "E0309"), "{f:?}");
    let out = import(&yaml);
    let cron = out
        .diagnostics
        .iter()
        .find(|d| d.code.as_str() == "E0303")
        .expect("cron error");
    assert!(
        cron.notes
            .iter()
            .any(|n| n.contains("in the imported .dagf"))
    );
}

#[test]
fn yaml_is_read_as_pyyaml_reads_it() {
    let yaml = format!(
        "d:\n  catchup: no\n  max_active_runs: 010\n  start_date: 2024-02-29 06:30:00\n  tags: ['1', 1_0]\n  tasks:\n    t: {{operator: {EMPTY}, retries: 0x3}}\n"
    );
    let out = import(&yaml);
    let text = out.dagf.replace(' ', "");
    for l in [
        "catchup=false",
        "max_active_runs=8",
        "start=2024-02-29T06:30",
        "tags=[\"1\",10]",
        "retries=3",
    ] {
        assert!(text.contains(l), "no `{l}` in {text}");
    }
    // `1_0` is the integer 10 in YAML 1.1, which a list of strings does not take.
    let f = found(&yaml);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(has(&f, "E0201", 5), "{f:?}");
}

#[test]
fn anchors_merge_keys_and_types_are_followed() {
    let yaml = format!(
        "d:\n  dagrun_timeout: {{__type__: datetime.timedelta, hours: 2, minutes: 30}}\n  tasks:\n    a: &base\n      operator: {BASH}\n      bash_command: run\n      retries: 2\n    b:\n      <<: *base\n      bash_command: {{__join__: [run, ' ', 2]}}\n      dependencies: [a]\n"
    );
    let text = clean(&yaml);
    contains_lines(
        &text,
        &[
            "dagrun_timeout = 2h30m",
            "bash_command = \"run 2\"",
            "a >> b",
        ],
    );
    assert_eq!(text.matches("retries = 2").count(), 2, "{text}");
}

#[test]
fn assets_are_declared_once() {
    let yaml = format!(
        "producer:\n  tasks:\n    t:\n      operator: {EMPTY}\n      outlets: ['s3://lake/orders']\n\
         consumer:\n  schedule: ['s3://lake/orders', 's3://lake/fx']\n  tasks:\n    t: {{operator: {EMPTY}}}\n"
    );
    let text = clean(&yaml);
    contains_lines(
        &text,
        &[
            "asset lake_orders = \"s3://lake/orders\"",
            "extern asset lake_fx = \"s3://lake/fx\"",
            "outlets = [lake_orders]",
            "schedule = lake_orders & lake_fx",
        ],
    );
}

#[test]
fn dags_outside_the_file_are_declared_extern_once() {
    let yaml = "a:\n  tasks:\n    kick:\n      operator: airflow.providers.standard.operators.trigger_dagrun.TriggerDagRunOperator\n      trigger_dag_id: billing\n    again:\n      operator: airflow.providers.standard.operators.trigger_dagrun.TriggerDagRunOperator\n      trigger_dag_id: billing\n    own:\n      operator: airflow.providers.standard.operators.trigger_dagrun.TriggerDagRunOperator\n      trigger_dag_id: b\n    later:\n      operator: airflow.providers.standard.operators.trigger_dagrun.TriggerDagRunOperator\n      trigger_dag_id: '{{ params.target }}'\n\
         b:\n  tasks:\n    wait:\n      operator: airflow.providers.standard.sensors.external_task.ExternalTaskSensor\n      external_dag_id: ledger\n";
    let text = clean(yaml);
    contains_lines(&text, &["extern dag \"billing\"", "extern dag \"ledger\""]);
    assert_eq!(text.matches("extern dag").count(), 2, "{text}");
}

#[test]
fn asset_objects_named_after_their_uri_are_assets() {
    let yaml = format!(
        "p:\n  tasks:\n    t:\n      operator: {EMPTY}\n      outlets:\n        - __type__: airflow.sdk.Asset\n          uri: s3://lake/a\n"
    );
    contains_lines(
        &clean(&yaml),
        &["asset lake_a = \"s3://lake/a\"", "outlets = [lake_a]"],
    );
    let named = format!("{yaml}          name: a_asset\n");
    assert!(has(&found(&named), "E0601", 6), "{:?}", found(&named));
}

#[test]
fn dag_arguments_in_default_args_have_no_effect() {
    let yaml = format!(
        "d:\n  default_args:\n    owner: me\n    catchup: false\n  tasks:\n    t: {{operator: {EMPTY}}}\n"
    );
    let out = import(&yaml);
    assert!(!out.diagnostics.has_errors());
    assert!(has(&found(&yaml), "W0601", 4), "{:?}", found(&yaml));
    assert!(!out.dagf.contains("catchup") && out.dagf.contains("owner = \"me\""));
}

#[test]
fn durations_strings_and_multi_line_text() {
    let yaml = format!(
        "d:\n  default_args:\n    retry_delay: 90\n  tasks:\n    t:\n      operator: {BASH}\n      bash_command: |\n        echo \"${{HOME}}\" \\\n          && date\n"
    );
    let text = clean(&yaml);
    contains_lines(&text, &["retry_delay = 1m30s", "bash_command = \"\"\""]);
    assert!(text.contains("echo \"\\${HOME}\" \\\\"), "{text}");
}

#[test]
fn malformed_files_are_diagnostics() {
    let cases: [(&str, &str, usize); 7] = [
        ("d:\n  tasks: [\n", "E0602", 3),
        ("d: {a: 1}\nd: {a: 2}\n", "E0602", 2),
        ("- a\n- b\n", "E0602", 1),
        ("", "E0602", 1),
        ("a: 1\n---\nb: 2\n", "E0602", 3),
        ("d:\n  tasks:\n    t: {operator: 5}\n", "E0602", 3),
        ("d:\n  tasks:\n    t: {bash_command: x}\n", "E0602", 3),
    ];
    for (yaml, code, line) in cases {
        let f = found(yaml);
        assert!(
            has(&f, code, line),
            "expected {code} at line {line}, found {f:?} in:\n{yaml}"
        );
    }
    let only_default = found("default:\n  schedule: '@daily'\n");
    assert!(has(&only_default, "W0601", 1), "{only_default:?}");
}

#[test]
fn the_output_starts_with_where_it_came_from() {
    let text = clean(&format!("d:\n  tasks:\n    t: {{operator: {EMPTY}}}\n"));
    assert!(text.starts_with("// Imported from test.yml by `dagfc import dag-factory`"));
}

/// Every span lies inside the text, on character boundaries.
fn spans_in_bounds(text: &str, out: &Imported) {
    for d in out.diagnostics.iter() {
        for l in d.primary.iter().chain(&d.secondary) {
            let (s, e) = (l.span.start as usize, l.span.end as usize);
            assert!(s <= e && e <= text.len(), "{:?} in {text:?}", l.span);
            assert!(text.is_char_boundary(s) && text.is_char_boundary(e));
        }
    }
}

/// Pieces dag-factory files are made of, to build near-valid files from.
const PIECES: [&str; 32] = [
    "d:",
    "\n",
    "  ",
    "    ",
    "tasks:",
    "task_groups:",
    "default:",
    "default_args:",
    "operator: airflow.providers.standard.operators.bash.BashOperator",
    "operator: acme.X",
    "bash_command: x",
    "dependencies: [a]",
    "task_group_name: g",
    "parent_group_name: g",
    "a:",
    "g:",
    "- task_id: a",
    "- group_name: g",
    "{",
    "}",
    "[",
    "]",
    ",",
    "&x",
    "*x",
    "<<:",
    "__type__: datetime.timedelta",
    "schedule: '@daily'",
    "on_failure_callback: {callback: a.B, x: 1}",
    "- ",
    "é",
    "null",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_text_is_an_import_or_a_diagnostic(text in "\\PC{0,200}") {
        let out = import(&text);
        spans_in_bounds(&text, &out);
    }

    #[test]
    fn piece_soup_is_an_import_or_a_diagnostic(picks in proptest::collection::vec(0..PIECES.len(), 0..40)) {
        let text: String = picks.iter().map(|&i| PIECES[i]).collect();
        let out = import(&text);
        spans_in_bounds(&text, &out);
        // Without an error, the import compiled: it is a complete dagf file.
        if !out.diagnostics.has_errors() {
            prop_assert!(out.dagf.starts_with("// Imported from"));
        }
    }
}
