//! A command started behind a gate: forked at once (so its pid can go into `set_event_pid`
//! and `set_ftrace_pid`), but held before exec until the parent has finished setting the
//! kernel up, so that tracing sees the command from its first instruction. trace-cmd does
//! the same for `record CMD` and `start -F CMD`.
//!
//! std's `Command::spawn` cannot do this: it blocks until the child has exec'd, and a
//! `pre_exec` that waits for the parent would deadlock against it.

use std::ffi::{CString, OsString};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStringExt;

use anyhow::Context;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};

/// A forked command waiting at its gate.
pub struct Gated {
    pid: Pid,
    program: String,
    gate: Option<OwnedFd>,
    /// Read end of a close-on-exec pipe: EOF means exec succeeded, four bytes are its errno.
    exec_status: OwnedFd,
    reaped: bool,
}

impl Gated {
    /// Forks `argv` (looked up in PATH like a shell would); the child waits at the gate.
    pub fn fork(argv: &[OsString]) -> anyhow::Result<Gated> {
        let program = argv
            .first()
            .context("no command given")?
            .to_string_lossy()
            .into_owned();
        // Everything the child needs is allocated before fork: after it, only
        // async-signal-safe calls.
        let cargs: Vec<CString> = argv
            .iter()
            .map(|a| CString::new(a.clone().into_vec()))
            .collect::<Result<_, _>>()
            .with_context(|| format!("{program}: an argument holds a NUL byte"))?;
        let mut ptrs: Vec<*const nix::libc::c_char> = cargs.iter().map(|c| c.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        let (gate_r, gate_w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).context("creating a pipe")?;
        let (st_r, st_w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).context("creating a pipe")?;
        // SAFETY: the child branch only calls read(2), write(2), execvp(3) and _exit(2).
        match unsafe { fork() }.context("fork")? {
            ForkResult::Child => {
                drop(gate_w);
                drop(st_r);
                let mut b = [0u8; 1];
                // Err or EOF (parent gone): do not run the command untraced.
                let go = matches!(nix::unistd::read(&gate_r, &mut b), Ok(1));
                if go {
                    // SAFETY: ptrs is a NULL-terminated array of valid C strings.
                    unsafe { nix::libc::execvp(ptrs[0], ptrs.as_ptr()) };
                    let errno = Errno::last_raw().to_ne_bytes();
                    let _ = nix::unistd::write(&st_w, &errno);
                }
                // SAFETY: _exit is async-signal-safe and skips the parent's atexit handlers.
                unsafe { nix::libc::_exit(127) }
            }
            ForkResult::Parent { child } => {
                drop(gate_r);
                drop(st_w);
                Ok(Gated {
                    pid: child,
                    program,
                    gate: Some(gate_w),
                    exec_status: st_r,
                    reaped: false,
                })
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.pid.as_raw() as u32
    }

    /// Lets the command run; fails when it could not be executed.
    pub fn open(&mut self) -> anyhow::Result<()> {
        let gate = self.gate.take().context("the gate is already open")?;
        nix::unistd::write(&gate, b"x").context("starting the command")?;
        drop(gate);
        let mut buf = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            match nix::unistd::read(&self.exec_status, &mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e).context("waiting for the command to start"),
            }
        }
        if got == 4 {
            let _ = self.wait();
            let err = std::io::Error::from_raw_os_error(i32::from_ne_bytes(buf));
            anyhow::bail!("Failed to exec {}: {err}", self.program);
        }
        Ok(())
    }

    /// The command's exit status if it has ended (as a shell would report it), without
    /// waiting.
    pub fn try_wait(&mut self) -> anyhow::Result<Option<i32>> {
        if self.reaped {
            anyhow::bail!("{} was already waited for", self.program);
        }
        loop {
            match waitpid(self.pid, Some(nix::sys::wait::WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(_, code)) => {
                    self.reaped = true;
                    return Ok(Some(code));
                }
                Ok(WaitStatus::Signaled(_, sig, _)) => {
                    self.reaped = true;
                    return Ok(Some(128 + sig as i32));
                }
                Ok(WaitStatus::StillAlive) => return Ok(None),
                Ok(_) => return Ok(None),
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e).with_context(|| format!("waiting for {}", self.program)),
            }
        }
    }

    /// Sends a signal to the command (if it has not been reaped).
    pub fn kill(&self, sig: nix::sys::signal::Signal) {
        if !self.reaped {
            let _ = nix::sys::signal::kill(self.pid, sig);
        }
    }

    /// Waits for the command to end; returns its exit status as a shell would report it.
    pub fn wait(&mut self) -> anyhow::Result<i32> {
        loop {
            match waitpid(self.pid, None) {
                Ok(WaitStatus::Exited(_, code)) => {
                    self.reaped = true;
                    return Ok(code);
                }
                Ok(WaitStatus::Signaled(_, sig, _)) => {
                    self.reaped = true;
                    return Ok(128 + sig as i32);
                }
                Ok(_) => continue,
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e).with_context(|| format!("waiting for {}", self.program)),
            }
        }
    }
}

impl Drop for Gated {
    /// A command never let through its gate reads EOF and exits without running; reap it.
    fn drop(&mut self) {
        if self.reaped {
            return;
        }
        if self.gate.take().is_some() {
            let _ = waitpid(self.pid, None);
        }
    }
}
