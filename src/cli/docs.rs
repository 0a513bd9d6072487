//! Hidden `dbctl generate-docs`: completions and man pages from the clap definitions.
//!
//! The committed completions/ and man/ are this command's output; a test fails when they drift.

use super::dbhost::DbhostCli;
use super::Cli;
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

fn man_pages(cmd: &clap::Command, prefix: &str, dir: &Path) -> Result<()> {
    let name = if prefix.is_empty() {
        cmd.get_name().to_string()
    } else {
        format!("{prefix}-{}", cmd.get_name())
    };
    let page = cmd.clone().name(name.clone());
    let mut buf = Vec::new();
    clap_mangen::Man::new(page).render(&mut buf)?;
    std::fs::write(dir.join(format!("{name}.1")), buf)?;
    // clap adds a `help` subcommand everywhere; its pages would only repeat the others.
    for sub in cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        man_pages(sub, &name, dir)?;
    }
    Ok(())
}

/// # Errors
/// The output directory cannot be written.
pub fn generate(out: &Path) -> Result<()> {
    let comp = out.join("completions");
    let man = out.join("man");
    std::fs::create_dir_all(&comp).with_context(|| format!("creating {}", comp.display()))?;
    std::fs::create_dir_all(&man)?;
    for (mut cmd, name) in [(Cli::command(), "dbctl"), (DbhostCli::command(), "dbhost")] {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            clap_complete::generate_to(shell, &mut cmd, name, &comp)?;
        }
        cmd.build();
        man_pages(&cmd, "", &man)?;
    }
    Ok(())
}

pub fn run(a: &DocsArgs) -> Result<()> {
    generate(&a.out)
}
