//! Installing Debian packages with `apt-get`, non-interactively: as root
//! directly, otherwise through `sudo -n` (which fails rather than asking
//! for a password). Refreshes the package lists only when an install fails,
//! since a refresh costs time and is usually not needed.

use std::process::Command;

use anyhow::bail;

use crate::cmd::{self, find_program, say};

/// Installs `packages`. `without_apt` is the one sentence shown when this
/// machine cannot install them (no apt-get, no sudo, or installs disabled);
/// it should name what to install by hand.
pub(crate) fn install(packages: &[&str], without_apt: &str) -> anyhow::Result<()> {
    if std::env::var_os("TABCHAIN_NO_INSTALL").is_some_and(|v| v == "1") {
        bail!("{without_apt} (not installing: TABCHAIN_NO_INSTALL=1)");
    }
    if find_program("apt-get").is_none() {
        bail!("{without_apt}");
    }
    let as_root = cmd::probe(Command::new("id").arg("-u")).is_some_and(|uid| uid == "0");
    if !as_root && find_program("sudo").is_none() {
        bail!("{without_apt} (apt-get needs root, and there is no sudo)");
    }
    let apt_get = |args: &[&str]| {
        let mut command = if as_root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.args(["-n", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]);
            sudo
        };
        command.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        command
    };
    let install_args: Vec<&str> =
        ["install", "-y", "--no-install-recommends"].into_iter().chain(packages.iter().copied()).collect();
    say(format!("installing {} with apt-get", packages.join(" ")));
    if cmd::run(&mut apt_get(&install_args)).is_ok() {
        return Ok(());
    }
    say("install failed; refreshing the package lists and retrying");
    cmd::run(&mut apt_get(&["update"]))?;
    cmd::run(&mut apt_get(&install_args))
}
