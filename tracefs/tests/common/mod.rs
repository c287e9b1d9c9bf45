//! Shared by the live tests: the cross-process tracefs lock, the state fingerprint, and
//! scratch instances.
#![allow(dead_code)]

pub mod guard;
pub mod state;

use std::sync::atomic::{AtomicU32, Ordering};

use tracefs::lock::TracefsLock;
use tracefs::Tracefs;

/// Live tests need root and a tracefs. They fail without them, unless
/// `RTRACE_NO_LIVE_TRACEFS=1` says to skip them (a machine where tracing is not allowed).
pub fn live() -> Option<(TracefsLock, Tracefs)> {
    if std::env::var_os("RTRACE_NO_LIVE_TRACEFS").is_some_and(|v| v == "1") {
        eprintln!("RTRACE_NO_LIVE_TRACEFS=1: skipping a live tracefs test");
        return None;
    }
    assert!(
        nix::unistd::geteuid().is_root(),
        "live tracefs tests need root (or set RTRACE_NO_LIVE_TRACEFS=1 to skip them)"
    );
    let lock = TracefsLock::acquire().expect("taking the tracefs lock");
    let fs = Tracefs::open().expect("tracefs (set RTRACE_NO_LIVE_TRACEFS=1 to skip)");
    Some((lock, fs))
}

/// A fresh instance name for this process.
pub fn scratch_name(what: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "rtrace-test-{}-{what}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Removes an instance when dropped (also when the test panics).
pub struct ScratchInstance {
    pub fs: Tracefs,
    pub name: String,
}

impl ScratchInstance {
    pub fn new(fs: &Tracefs, what: &str) -> (ScratchInstance, tracefs::Instance) {
        let name = scratch_name(what);
        let (inst, created) = fs
            .create_instance(&name)
            .expect("creating a scratch instance");
        assert!(created);
        (
            ScratchInstance {
                fs: fs.clone(),
                name,
            },
            inst,
        )
    }
}

impl Drop for ScratchInstance {
    fn drop(&mut self) {
        if let Ok(inst) = self.fs.instance(Some(&self.name)) {
            // The kernel refuses to remove an instance whose events are on.
            let _ = inst.set_tracing_on(false);
            let _ = inst.disable_all_events();
            let _ = self.fs.remove_instance(&self.name);
        }
    }
}
