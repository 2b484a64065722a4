//! Everything that depends on the Airflow version a build targets, in one value: where
//! the generated file imports each name from, the arguments that were renamed, how a
//! schedule is written, which trigger rules and features exist. The checker asks it
//! what a version has (a missing feature is an error naming the version that added
//! it); the code generator asks it how to write what the checker accepted.
//!
//! The tables were measured against real installs of Airflow 2.11.2, 3.0.6, 3.1.8,
//! 3.2.2 and 3.3.2 with the same providers (standard 1.21.0, common-sql 2.4.0, http
//! 6.3.0, smtp 3.2.0, sqlite 4.3.4): each form loads without a warning on the versions
//! it is used for. The book's compatibility matrix is [`matrix`], and a test keeps the
//! two equal.

/// An Airflow release line dagf can generate code for.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// Airflow 2.11: imports from `airflow.models`, `airflow.datasets` and `airflow.decorators`.
    V2_11,
    /// Airflow 3.0: the task SDK (`airflow.sdk`) and assets.
    V3_0,
    /// Airflow 3.1: adds the trigger rule `all_done_min_one_success`.
    V3_1,
    /// Airflow 3.2: adds teams and `retry_exponential_backoff` as a multiplier.
    V3_2,
    /// Airflow 3.3, the default.
    V3_3,
}

impl Version {
    /// Every version, oldest first.
    pub const ALL: [Version; 5] = [
        Version::V2_11,
        Version::V3_0,
        Version::V3_1,
        Version::V3_2,
        Version::V3_3,
    ];

    /// The version a project targets unless it says otherwise.
    pub const DEFAULT: Version = Version::V3_3;

    /// `"3.3"` and the like.
    pub fn parse(text: &str) -> Option<Version> {
        Version::ALL.into_iter().find(|v| v.as_str() == text.trim())
    }

    /// The version as `dagf.toml` and `--target` write it: `"3.3"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V2_11 => "2.11",
            Version::V3_0 => "3.0",
            Version::V3_1 => "3.1",
            Version::V3_2 => "3.2",
            Version::V3_3 => "3.3",
        }
    }

    /// Whether this is Airflow 3 (the task SDK, assets, `fail_fast`).
    pub fn is_3(self) -> bool {
        self >= Version::V3_0
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something a program may use that not every version has.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Feature {
    /// The trigger rule `all_done_min_one_success`.
    AllDoneMinOneSuccess,
    /// `retry_exponential_backoff` as a multiplier rather than on or off.
    BackoffMultiplier,
    /// Teams (multi-team mode): a tenant kind's `team`.
    Teams,
    /// A DAG with a schedule (of any kind) but no start date.
    ScheduleWithoutStart,
    /// `MultipleCronTriggerTimetable`: a schedule of several crons.
    MultipleCrons,
    /// A cron trigger timetable's `run_immediately`.
    RunImmediately,
    /// An asset's `name` apart from its URI, and an asset's or alias's `group`.
    AssetNames,
}

impl Feature {
    /// Every feature, for the matrix.
    pub const ALL: [Feature; 7] = [
        Feature::AllDoneMinOneSuccess,
        Feature::BackoffMultiplier,
        Feature::Teams,
        Feature::ScheduleWithoutStart,
        Feature::MultipleCrons,
        Feature::RunImmediately,
        Feature::AssetNames,
    ];

    /// The first version that has it.
    pub fn since(self) -> Version {
        match self {
            Feature::AllDoneMinOneSuccess => Version::V3_1,
            Feature::BackoffMultiplier => Version::V3_2,
            Feature::Teams => Version::V3_2,
            Feature::ScheduleWithoutStart => Version::V3_0,
            Feature::MultipleCrons => Version::V3_0,
            Feature::RunImmediately => Version::V3_0,
            Feature::AssetNames => Version::V3_0,
        }
    }

    /// How messages and the matrix name it.
    pub fn describe(self) -> &'static str {
        match self {
            Feature::AllDoneMinOneSuccess => "the trigger rule `all_done_min_one_success`",
            Feature::BackoffMultiplier => {
                "`retry_exponential_backoff` as a multiplier (other than 0 and 2)"
            }
            Feature::Teams => "teams (a tenant kind's `team`, Airflow's multi-team mode)",
            Feature::ScheduleWithoutStart => "a DAG with a schedule but no `start`",
            Feature::MultipleCrons => {
                "a schedule of several crons (`MultipleCronTriggerTimetable`)"
            }
            Feature::RunImmediately => "a cron timetable's `run_immediately`",
            Feature::AssetNames => "an asset's `name` apart from its URI, and `group`",
        }
    }
}

/// A name the generated file imports from Airflow itself (operators come from the
/// providers, whose paths do not depend on the version).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Name {
    /// `DAG`, the class a classic file opens with `with DAG(...)`.
    Dag,
    /// `dag`, the decorator of a TaskFlow file.
    DagDecorator,
    /// `task`, the TaskFlow task decorator.
    TaskDecorator,
    /// `TaskGroup`, what a dagf `group` becomes.
    TaskGroup,
    /// `task_group`, the decorator a mapped group's function is made with.
    TaskGroupDecorator,
    /// `Asset` (`Dataset` on Airflow 2).
    Asset,
    /// Every one of some assets (what `a & b` makes).
    AssetAll,
    /// Any one of some assets (what `a | b` makes).
    AssetAny,
    /// `AssetAlias` (`DatasetAlias` on Airflow 2).
    AssetAlias,
    /// A schedule that runs on assets or on a timetable, whichever comes first.
    AssetOrTimeSchedule,
    /// `CronTriggerTimetable`: a cron schedule as a trigger timetable (see [`ScheduleForm`]).
    CronTriggerTimetable,
    /// `DeltaTriggerTimetable`: a `timedelta` schedule as a trigger timetable.
    DeltaTriggerTimetable,
    /// `MultipleCronTriggerTimetable`: several crons, one trigger timetable.
    MultipleCronTriggerTimetable,
    /// `CronDataIntervalTimetable`: a cron whose runs cover the interval before them.
    CronDataIntervalTimetable,
    /// A DAG param with its JSON Schema.
    Param,
}

impl Name {
    /// Every name, in the matrix's order.
    pub const ALL: [Name; 15] = [
        Name::Dag,
        Name::DagDecorator,
        Name::TaskDecorator,
        Name::TaskGroup,
        Name::TaskGroupDecorator,
        Name::Asset,
        Name::AssetAll,
        Name::AssetAny,
        Name::AssetAlias,
        Name::AssetOrTimeSchedule,
        Name::CronTriggerTimetable,
        Name::DeltaTriggerTimetable,
        Name::MultipleCronTriggerTimetable,
        Name::CronDataIntervalTimetable,
        Name::Param,
    ];
}

/// How a schedule is passed to `DAG(...)`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ScheduleForm {
    /// As Airflow 3 reads a string or a `timedelta`: a trigger timetable.
    Plain,
    /// As the trigger timetable object itself: Airflow 2 reads a plain cron string or
    /// `timedelta` as a data-interval timetable, whose runs come one interval later.
    Timetable,
}

/// Everything a build needs to know about the Airflow it targets.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The Airflow release line the generated files are for.
    pub version: Version,
}

/// The SDK module of Airflow 3.
const SDK: &str = "airflow.sdk";

impl Default for Target {
    fn default() -> Self {
        Target::DEFAULT
    }
}

impl Target {
    /// A target of [`Version::DEFAULT`].
    pub const DEFAULT: Target = Target {
        version: Version::DEFAULT,
    };

    /// A target of `version`.
    pub fn new(version: Version) -> Target {
        Target { version }
    }

    /// Whether the version has `feature`.
    pub fn has(&self, feature: Feature) -> bool {
        self.version >= feature.since()
    }

    /// `from MODULE import NAME` for one of Airflow's own names.
    pub fn import(&self, name: Name) -> (&'static str, &'static str) {
        let v2 = !self.version.is_3();
        let sdk_timetables = self.version >= Version::V3_2;
        match name {
            Name::Dag if v2 => ("airflow.models.dag", "DAG"),
            Name::Dag => (SDK, "DAG"),
            Name::DagDecorator if v2 => ("airflow.decorators", "dag"),
            Name::DagDecorator => (SDK, "dag"),
            Name::TaskDecorator if v2 => ("airflow.decorators", "task"),
            Name::TaskDecorator => (SDK, "task"),
            Name::TaskGroup if v2 => ("airflow.utils.task_group", "TaskGroup"),
            Name::TaskGroup => (SDK, "TaskGroup"),
            Name::TaskGroupDecorator if v2 => ("airflow.decorators", "task_group"),
            Name::TaskGroupDecorator => (SDK, "task_group"),
            Name::Asset if v2 => ("airflow.datasets", "Dataset"),
            Name::Asset => (SDK, "Asset"),
            Name::AssetAll if v2 => ("airflow.datasets", "DatasetAll"),
            Name::AssetAll => (SDK, "AssetAll"),
            Name::AssetAny if v2 => ("airflow.datasets", "DatasetAny"),
            Name::AssetAny => (SDK, "AssetAny"),
            Name::AssetAlias if v2 => ("airflow.datasets", "DatasetAlias"),
            Name::AssetAlias => (SDK, "AssetAlias"),
            Name::AssetOrTimeSchedule if v2 => {
                ("airflow.timetables.datasets", "DatasetOrTimeSchedule")
            }
            Name::AssetOrTimeSchedule => ("airflow.timetables.assets", "AssetOrTimeSchedule"),
            // The task SDK has its own timetables from 3.2; before, a DAG file uses the core ones.
            Name::CronTriggerTimetable if sdk_timetables => (SDK, "CronTriggerTimetable"),
            Name::CronTriggerTimetable => ("airflow.timetables.trigger", "CronTriggerTimetable"),
            Name::DeltaTriggerTimetable if sdk_timetables => (SDK, "DeltaTriggerTimetable"),
            Name::DeltaTriggerTimetable => ("airflow.timetables.trigger", "DeltaTriggerTimetable"),
            Name::MultipleCronTriggerTimetable if sdk_timetables => {
                (SDK, "MultipleCronTriggerTimetable")
            }
            Name::MultipleCronTriggerTimetable => {
                ("airflow.timetables.trigger", "MultipleCronTriggerTimetable")
            }
            Name::CronDataIntervalTimetable if sdk_timetables => (SDK, "CronDataIntervalTimetable"),
            Name::CronDataIntervalTimetable => {
                ("airflow.timetables.interval", "CronDataIntervalTimetable")
            }
            Name::Param if v2 => ("airflow.models.param", "Param"),
            Name::Param => (SDK, "Param"),
        }
    }

    /// The keyword argument of `DAG(...)` for a dagf DAG field.
    pub fn dag_kwarg<'f>(&self, field: &'f str) -> &'f str {
        match field {
            "start" => "start_date",
            "end" => "end_date",
            "doc" => "doc_md",
            "fail_fast" if !self.version.is_3() => "fail_stop",
            other => other,
        }
    }

    /// Whether a DAG without a schedule says `schedule=None`: Airflow 2 reads a missing
    /// schedule as daily (and warns), Airflow 3 as none.
    pub fn writes_missing_schedule(&self) -> bool {
        !self.version.is_3()
    }

    /// How a cron string or an interval is passed as a schedule.
    pub fn schedule_form(&self) -> ScheduleForm {
        if self.version.is_3() {
            ScheduleForm::Plain
        } else {
            ScheduleForm::Timetable
        }
    }

    /// Whether a schedule preset must be written as its cron expression: Airflow 3.2
    /// rejects `"@quarterly"` (its timetable knows only the other presets).
    pub fn expands_preset(&self, preset: &str) -> bool {
        self.version == Version::V3_2 && preset == "quarterly"
    }

    /// Whether `retry_exponential_backoff` is written as `True`/`False`: before 3.2 it
    /// takes only a bool (on meaning a multiplier of 2).
    pub fn backoff_is_bool(&self) -> bool {
        !self.has(Feature::BackoffMultiplier)
    }

    /// What a sensor that sets no `timeout` waits, as Airflow declares it: a number of
    /// seconds, or (3.3) none, which reads `[sensors] default_timeout` (also 7 days).
    pub fn sensor_timeout_default(&self) -> &'static str {
        if self.version >= Version::V3_3 {
            "`None` (the setting `[sensors] default_timeout`, 7 days)"
        } else {
            "`604800` (7 days)"
        }
    }

    /// The TaskFlow decorator that stands for an operator class, as what follows
    /// `task` (`""` for `@task`, `".branch"`, ...); the same on every version dagf
    /// targets (the standard providers' Python operators).
    pub fn taskflow_decorator(&self, module: &str, class: &str) -> Option<&'static str> {
        TASKFLOW_DECORATORS
            .iter()
            .find(|(m, c, _)| *m == module && *c == class)
            .map(|(_, _, decorator)| *decorator)
    }

    /// The trigger rules the version knows.
    pub fn trigger_rules(&self) -> Vec<&'static str> {
        TRIGGER_RULES
            .iter()
            .filter(|(_, since)| self.version >= *since)
            .map(|(rule, _)| *rule)
            .collect()
    }
}

/// Operator classes (module, class) that TaskFlow writes as a decorator of `task`.
const TASKFLOW_DECORATORS: [(&str, &str, &str); 3] = [
    (PYTHON_OPERATORS, "PythonOperator", ""),
    (PYTHON_OPERATORS, "BranchPythonOperator", ".branch"),
    (PYTHON_OPERATORS, "ShortCircuitOperator", ".short_circuit"),
];

const PYTHON_OPERATORS: &str = "airflow.providers.standard.operators.python";

/// Every trigger rule dagf accepts, and the first version that has it.
pub const TRIGGER_RULES: [(&str, Version); 13] = [
    ("all_success", Version::V2_11),
    ("all_failed", Version::V2_11),
    ("all_done", Version::V2_11),
    ("all_done_min_one_success", Version::V3_1),
    ("all_done_setup_success", Version::V2_11),
    ("all_skipped", Version::V2_11),
    ("one_success", Version::V2_11),
    ("one_done", Version::V2_11),
    ("one_failed", Version::V2_11),
    ("none_failed", Version::V2_11),
    ("none_failed_min_one_success", Version::V2_11),
    ("none_skipped", Version::V2_11),
    ("always", Version::V2_11),
];

/// The cron expression a schedule preset (without its `@`) stands for; `None` for
/// `once` and `continuous`, which are no cron.
pub fn preset_cron(preset: &str) -> Option<&'static str> {
    Some(match preset {
        "hourly" => "0 * * * *",
        "daily" | "midnight" => "0 0 * * *",
        "weekly" => "0 0 * * 0",
        "monthly" => "0 0 1 * *",
        "quarterly" => "0 0 1 */3 *",
        "yearly" | "annually" => "0 0 1 1 *",
        _ => return None,
    })
}

/// The compatibility matrix, as the book shows it: one row per name, renamed argument,
/// form and feature, one column per version.
pub fn matrix() -> String {
    let mut out = String::new();
    let header: Vec<String> = Version::ALL.iter().map(|v| v.to_string()).collect();
    out.push_str(&format!("| | {} |\n", header.join(" | ")));
    out.push_str(&format!("|---|{}\n", "---|".repeat(Version::ALL.len())));
    let row = |out: &mut String, what: String, cell: &dyn Fn(Target) -> String| {
        let cells: Vec<String> = Version::ALL.iter().map(|&v| cell(Target::new(v))).collect();
        out.push_str(&format!("| {what} | {} |\n", cells.join(" | ")));
    };
    for name in Name::ALL {
        let (_, shown) = Target::DEFAULT.import(name);
        row(&mut out, format!("`{shown}` comes from"), &|t| {
            let (module, name) = t.import(name);
            format!("`{module}.{name}`")
        });
    }
    row(&mut out, "`fail_fast` is written".into(), &|t| {
        format!("`{}`", t.dag_kwarg("fail_fast"))
    });
    row(
        &mut out,
        "a cron or interval schedule is written".into(),
        &|t| match t.schedule_form() {
            ScheduleForm::Plain => "as it is".into(),
            ScheduleForm::Timetable => "as a trigger timetable".into(),
        },
    );
    row(
        &mut out,
        "`@daily` (and the other cron presets) is written".into(),
        &|t| match t.schedule_form() {
            ScheduleForm::Plain => "`\"@daily\"`".into(),
            ScheduleForm::Timetable => "`CronTriggerTimetable(\"0 0 * * *\", ...)`".into(),
        },
    );
    row(
        &mut out,
        "a DAG without a schedule is written with".into(),
        &|t| {
            if t.writes_missing_schedule() {
                "`schedule=None`".into()
            } else {
                "no `schedule`".into()
            }
        },
    );
    row(&mut out, "`@quarterly` is written".into(), &|t| {
        if t.schedule_form() == ScheduleForm::Timetable {
            "`CronTriggerTimetable(\"0 0 1 */3 *\", ...)`".into()
        } else if t.expands_preset("quarterly") {
            "`\"0 0 1 */3 *\"`".into()
        } else {
            "`\"@quarterly\"`".into()
        }
    });
    row(
        &mut out,
        "`retry_exponential_backoff` is written".into(),
        &|t| {
            if t.backoff_is_bool() {
                "`True` or `False`".into()
            } else {
                "as a number".into()
            }
        },
    );
    row(&mut out, "a sensor's default `timeout`".into(), &|t| {
        t.sensor_timeout_default().into()
    });
    for feature in Feature::ALL {
        row(&mut out, feature.describe().to_string(), &|t| {
            if t.has(feature) { "yes" } else { "no" }.into()
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_read_back() {
        for v in Version::ALL {
            assert_eq!(Version::parse(v.as_str()), Some(v));
        }
        assert_eq!(Version::parse("3.4"), None);
        assert_eq!(Version::parse("2.10"), None);
    }

    #[test]
    fn features_follow_versions() {
        let old = Target::new(Version::V3_0);
        assert!(!old.has(Feature::AllDoneMinOneSuccess));
        assert!(!old.trigger_rules().contains(&"all_done_min_one_success"));
        assert!(Target::new(Version::V3_1).has(Feature::AllDoneMinOneSuccess));
        assert!(!Target::new(Version::V3_1).has(Feature::Teams));
        assert!(Target::DEFAULT.has(Feature::Teams));
        assert_eq!(
            Target::new(Version::V2_11).dag_kwarg("fail_fast"),
            "fail_stop"
        );
        assert_eq!(Target::DEFAULT.dag_kwarg("fail_fast"), "fail_fast");
        assert_eq!(Target::new(Version::V2_11).import(Name::Asset).1, "Dataset");
    }

    #[test]
    fn taskflow_writes_only_the_python_operators_as_decorators() {
        for v in Version::ALL {
            let t = Target::new(v);
            assert_eq!(
                t.taskflow_decorator(PYTHON_OPERATORS, "PythonOperator"),
                Some("")
            );
            assert_eq!(
                t.taskflow_decorator(PYTHON_OPERATORS, "BranchPythonOperator"),
                Some(".branch")
            );
            assert_eq!(t.taskflow_decorator(PYTHON_OPERATORS, "BashOperator"), None);
            assert_eq!(
                t.taskflow_decorator(
                    "airflow.providers.standard.operators.bash",
                    "PythonOperator"
                ),
                None
            );
        }
    }

    #[test]
    fn forms_change_only_where_airflow_reads_them_differently() {
        let old = Target::new(Version::V2_11);
        assert_eq!(old.schedule_form(), ScheduleForm::Timetable);
        assert!(old.writes_missing_schedule() && old.backoff_is_bool());
        assert_eq!(old.import(Name::Dag), ("airflow.models.dag", "DAG"));
        for v in [Version::V3_0, Version::V3_1, Version::V3_2, Version::V3_3] {
            let t = Target::new(v);
            assert_eq!(t.schedule_form(), ScheduleForm::Plain);
            assert!(!t.writes_missing_schedule());
            assert_eq!(t.import(Name::TaskGroup), ("airflow.sdk", "TaskGroup"));
            assert_eq!(t.expands_preset("quarterly"), v == Version::V3_2);
            assert!(!t.expands_preset("daily"));
            assert_eq!(t.backoff_is_bool(), v < Version::V3_2);
        }
        assert_eq!(preset_cron("quarterly"), Some("0 0 1 */3 *"));
        assert_eq!(preset_cron("midnight"), Some("0 0 * * *"));
        assert_eq!(preset_cron("once"), None);
        assert_eq!(preset_cron("continuous"), None);
    }

    #[test]
    fn the_matrix_has_a_row_per_name_and_feature_and_a_cell_per_version() {
        let m = matrix();
        let rows: Vec<&str> = m.lines().collect();
        assert!(rows.len() > Name::ALL.len() + Feature::ALL.len() + 2);
        for row in &rows {
            assert_eq!(row.matches('|').count(), Version::ALL.len() + 2, "{row}");
        }
        assert!(m.contains("| `fail_fast` is written | `fail_stop` | `fail_fast` |"));
    }
}
