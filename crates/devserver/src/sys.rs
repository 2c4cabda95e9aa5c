//! The handful of Linux calls that std does not wrap: sending a signal to a pid, tying a
//! child's life to ours (`PR_SET_PDEATHSIG`), an advisory file lock, and the effective uid.
//!
//! This is the only module allowed `unsafe`: each call is a plain libc function with
//! integer arguments, and the `pre_exec` hook only calls async-signal-safe functions.
#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Signals we send to a postmaster (see PostgreSQL "Shutting Down the Server").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Fast shutdown: roll back, disconnect clients, checkpoint, exit.
    Interrupt,
    /// Immediate shutdown: exit now, crash recovery at next start.
    Quit,
    /// Last resort.
    Kill,
}

impl Signal {
    fn raw(self) -> libc::c_int {
        match self {
            Signal::Interrupt => libc::SIGINT,
            Signal::Quit => libc::SIGQUIT,
            Signal::Kill => libc::SIGKILL,
        }
    }
}

/// Sends `sig` to `pid`. `ESRCH` (already gone) is reported as an error like any other.
pub(crate) fn send_signal(pid: u32, sig: Signal) -> io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: kill(2) takes two integers and touches no memory of ours.
    let rc = unsafe { libc::kill(pid, sig.raw()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// True when a process with this pid exists (possibly owned by another user).
pub(crate) fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill(pid, 0) only checks for existence and permission.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// True when running with effective uid 0.
pub(crate) fn is_root() -> bool {
    // SAFETY: geteuid(2) cannot fail and has no arguments.
    unsafe { libc::geteuid() == 0 }
}

/// Makes the spawned child receive SIGINT (a PostgreSQL fast shutdown) when the thread that
/// spawns it dies, so an abruptly killed devserver does not leave its postmaster behind.
///
/// The hook runs after std has switched uid/gid (credential changes clear the death signal,
/// so it must come after them), and it refuses to exec if we already died meanwhile.
pub(crate) fn die_with_parent(cmd: &mut Command) {
    let parent = libc::pid_t::try_from(std::process::id()).unwrap_or(0);
    // SAFETY: the closure runs between fork and exec and only calls prctl(2) and getppid(2),
    // which are async-signal-safe; it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT as libc::c_ulong, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                return Err(io::Error::other("parent exited before exec"));
            }
            Ok(())
        });
    }
}

/// Tries to take an exclusive advisory lock on `file` without blocking; `Ok(false)` when
/// another open file description holds it (another devserver on the same data dir).
pub(crate) fn try_lock_exclusive(file: &File) -> io::Result<bool> {
    // SAFETY: flock(2) on a descriptor we own for the duration of the call.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(err)
    }
}
