//! The command-line tree against its help and its reference page.

use super::*;
use std::collections::BTreeSet;

/// Every command with its subcommands' path (`import dag-factory`), leaves only, as
/// `dagfc --help` and its children list them (without clap's `help`).
fn leaves(cmd: &clap::Command, path: &str, into: &mut Vec<(String, clap::Command)>) {
    let subs: Vec<&clap::Command> = cmd
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
        .collect();
    if subs.is_empty() && !path.is_empty() {
        into.push((path.to_string(), cmd.clone()));
    }
    for sub in subs {
        let p = if path.is_empty() {
            sub.get_name().to_string()
        } else {
            format!("{path} {}", sub.get_name())
        };
        leaves(sub, &p, into);
    }
}

fn built() -> clap::Command {
    let mut cmd = command();
    cmd.build();
    cmd
}

#[test]
fn every_argument_and_command_in_help_is_described() {
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            if arg
                .get_help()
                .is_none_or(|h| h.to_string().trim().is_empty())
            {
                missing.push(format!("`{path}` argument `{}`", arg.get_id()));
            }
            if arg.is_hide_possible_values_set() {
                continue;
            }
            // The values of an option that lists them (`--color auto|always|never`)
            // are explained one by one; a shell's name needs no explaining.
            if arg.get_id() == "shell" {
                continue;
            }
            for value in arg.get_possible_values() {
                if value.get_help().is_none() && arg.get_action().takes_values() {
                    missing.push(format!(
                        "`{path}` argument `{}` value `{}`",
                        arg.get_id(),
                        value.get_name()
                    ));
                }
            }
        }
        for sub in cmd.get_subcommands() {
            let p = format!("{path} {}", sub.get_name());
            if sub.get_about().is_none() {
                missing.push(format!("command `{p}`"));
            }
            walk(sub, &p, missing);
        }
    }
    let cmd = built();
    let mut missing = Vec::new();
    walk(&cmd, "dagfc", &mut missing);
    assert!(missing.is_empty(), "no help text: {missing:#?}");
    // The walk saw the tree: arguments of commands two levels down included.
    let mut all = Vec::new();
    leaves(&cmd, "", &mut all);
    assert!(
        all.iter().any(|(p, _)| p == "import dag-factory"),
        "{all:?}"
    );
}

#[test]
fn build_options_belong_to_the_commands_that_build() {
    let parse = |line: &str| Args::try_parse_from(line.split_whitespace());
    for ok in [
        "dagfc build --project p --env dev -j 2 --target 3.0 --out d -O0",
        "dagfc check --project p --env dev --jobs 2 --target 2.11",
        "dagfc explain-value d schedule --project p --env dev --target 3.1",
        "dagfc schema Cfg --project p --partial",
        "dagfc --color never --message-format json -q check",
        "dagfc check --color never --message-format json -q",
        "dagfc explain E0201 --color never",
        "dagfc explain --list",
        "dagfc completions bash",
        "dagfc test --project p --env dev -j 2 --target 3.0 --junit r.xml --update name",
    ] {
        assert!(parse(ok).is_ok(), "{ok}: {:?}", parse(ok).err());
    }
    for meaningless in [
        "dagfc explain E0201 --target 3.0",
        "dagfc explain E0201 --project p",
        "dagfc new acme --env dev",
        "dagfc new acme -j 2",
        "dagfc schema Cfg --env dev",
        "dagfc import dag-factory f.yml --target 3.0",
        "dagfc completions bash --project p",
        "dagfc --project p build",
        "dagfc explain E0201 --list",
        "dagfc explain",
    ] {
        assert!(parse(meaningless).is_err(), "{meaningless} was accepted");
    }
}

/// `book/src/reference/cli.md` has a section per command (`### \`dagfc build\``), and
/// each section names every option of its command; no section names a command that
/// does not exist.
#[test]
fn the_reference_has_a_section_per_command_naming_its_options() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../book/src/reference/cli.md"
    );
    let text = std::fs::read_to_string(path).expect("cli.md");
    let mut sections: Vec<(String, String)> = Vec::new();
    for chunk in text.split("\n#").skip(1) {
        let (heading, body) = chunk.split_once('\n').unwrap_or((chunk, ""));
        if let Some(name) = heading
            .trim_start_matches('#')
            .trim()
            .strip_prefix("`dagfc ")
            .and_then(|h| h.strip_suffix('`'))
        {
            sections.push((name.to_string(), body.to_string()));
        }
    }
    let mut commands = Vec::new();
    leaves(&built(), "", &mut commands);
    let documented: BTreeSet<&str> = sections.iter().map(|(n, _)| n.as_str()).collect();
    let real: BTreeSet<&str> = commands.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        documented, real,
        "the `### \\`dagfc COMMAND\\`` sections of cli.md and the commands of dagfc"
    );
    let shared = ["project", "env", "jobs", "target"];
    for (name, cmd) in &commands {
        let body = &sections
            .iter()
            .find(|(n, _)| n == name)
            .expect("a section")
            .1;
        let builds = cmd.get_arguments().any(|a| a.get_id() == "target");
        if builds {
            assert!(
                body.contains("build options"),
                "cli.md: `dagfc {name}` takes the build options; its section should say so"
            );
        }
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if arg.is_global_set() || ["help", "version"].contains(&id) {
                continue;
            }
            if builds && shared.contains(&id) {
                continue;
            }
            let shown = match (arg.get_long(), arg.get_short()) {
                (Some(long), _) => format!("--{long}"),
                (None, Some(short)) => format!("-{short}"),
                (None, None) => id.to_uppercase(),
            };
            assert!(
                body.contains(&shown),
                "cli.md: the section of `dagfc {name}` does not mention `{shown}`"
            );
        }
    }
}
