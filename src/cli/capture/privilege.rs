//! What a root capture does to be safe: a guardian that outlives the capture to remove its
//! tracing instance whatever way it ends, and the capture giving up root once its handles are
//! open, as tcpdump's `-Z` does.
//!
//! The guardian is rstscope itself: as root with kernel tracing wanted, `capture` runs a
//! copy of itself (the same arguments, `RSTSCOPE_GUARDIAN` naming the guardian) and waits.
//! Signals it gets go on to the capture; when the capture exits, normally, on an error, on a
//! signal or killed, the guardian disables and removes `instances/rstscope-PID` (which the
//! capture, no longer root, could not) and exits with the capture's status. The capture asks
//! to get SIGTERM should the guardian die first.

use std::io;
use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::signal::{Signal, kill};
use nix::unistd::{Gid, Pid, Uid, User, getppid, setgid, setgroups, setuid};

/// Set in the capture's environment to the guardian's PID.
const GUARDIAN_ENV: &str = "RSTSCOPE_GUARDIAN";

/// The capture's PID, for the guardian's signal handler.
static CAPTURE_PID: AtomicI32 = AtomicI32::new(0);

/// True when this process is the capture a guardian started (and the guardian still runs).
pub(super) fn is_guarded() -> bool {
    std::env::var(GUARDIAN_ENV)
        .ok()
        .and_then(|pid| pid.parse::<i32>().ok())
        .is_some_and(|pid| pid == getppid().as_raw())
}

/// As the capture a guardian started: asks for SIGTERM if the guardian dies.
pub(super) fn watch_guardian() {
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGTERM);
}

/// Runs the capture as a child and waits for it; never returns. The child is this same
/// program with the same arguments.
pub(super) fn guard_capture() -> anyhow::Result<std::convert::Infallible> {
    let exe = std::env::current_exe().map_err(|err| {
        anyhow::anyhow!("cannot find rstscope's own program to run the capture: {err}")
    })?;
    let mut child = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(GUARDIAN_ENV, std::process::id().to_string())
        .spawn()
        .map_err(|err| anyhow::anyhow!("cannot start the capture process: {err}"))?;
    let pid = i32::try_from(child.id()).unwrap_or(0);
    CAPTURE_PID.store(pid, Ordering::SeqCst);
    // Ctrl-C reaches both processes from the terminal; a signal sent to the guardian alone
    // (kill PID) must reach the capture too. The capture counts two requests close together
    // as one.
    let _ = ctrlc::set_handler(|| {
        let pid = CAPTURE_PID.load(Ordering::SeqCst);
        if pid > 0 {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
    });
    let status = loop {
        match child.wait() {
            Ok(status) => break Some(status),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break None,
        }
    };
    rstscope_core::kernel::tracefs::remove_instance_of(child.id());
    let code = status.map_or(1, |status| {
        use std::os::unix::process::ExitStatusExt;
        status
            .code()
            .or_else(|| status.signal().map(|signal| 128 + signal))
            .unwrap_or(1)
    });
    std::process::exit(code);
}

/// Who the capture runs as once its handles are open.
pub(super) enum RunAs {
    /// Not root to begin with, or `--user root`.
    Unchanged,
    User(User),
}

/// The user `--user` names, or by default `nobody` when it exists (root otherwise).
pub(super) fn run_as(name: Option<&str>) -> anyhow::Result<RunAs> {
    if !nix::unistd::geteuid().is_root() || name == Some("root") {
        return Ok(RunAs::Unchanged);
    }
    let wanted = name.unwrap_or("nobody");
    match User::from_name(wanted) {
        Ok(Some(user)) => Ok(RunAs::User(user)),
        _ if name.is_none() => Ok(RunAs::Unchanged),
        _ => Err(anyhow::anyhow!(
            "--user {wanted}: no such user on this host; name an existing unprivileged user, or --user root to keep root"
        )),
    }
}

/// Gives up root for `to`: supplementary groups, then group, then user (which cannot be
/// undone). The handles already open keep working.
pub(super) fn drop_privileges(to: &RunAs) -> anyhow::Result<Option<String>> {
    let RunAs::User(user) = to else {
        return Ok(None);
    };
    let failed = |what: &str, err: nix::Error| {
        anyhow::anyhow!(
            "cannot give up root to run as {} ({what}: {err}); use --user root to keep root",
            user.name
        )
    };
    setgroups(&[Gid::from_raw(user.gid.as_raw())]).map_err(|e| failed("setgroups", e))?;
    setgid(user.gid).map_err(|e| failed("setgid", e))?;
    setuid(user.uid).map_err(|e| failed("setuid", e))?;
    if setuid(Uid::from_raw(0)).is_ok() {
        return Err(anyhow::anyhow!(
            "giving up root to run as {} did not hold; use --user root to run as root knowingly",
            user.name
        ));
    }
    Ok(Some(user.name.clone()))
}
