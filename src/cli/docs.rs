//! Hidden `dbctl generate-docs`: completions and man pages from the clap definitions.
//!
//! The committed completions/ and man/ are this command's output; a test fails when they drift.

use super::dbhost::DbhostCli;
use anyhow::{Context, Result};
use clap::{Args, CommandFactory};
use clap_complete::Shell;
use std::path::{Path, PathBuf};

/// Write shell completions and man pages.
#[derive(Debug, Args)]
pub struct DocsArgs {
    /// Directory that receives completions/ and man/.
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
}

fn man_pages(cmd: &clap::Command, prefix: &str, path: &str, dir: &Path) -> Result<()> {
    let name = if prefix.is_empty() {
        cmd.get_name().to_string()
    } else {
        format!("{prefix}-{}", cmd.get_name())
    };
    let path = if path.is_empty() {
        cmd.get_name().to_string()
    } else {
        format!("{path} {}", cmd.get_name())
    };
    // The examples --help ends with get a section of their own here.
    let page = cmd.clone().name(name.clone()).after_help(None::<&str>);
    let mut buf = Vec::new();
    clap_mangen::Man::new(page).render(&mut buf)?;
    buf.extend_from_slice(extra_sections(&name, &path).as_bytes());
    std::fs::write(dir.join(format!("{name}.1")), buf)?;
    // clap adds a `help` subcommand everywhere; its pages would only repeat the others.
    for sub in cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        man_pages(sub, &name, &path, dir)?;
    }
    Ok(())
}

/// dbhost's examples, as (what it does, command line); dbctl's are in [`super::guide`].
fn dbhost_examples(page: &str) -> &'static [(&'static str, &'static str)] {
    match page {
        "dbhost" => &[(
            "As an SSH forced command in authorized_keys",
            "command=\"/usr/local/bin/dbhost --root /srv/db2 rpc\",restrict ssh-ed25519 AAAA...",
        )],
        _ => &[],
    }
}

/// The sections clap does not write: exit status, files, examples.
fn extra_sections(page: &str, path: &str) -> String {
    let mut roff = String::new();
    if page.starts_with("dbhost") {
        roff += ".SH \"EXIT STATUS\"\n0 when the request succeeded, 1 otherwise; the answer says why.\n";
        roff += ".SH FILES\n.TP\n\\fIROOT\\fR/dbhost.toml\nlisten address, port range, storage backend, the OS user servers run as when not root\n.TP\n\\fIROOT\\fR/instances, snapshots, wal\neach instance's directory, the snapshot store (dbhost only), the log archives\n";
    } else {
        roff += ".SH \"EXIT STATUS\"\n.TP\n0\nok\n.TP\n1\nfailed (a failed workflow has undone its completed steps)\n.TP\n2\nbad input or usage; nothing was changed\n.TP\n3\nthe workflow stopped part-way (Ctrl-C, a host that does not answer): dbctl workflow resume ID\n.TP\n4\nworkflow wait --timeout gave up; the workflow goes on\n";
        roff += ".SH FILES\n.TP\n$DBCTL_HOME/config.toml\nclasses, placement overcommit, the endpoint hook\n.TP\n$DBCTL_HOME/catalog.db\nthe catalog (mode 0600; an unreadable one is an error, never replaced)\n.TP\n$DBCTL_HOME/secrets/\nthe instances' admin passwords (mode 0600)\n.PP\nDBCTL_HOME defaults to ~/.local/share/dbctl.\n";
    }
    let ex = super::guide::of(path).map_or_else(|| dbhost_examples(page), |g| g.examples);
    if !ex.is_empty() {
        roff += ".SH EXAMPLES\n";
        for (what, line) in ex {
            roff += &format!(".TP\n{what}\n.B {}\n", line.replace('-', "\\-"));
        }
    }
    roff
}

/// # Errors
/// The output directory cannot be written.
pub fn generate(out: &Path) -> Result<()> {
    let comp = out.join("completions");
    let man = out.join("man");
    std::fs::create_dir_all(&comp).with_context(|| format!("creating {}", comp.display()))?;
    std::fs::create_dir_all(&man)?;
    // dbctl's completions ask dbctl at each TAB (names come from the catalog); dbhost's
    // arguments are fixed, so its scripts are written out whole.
    for (shell, file) in [
        ("bash", "dbctl.bash"),
        ("zsh", "_dbctl"),
        ("fish", "dbctl.fish"),
    ] {
        std::fs::write(comp.join(file), super::complete::registration(shell)?)?;
    }
    for (mut cmd, name) in [
        (super::guide::command(), "dbctl"),
        (DbhostCli::command(), "dbhost"),
    ] {
        if name == "dbhost" {
            for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
                clap_complete::generate_to(shell, &mut cmd, name, &comp)?;
            }
        }
        cmd.build();
        man_pages(&cmd, "", "", &man)?;
    }
    Ok(())
}

pub fn run(a: &DocsArgs) -> Result<()> {
    generate(&a.out)
}
