//! The files that give each team's folder to Airflow as a dag bundle of its own
//! (Airflow 3's multi-team mode): the bundle list for `[dag_processor]
//! dag_bundle_config_list`, and an `.airflowignore` that keeps the top bundle from
//! loading the teams' dags a second time.

use crate::pools::json_str;
use dagf_ir::TeamFolder;
use std::fmt::Write;

/// The file holding the bundle list, at the top of the output folder.
pub const BUNDLES_FILE: &str = "airflow-bundles.json";
/// The ignore file at the top of the output folder.
pub const IGNORE_FILE: &str = ".airflowignore";
/// Airflow's name for the bundle of the whole dags folder; the top bundle keeps it, so
/// that dags outside the teams' folders stay in the bundle they were in.
const TOP_BUNDLE: &str = "dags-folder";
const LOCAL_BUNDLE: &str = "airflow.dag_processing.bundles.local.LocalDagBundle";

/// The files for the team folders, as (name, text), or none when no folder has a team.
/// `dags_folder` is where the output folder is deployed: bundles name absolute paths.
pub fn team_files(teams: &[TeamFolder], dags_folder: &str) -> Vec<(&'static str, String)> {
    if teams.is_empty() {
        return Vec::new();
    }
    let top = dags_folder.trim_end_matches('/');
    let top = if top.is_empty() { "/" } else { top };
    let mut bundles = String::from("[\n");
    bundle(&mut bundles, TOP_BUNDLE, top, None);
    let mut ignore = String::from(
        "# Written by dagfc: each of these folders is a team's bundle of its own (see\n\
         # airflow-bundles.json), so the bundle of the whole folder leaves them out.\n",
    );
    for t in teams {
        bundles.push_str(",\n");
        let path = format!("{}/{}", top.trim_end_matches('/'), t.folder);
        bundle(&mut bundles, &bundle_name(&t.folder), &path, Some(&t.team));
        let _ = writeln!(ignore, "/{}/", t.folder);
    }
    bundles.push_str("\n]\n");
    vec![(BUNDLES_FILE, bundles), (IGNORE_FILE, ignore)]
}

/// A team folder's bundle name: its path, with `.` between folders (`teams/acme` is
/// `teams.acme`), which Airflow shows in its UI and logs.
pub fn bundle_name(folder: &str) -> String {
    folder.replace('/', ".")
}

fn bundle(out: &mut String, name: &str, path: &str, team: Option<&str>) {
    let _ = write!(
        out,
        "  {{\n    \"name\": {},\n    \"classpath\": {},\n    \"kwargs\": {{\"path\": {}}}",
        json_str(name),
        json_str(LOCAL_BUNDLE),
        json_str(path)
    );
    if let Some(team) = team {
        let _ = write!(out, ",\n    \"team_name\": {}", json_str(team));
    }
    out.push_str("\n  }");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn team(folder: &str, team: &str) -> TeamFolder {
        TeamFolder {
            folder: folder.into(),
            team: team.into(),
        }
    }

    #[test]
    fn no_team_no_files() {
        assert!(team_files(&[], "/opt/airflow/dags").is_empty());
    }

    #[test]
    fn each_team_folder_is_a_bundle_left_out_of_the_top_one() {
        let files = team_files(
            &[team("teams/acme", "acme"), team("globex", "globex")],
            "/srv/dags/",
        );
        let (name, bundles) = &files[0];
        assert_eq!(*name, "airflow-bundles.json");
        assert!(bundles.contains("\"name\": \"dags-folder\""));
        assert!(bundles.contains("\"kwargs\": {\"path\": \"/srv/dags\"}"));
        assert!(bundles.contains("\"name\": \"teams.acme\""));
        assert!(bundles.contains(
            "\"kwargs\": {\"path\": \"/srv/dags/teams/acme\"},\n    \"team_name\": \"acme\""
        ));
        assert_eq!(bundles.matches("team_name").count(), 2);
        let (name, ignore) = &files[1];
        assert_eq!(*name, ".airflowignore");
        assert!(ignore.lines().any(|l| l == "/teams/acme/"));
        assert!(ignore.lines().any(|l| l == "/globex/"));
    }
}
