//! Running a command inside a fresh network namespace, so that the browser tests' traffic cannot
//! leave the machine. The namespace has loopback and one veth pair whose two ends both stay in
//! it: Chromium gathers no ICE candidate on loopback (its interface list skips it) nor without a
//! default route, so tabs get a host candidate on the pair's private address and a default
//! route into the pair, which leads nowhere. Making a namespace needs root (or user namespaces)
//! and `unshare`; where they are missing the command runs as it is, and says so.

use std::process::Command;

use crate::cmd::say;

/// The namespace's network, set up before the command runs: loopback, and a veth pair with
/// both ends inside (10.77.0.1 on one end, a default route to the other, where nobody answers).
const SETUP: &str = "ip link set lo up \
    && ip link add tc0 type veth peer name tc1 \
    && ip addr add 10.77.0.1/24 dev tc0 && ip link set tc0 up && ip link set tc1 up \
    && ip route add default via 10.77.0.2 dev tc0";

/// Whether this machine can run a command in such a namespace.
fn available() -> bool {
    Command::new("unshare").args(["--net", "--", "sh", "-c", SETUP]).output().is_ok_and(|out| out.status.success())
}

/// `command`, wrapped to run in a fresh network namespace set up by `SETUP` (same program,
/// arguments, environment and folder); or `command` itself where no namespace can be made.
pub(crate) fn loopback_only(command: Command) -> Command {
    if !available() {
        say("no network namespace here (needs root and unshare): running the browser tests on the host's network");
        return command;
    }
    let mut wrapped = Command::new("unshare");
    wrapped.args(["--net", "--", "sh", "-c", &format!("{SETUP} && exec \"$0\" \"$@\"")]);
    wrapped.arg(command.get_program()).args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => wrapped.env(key, value),
            None => wrapped.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        wrapped.current_dir(dir);
    }
    wrapped
}
