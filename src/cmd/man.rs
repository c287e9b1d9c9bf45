//! `rtrace-cmd generate-man DIR`: renders the man pages from the clap definition, so that
//! `man/` never drifts from the real options (tests/man.rs fails when it is stale).

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::Cli;

pub fn run(dir: &Path) -> anyhow::Result<ExitCode> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let top = Cli::command();
    let version = top.get_version().unwrap_or("").to_string();
    write_page(dir, "rtrace-cmd", top.clone())?;
    for sub in top.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("rtrace-cmd-{}", sub.get_name());
        let cmd = sub.clone().name(name.clone()).version(version.clone());
        write_page(dir, &name, cmd)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn write_page(dir: &Path, name: &str, cmd: clap::Command) -> anyhow::Result<()> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd)
        .date("")
        .render(&mut buf)
        .with_context(|| format!("rendering {name}"))?;
    let path = dir.join(format!("{name}.1"));
    fs::write(&path, buf).with_context(|| format!("writing {}", path.display()))
}
