//! Running external commands: each is echoed (with the environment variables
//! it was given) before it runs, its stdin is closed so nothing can wait for
//! a keyboard under CI, and a failure names the command that failed.

use std::ffi::OsStr;
use std::fmt::Display;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// Prints one line saying what the task does next.
pub(crate) fn say(what: impl Display) {
    println!("xtask: {what}");
}

/// Runs `cmd` to completion with inherited stdout and stderr.
pub(crate) fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let shown = show(cmd);
    println!("  $ {shown}");
    let status = cmd.stdin(Stdio::null()).status().with_context(|| format!("cannot start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// Runs `cmd` quietly and returns its trimmed stdout, or `None` if it could
/// not start or failed. For probing tools, not for doing work.
pub(crate) fn probe(cmd: &mut Command) -> Option<String> {
    let output = cmd.stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
    if !output.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Runs `cmd` like [`run`] but kills it after `timeout`, returning `None`
/// then. Polls rather than blocking so that a command that never answers
/// (a download with no network) cannot hang the task.
pub(crate) fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> anyhow::Result<Option<ExitStatus>> {
    const POLL: Duration = Duration::from_millis(100);
    let shown = show(cmd);
    println!("  $ {shown}   (time limit {} s)", timeout.as_secs());
    let mut child = cmd.stdin(Stdio::null()).spawn().with_context(|| format!("cannot start `{shown}`"))?;
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if started.elapsed() >= timeout {
            // It may have exited in between; either way it is gone after this.
            let _ = child.kill();
            child.wait()?;
            return Ok(None);
        }
        std::thread::sleep(POLL);
    }
}

/// The first executable file called `name` on `PATH`.
pub(crate) fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
pub(crate) fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata().is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
pub(crate) fn is_executable(path: &std::path::Path) -> bool {
    path.is_file()
}

/// The command as a shell line: explicitly set variables, program, args.
fn show(cmd: &Command) -> String {
    let envs = cmd
        .get_envs()
        .filter_map(|(key, value)| value.map(|value| format!("{}={}", key.to_string_lossy(), value.to_string_lossy())));
    let words = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(OsStr::to_string_lossy)
        .map(|word| word.into_owned());
    envs.chain(words).collect::<Vec<_>>().join(" ")
}
