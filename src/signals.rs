//! SIGINT, SIGTERM and SIGHUP turned into a flag that long operations poll: an interrupted
//! `convert` stops at the next write, drops its writer (which deletes the temporary file)
//! and exits with the shell's 128 + signal status, instead of dying with a temporary file
//! left behind; `record` stops recording on the first signal (and writes its file, putting
//! the kernel back either way) and gives up the file on a second.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, OnceLock};

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
static SIGNO: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: nix::libc::c_int) {
    // Only atomic stores: async-signal-safe.
    SIGNO.store(sig, Ordering::Relaxed);
    if let Some(f) = FLAG.get() {
        f.store(true, Ordering::Relaxed);
    }
}

/// Installs the handlers (once) and returns the flag they set.
pub fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = FLAG
        .get_or_init(|| Arc::new(AtomicBool::new(false)))
        .clone();
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // SAFETY: the handler only stores to atomics.
        let _ = unsafe { sigaction(sig, &action) };
    }
    flag
}

/// The status a shell gives a process killed by the signal received, if one was.
pub fn interrupted_status() -> Option<u8> {
    match SIGNO.load(Ordering::Relaxed) {
        0 => None,
        s => Some((128 + s).min(255) as u8),
    }
}

/// Forgets a signal already acted on, so that the flag tells of the next one (`record`
/// stops recording on the first signal and gives up writing the file on a second).
pub fn reset() {
    SIGNO.store(0, Ordering::Relaxed);
    if let Some(f) = FLAG.get() {
        f.store(false, Ordering::Relaxed);
    }
}

/// The signal received, if one was.
pub fn received() -> Option<nix::sys::signal::Signal> {
    match SIGNO.load(Ordering::Relaxed) {
        0 => None,
        s => nix::sys::signal::Signal::try_from(s).ok(),
    }
}
