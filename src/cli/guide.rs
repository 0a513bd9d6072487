//! What each command says of itself in one line, and how it is used: the summary `--help`
//! and the man page's NAME line show, and the examples both end with. The doc comments on
//! the clap definitions stay the long description; this table is the one place for the
//! rest, and a test walks the command tree so that no command goes without.

use clap::Command;

/// A command's one-line summary and its examples (what it does, the command line).
pub struct Guide {
    pub summary: &'static str,
    pub examples: &'static [(&'static str, &'static str)],
}

const fn g(
    summary: &'static str,
    examples: &'static [(&'static str, &'static str)],
) -> Option<Guide> {
    Some(Guide { summary, examples })
}

/// The guide of the command at `path` ("dbctl", "dbctl backup create", ...).
#[allow(clippy::too_many_lines)]
pub fn of(path: &str) -> Option<Guide> {
    match path {
        "dbctl" => g(
            "Self-hosted control plane for PostgreSQL and MariaDB instances",
            &[
                ("Start: a home, and this machine as host local", "dbctl init"),
                (
                    "A database, then a session on it",
                    "dbctl create prod --class small; dbctl connect prod",
                ),
            ],
        ),
        "dbctl init" => g(
            "Make dbctl's home and register this machine as host `local`",
            &[
                ("Start with the defaults", "dbctl init"),
                (
                    "Keep this machine's data elsewhere",
                    "dbctl init --local-root /srv/dbhost",
                ),
            ],
        ),
        "dbctl host" => g("Manage hosts (machines running dbhost)", &[("List them", "dbctl host list")]),
        "dbctl host add" => g(
            "Register a host reached over SSH, pinning its key",
            &[(
                "A host reached over SSH",
                "dbctl host add db2 --address 10.0.0.12 --user dbhost --identity ~/.ssh/dbctl_ed25519",
            )],
        ),
        "dbctl host list" => g(
            "List hosts with their capacity and engines",
            &[
                ("From the catalog", "dbctl host list"),
                ("Asking each host now", "dbctl host list --refresh"),
            ],
        ),
        "dbctl host show" => g(
            "Show one host: how it is reached, its key, version and facts",
            &[("One host", "dbctl host show db2")],
        ),
        "dbctl host refresh" => g(
            "Ask a host for its facts again, checking its pinned key",
            &[
                ("Refresh", "dbctl host refresh db2"),
                (
                    "Pin a reinstalled host's new key",
                    "dbctl host refresh db2 --accept-new-key",
                ),
            ],
        ),
        "dbctl host prune" => g(
            "Remove data that recoveries and restores set aside on a host",
            &[
                ("See what would go", "dbctl host prune db2 --dry-run"),
                (
                    "Remove what is older than a week",
                    "dbctl host prune db2 --older-than 7 --yes",
                ),
            ],
        ),
        "dbctl host remove" => g(
            "Forget a host (refused while instances live there)",
            &[(
                "Forget a host that is gone for good",
                "dbctl host remove db2 --force",
            )],
        ),
        "dbctl create" => g(
            "Create a database instance",
            &[
                (
                    "A small PostgreSQL instance wherever there is room",
                    "dbctl create prod --class small",
                ),
                (
                    "MariaDB on a given host and port, queued for the sweeper",
                    "dbctl create shop --engine mariadb --host db2 --port 5440 --detach",
                ),
            ],
        ),
        "dbctl clone" => g(
            "Clone an instance into a new, independent one",
            &[
                (
                    "A tester's copy on another host, from a new snapshot",
                    "dbctl clone prod --as test --class small --host db2 --fresh",
                ),
                (
                    "The data as of ten minutes ago",
                    "dbctl clone prod --as before-bug --at \"10 minutes ago\"",
                ),
            ],
        ),
        "dbctl restore" => g(
            "Restore an instance as of a point in time",
            &[
                (
                    "A new instance as of a moment",
                    "dbctl restore prod --at 2026-11-24T10:15:00Z --as prod-1015",
                ),
                (
                    "Back in place, keeping name, port and endpoint",
                    "dbctl restore prod --at \"5 minutes ago\" --in-place --yes",
                ),
            ],
        ),
        "dbctl recover" => g(
            "Rebuild a broken instance from its snapshot and logs",
            &[
                ("Rebuild, losing no archived commit", "dbctl recover prod"),
                (
                    "From a script, to just before the last error",
                    "dbctl recover prod --before-error --yes -o json",
                ),
            ],
        ),
        "dbctl restorable-window" => g(
            "Show the span of time an instance can be restored to",
            &[("The span prod can be restored to", "dbctl restorable-window prod")],
        ),
        "dbctl delete" => g(
            "Delete an instance and its data",
            &[("Delete, keeping a final snapshot", "dbctl delete test --yes")],
        ),
        "dbctl stop" => g(
            "Stop an instance's server, keeping its data",
            &[("Stop", "dbctl stop dev")],
        ),
        "dbctl start" => g(
            "Start a stopped instance's server",
            &[("Start", "dbctl start dev")],
        ),
        "dbctl reboot" => g(
            "Stop and start an instance's server",
            &[("Restart", "dbctl reboot dev")],
        ),
        "dbctl hibernate" => g(
            "Free an instance's host: final snapshot, then stop and remove",
            &[("Over the weekend", "dbctl hibernate dev")],
        ),
        "dbctl resume" => g(
            "Bring a hibernated instance back, on any host with room",
            &[
                ("Wherever there is room", "dbctl resume dev"),
                ("On a given host, larger", "dbctl resume dev --host db3 --class medium"),
            ],
        ),
        "dbctl modify" => g(
            "Change an instance's class, storage, windows or policies",
            &[
                (
                    "A larger class in the maintenance window",
                    "dbctl modify prod --class large",
                ),
                (
                    "Only a notification when it fails",
                    "dbctl modify dev --on-failure notify",
                ),
            ],
        ),
        "dbctl protect" => g(
            "Keep an instance that would delete itself",
            &[
                ("For good", "dbctl protect test"),
                ("Until a moment", "dbctl protect test --until 2026-12-31T00:00:00Z"),
            ],
        ),
        "dbctl label" => g(
            "Set or take off labels on an instance, a host or a snapshot",
            &[
                ("Set two, take one off", "dbctl label prod env=prod team=shop tier-"),
                ("On a host", "dbctl label db2 rack=r4 --host"),
            ],
        ),
        "dbctl describe" => g(
            "Show an instance: status, engine, host, endpoint, backups",
            &[
                ("As a table", "dbctl describe prod"),
                ("For a script", "dbctl describe prod -o json"),
            ],
        ),
        "dbctl check" => g(
            "Check an instance's data with the engine's integrity checks",
            &[
                ("Every database", "dbctl check prod"),
                (
                    "With checks of your own",
                    "dbctl check prod --sql checks.sql --database shop",
                ),
            ],
        ),
        "dbctl repartition" => g(
            "Split a PostgreSQL database into shards by a key",
            &[(
                "Four shards by customer",
                "dbctl repartition prod --shards 4 --key orders.customer_id --as prod-shard",
            )],
        ),
        "dbctl drill" => g(
            "Prove a backup restores: restore, check, measure, remove",
            &[
                ("From the host's snapshots", "dbctl drill prod"),
                ("From the repository", "dbctl drill prod --from repository"),
            ],
        ),
        "dbctl drill list" => g(
            "The drills run, newest first",
            &[("One instance's", "dbctl drill list prod")],
        ),
        "dbctl list" => g(
            "List instances",
            &[
                ("Every instance", "dbctl list"),
                ("Those with a label", "dbctl list --label team=shop"),
            ],
        ),
        "dbctl url" => g(
            "Print an instance's connection URL with its credentials",
            &[("For an application's settings", "dbctl url prod")],
        ),
        "dbctl connect" => g(
            "Open the engine's client on an instance as its admin role",
            &[
                ("A session as the admin role", "dbctl connect prod"),
                ("One query", "dbctl connect prod -- -c 'select version()'"),
            ],
        ),
        "dbctl snapshot" => g(
            "Take, list, inspect, check and delete snapshots",
            &[("One instance's", "dbctl snapshot list prod")],
        ),
        "dbctl snapshot create" => g(
            "Take an online snapshot of an instance",
            &[(
                "An online snapshot, tagged",
                "dbctl snapshot create prod --tag before-upgrade",
            )],
        ),
        "dbctl snapshot list" => g(
            "List snapshots, newest first",
            &[
                ("Every snapshot", "dbctl snapshot list"),
                ("One instance's", "dbctl snapshot list prod"),
            ],
        ),
        "dbctl snapshot show" => g("Show one snapshot", &[("Snapshot 7", "dbctl snapshot show 7")]),
        "dbctl snapshot verify" => g(
            "Recompute a snapshot's checksums on its host",
            &[("Snapshot 7", "dbctl snapshot verify 7")],
        ),
        "dbctl snapshot delete" => g(
            "Delete a snapshot and the archived logs only it needed",
            &[(
                "Delete snapshot 7 even if it is the last",
                "dbctl snapshot delete 7 --yes",
            )],
        ),
        "dbctl endpoint" => g(
            "Endpoints: names that follow an instance when it moves",
            &[("List them", "dbctl endpoint list")],
        ),
        "dbctl endpoint list" => g(
            "List endpoints and the address each points at",
            &[("Every endpoint", "dbctl endpoint list")],
        ),
        "dbctl repository" => g(
            "Manage backup repositories (the off-host tier)",
            &[("List them", "dbctl repository list")],
        ),
        "dbctl repository add" => g(
            "Add a repository: a new one, or one another home made",
            &[
                (
                    "A directory",
                    "dbctl repository add offsite --url file:///srv/backups",
                ),
                (
                    "A bucket (keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
                    "dbctl repository add s3 --url s3://backups/db --endpoint https://s3.example.net",
                ),
            ],
        ),
        "dbctl repository list" => g("List repositories", &[("Every repository", "dbctl repository list")]),
        "dbctl repository show" => g(
            "Show a repository, opened with its key",
            &[("One repository", "dbctl repository show offsite")],
        ),
        "dbctl repository check" => g(
            "Check a repository cheaply: reachable, writable, how far behind",
            &[("One repository", "dbctl repository check offsite")],
        ),
        "dbctl repository verify" => g(
            "Read a repository back whole and check every object",
            &[("One repository", "dbctl repository verify offsite")],
        ),
        "dbctl repository remove" => g(
            "Forget a repository in this home, leaving its data",
            &[("Forget it", "dbctl repository remove offsite")],
        ),
        "dbctl repository export-key" => g(
            "Write a repository's password to a file, for restic or a home",
            &[(
                "Keep it apart from this machine",
                "dbctl repository export-key offsite /media/safe/offsite.password",
            )],
        ),
        "dbctl backup" => g(
            "Back up instances into repositories; list, pin, delete backups",
            &[("One instance's backups", "dbctl backup list prod")],
        ),
        "dbctl backup create" => g(
            "Back up an instance into a repository",
            &[
                ("Into its policy's repository", "dbctl backup create prod"),
                (
                    "Into another, kept until deleted by hand",
                    "dbctl backup create prod --repository offsite --keep-forever",
                ),
            ],
        ),
        "dbctl backup policy" => g(
            "Show an instance's backup policy, or change what is given",
            &[
                ("Show it", "dbctl backup policy prod"),
                (
                    "Nightly, with two weeks of point-in-time recovery",
                    "dbctl backup policy prod --backup-repository offsite --backup-window 02:00-03:00 --backup-retention-days 14",
                ),
            ],
        ),
        "dbctl backup list" => g(
            "List backups, oldest first",
            &[
                ("Every backup", "dbctl backup list"),
                ("One instance's", "dbctl backup list prod"),
            ],
        ),
        "dbctl backup show" => g("Show one backup", &[("Backup 3", "dbctl backup show 3")]),
        "dbctl backup pin" => g(
            "Keep a backup until it is unpinned, whatever the policy",
            &[("Keep backup 3", "dbctl backup pin 3")],
        ),
        "dbctl backup unpin" => g(
            "Let the policy expire a pinned backup again",
            &[("Backup 3", "dbctl backup unpin 3")],
        ),
        "dbctl backup delete" => g(
            "Delete a backup from its repository",
            &[("Backup 3, from a script", "dbctl backup delete 3 --yes")],
        ),
        "dbctl schedule" => g(
            "Schedule snapshots, backups, hibernation, stop and start",
            &[("Every schedule", "dbctl schedule list")],
        ),
        "dbctl schedule add" => g(
            "Add a schedule: an action on an instance at cron times",
            &[
                (
                    "Hibernate on Friday evening",
                    "dbctl schedule add dev hibernate --cron \"0 19 * * 5\"",
                ),
                (
                    "A drill from the repository every Sunday",
                    "dbctl schedule add prod drill --from repository --cron \"0 4 * * 0\"",
                ),
            ],
        ),
        "dbctl schedule list" => g(
            "List schedules with their next and last run",
            &[("One instance's", "dbctl schedule list dev")],
        ),
        "dbctl schedule remove" => g("Remove a schedule", &[("Schedule 4", "dbctl schedule remove 4")]),
        "dbctl schedule pause" => g(
            "Pause a schedule (it fires no more until unpaused)",
            &[("Schedule 4", "dbctl schedule pause 4")],
        ),
        "dbctl schedule unpause" => g(
            "Let a paused schedule fire again",
            &[("Schedule 4", "dbctl schedule unpause 4")],
        ),
        "dbctl workflow" => g(
            "Inspect and drive workflows behind changing commands",
            &[("The newest", "dbctl workflow list")],
        ),
        "dbctl workflow list" => g(
            "List the newest workflows",
            &[("The last fifty", "dbctl workflow list --limit 50")],
        ),
        "dbctl workflow show" => g(
            "Show a workflow's steps, attempts, durations and errors",
            &[("Workflow 42", "dbctl workflow show 42")],
        ),
        "dbctl workflow resume" => g(
            "Resume a workflow that stopped part-way",
            &[("Workflow 42", "dbctl workflow resume 42")],
        ),
        "dbctl workflow cancel" => g(
            "Cancel a queued or stopped workflow, undoing its steps",
            &[("Workflow 42", "dbctl workflow cancel 42")],
        ),
        "dbctl workflow wait" => g(
            "Wait for a workflow to finish",
            &[("At most ten minutes", "dbctl workflow wait 42 --timeout 600")],
        ),
        "dbctl catalog" => g(
            "Move the catalog, and the team key of a shared one",
            &[(
                "Share it with a team",
                "dbctl catalog migrate --to postgres://dbctl@db0:5432/dbctl",
            )],
        ),
        "dbctl catalog migrate" => g(
            "Copy this home's catalog into another, empty one",
            &[(
                "Into PostgreSQL (its password in DBCTL_CATALOG, never here)",
                "dbctl catalog migrate --to postgres://dbctl@db0:5432/dbctl",
            )],
        ),
        "dbctl catalog key" => g(
            "The team key, to copy to another control machine",
            &[("Write it out", "dbctl catalog key export /media/safe/team.key")],
        ),
        "dbctl catalog key export" => g(
            "Write this machine's team key to a file",
            &[("Write it out", "dbctl catalog key export /media/safe/team.key")],
        ),
        "dbctl catalog key import" => g(
            "Take the team key another machine exported",
            &[("On the second machine", "dbctl catalog key import /media/safe/team.key")],
        ),
        "dbctl events" => g(
            "Show events, oldest first",
            &[
                ("The last hour's", "dbctl events --since 1h"),
                ("Follow one instance's", "dbctl events prod --follow"),
            ],
        ),
        "dbctl sweep" => g(
            "Run what is due: schedules, backups, shipping, expiry",
            &[("Every minute from cron", "* * * * * dbctl sweep")],
        ),
        "dbctl daemon" => g(
            "Sweep and monitor in the foreground, with metrics",
            &[
                ("Under systemd (fixtures/dbctl-daemon.service)", "dbctl daemon"),
                ("One pass, then exit", "dbctl daemon --once"),
            ],
        ),
        "dbctl monitor" => g(
            "Check every instance and host now, as the daemon does",
            &[
                ("One pass", "dbctl monitor"),
                ("Three passes, ten seconds apart", "dbctl monitor --passes 3 --interval 10"),
            ],
        ),
        _ => None,
    }
}

/// The examples as `--help` ends with them.
fn examples_text(examples: &[(&str, &str)]) -> String {
    let mut text = String::from("Examples:");
    for (what, line) in examples {
        text += &format!("\n  {what}:\n    $ {line}");
    }
    text
}

/// `cmd` (whose path is `path`) and its subcommands with their summaries, the long text
/// clap had as the description, and their examples after the help.
fn decorate(mut cmd: Command, path: &str) -> Command {
    if let Some(guide) = of(path) {
        let long = cmd
            .get_long_about()
            .or_else(|| cmd.get_about())
            .map(ToString::to_string);
        cmd = cmd.about(guide.summary);
        if let Some(long) = long.filter(|l| l != guide.summary) {
            cmd = cmd.long_about(long);
        }
        let mut after = examples_text(guide.examples);
        if let Some(before) = cmd.get_after_help() {
            after = format!("{before}\n\n{after}");
        }
        cmd = cmd.after_help(after);
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        let sub_path = format!("{path} {name}");
        cmd = cmd.mut_subcommand(&name, |s| decorate(s, &sub_path));
    }
    cmd
}

/// dbctl's command tree as it is parsed, completed and documented.
pub fn command() -> Command {
    decorate(<super::Cli as clap::CommandFactory>::command(), "dbctl")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command a user reaches, with its path.
    fn walk(cmd: &Command, path: &str, out: &mut Vec<(String, Command)>) {
        out.push((path.to_string(), cmd.clone()));
        for s in cmd.get_subcommands() {
            if s.is_hide_set() || s.get_name() == "help" {
                continue;
            }
            walk(s, &format!("{path} {}", s.get_name()), out);
        }
    }

    fn all() -> Vec<(String, Command)> {
        let mut out = Vec::new();
        let mut cmd = command();
        cmd.build();
        walk(&cmd, "dbctl", &mut out);
        out
    }

    #[test]
    fn every_command_has_a_short_summary_and_an_example() {
        for (path, cmd) in all() {
            let guide = of(&path).unwrap_or_else(|| panic!("`{path}` has no guide"));
            assert!(
                !guide.summary.is_empty()
                    && guide.summary.len() < 80
                    && !guide.summary.contains('\n'),
                "`{path}`: a summary of one line under 80 characters: {:?}",
                guide.summary
            );
            assert!(!guide.examples.is_empty(), "`{path}` has no example");
            let help = cmd.clone().render_long_help().to_string();
            assert!(
                help.contains("Examples:"),
                "`{path}`'s help shows no example"
            );
            assert_eq!(
                cmd.get_about().map(ToString::to_string).as_deref(),
                Some(guide.summary)
            );
        }
    }

    #[test]
    fn the_tagline_names_both_engines() {
        let s = of("dbctl").unwrap().summary;
        assert!(s.contains("PostgreSQL") && s.contains("MariaDB"), "{s}");
    }

    /// The `--flags` of the command `words` names, and the global ones.
    fn flags_of(root: &Command, words: &[&str]) -> Option<(String, Vec<String>)> {
        let mut cmd = root;
        let mut path = String::from("dbctl");
        // Prose ("dbctl's home", "dbctl itself") names no command.
        root.find_subcommand(words.first()?)?;
        for w in words {
            match cmd.find_subcommand(w) {
                Some(s) => {
                    cmd = s;
                    path += &format!(" {w}");
                }
                None => break,
            }
        }
        let mut flags: Vec<String> = cmd
            .get_arguments()
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .collect();
        flags.extend(
            root.get_arguments()
                .filter_map(|a| a.get_long().map(|l| format!("--{l}"))),
        );
        Some((path, flags))
    }

    /// Checks each `dbctl ... --flag` in `text` against the command it names.
    fn check_lines(root: &Command, text: &str, whence: &str) -> Vec<String> {
        let mut bad = Vec::new();
        for (i, _) in text.match_indices("dbctl ") {
            // The command: up to the end of a backticked span, a quote or the line.
            let rest = &text[i + "dbctl ".len()..];
            let end = rest
                .find(['`', '"', '\n', '\\', ')', ';'])
                .unwrap_or(rest.len());
            let words: Vec<&str> = rest[..end].split_whitespace().collect();
            let Some((path, flags)) = flags_of(root, &words) else {
                continue;
            };
            for w in &words {
                let flag = w.split('=').next().unwrap_or(w);
                let flag = flag
                    .trim_start_matches('[')
                    .trim_end_matches([',', '.', ':', ']']);
                if flag.starts_with("--") && flag.len() > 2 && !flags.iter().any(|f| f == flag) {
                    bad.push(format!("{whence}: `{path}` has no {flag}"));
                }
            }
        }
        bad
    }

    fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                sources(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    #[test]
    fn every_flag_a_message_or_an_example_names_exists_on_its_command() {
        let mut root = command();
        root.build();
        let mut bad = Vec::new();
        for (path, _) in all() {
            for (_, line) in of(&path).unwrap().examples {
                bad.extend(check_lines(&root, line, &format!("example of `{path}`")));
            }
        }
        let mut files = Vec::new();
        sources(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            bad.extend(check_lines(&root, &text, &f.display().to_string()));
        }
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        bad.extend(check_lines(&root, &readme, "README.md"));
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}
