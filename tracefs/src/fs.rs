//! Finding (or mounting) the tracing directory and its instances.
//!
//! The kernel exports tracing as the tracefs filesystem, normally at `/sys/kernel/tracing`;
//! before Linux 4.1 it lived at `tracing/` inside debugfs (`/sys/kernel/debug/tracing`), where
//! newer kernels still automount tracefs. Lookup order as libtracefs's `find_tracing_dir`
//! (src/tracefs-utils.c): the first `tracefs` in `/proc/mounts`, else a mounted debugfs's
//! `tracing/`, else mount tracefs at `/sys/kernel/tracing`, else mount debugfs at
//! `/sys/kernel/debug`. Instances are the directories under `instances/`
//! (Documentation/trace/ftrace.rst, "Instances").

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::io;
use crate::suggest;

const TRACEFS_PATH: &str = "/sys/kernel/tracing";
const DEBUGFS_PATH: &str = "/sys/kernel/debug";

/// A tracing directory: the top-level instance and the system-wide files.
#[derive(Clone, Debug)]
pub struct Tracefs {
    root: PathBuf,
}

impl Tracefs {
    /// Finds the tracing directory, mounting tracefs (or debugfs) if nothing is mounted.
    pub fn open() -> Result<Tracefs> {
        if let Some(root) = Tracefs::find()? {
            return Ok(Tracefs { root });
        }
        let mut tried = Vec::new();
        match mount("tracefs", TRACEFS_PATH) {
            Ok(()) => {
                return Ok(Tracefs {
                    root: PathBuf::from(TRACEFS_PATH),
                })
            }
            Err(e) => tried.push(format!("mounting tracefs on {TRACEFS_PATH}: {e}")),
        }
        match mount("debugfs", DEBUGFS_PATH) {
            Ok(()) => {
                let root = Path::new(DEBUGFS_PATH).join("tracing");
                if io::exists(&root.join("trace")) {
                    return Ok(Tracefs { root });
                }
                tried.push(format!("{} has no trace file", root.display()));
            }
            Err(e) => tried.push(format!("mounting debugfs on {DEBUGFS_PATH}: {e}")),
        }
        let hint = if nix::unistd::geteuid().is_root() {
            "does the kernel have CONFIG_FTRACE?"
        } else {
            "tracing needs root"
        };
        Err(Error::NotMounted {
            detail: format!("not in /proc/mounts; {} ({hint})", tried.join("; ")),
        })
    }

    /// The mounted tracing directory, if any, without mounting anything.
    pub fn find() -> Result<Option<PathBuf>> {
        let mounts = io::read(Path::new("/proc/mounts"))?;
        Ok(find_in_mounts(&mounts))
    }

    /// A tracing directory at a known path (a tracefs mounted elsewhere, or a test tree).
    pub fn at(root: impl Into<PathBuf>) -> Tracefs {
        Tracefs { root: root.into() }
    }

    /// Checks that this process may use the directory (tracefs is root-only by default:
    /// everything else would fail file by file).
    pub fn check_access(&self) -> Result<()> {
        std::fs::read_dir(&self.root)
            .map(drop)
            .map_err(|e| io::open_error(&self.root, e))
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A file of the top-level directory.
    pub fn path(&self, file: &str) -> PathBuf {
        self.root.join(file)
    }

    /// The top-level instance.
    pub fn top(&self) -> Instance {
        Instance::new(&self.root, None)
    }

    /// An existing instance; `None` means the top level.
    pub fn instance(&self, name: Option<&str>) -> Result<Instance> {
        let Some(name) = name else {
            return Ok(self.top());
        };
        let inst = Instance::new(&self.root, Some(name));
        if inst.dir().is_dir() {
            return Ok(inst);
        }
        let names = self.instance_names().unwrap_or_default();
        Err(Error::NoSuchInstance {
            name: name.to_string(),
            suggestions: suggest::closest(name, names.iter().map(String::as_str), 3),
        })
    }

    /// Names of the existing instances, in the kernel's order.
    pub fn instance_names(&self) -> Result<Vec<String>> {
        let dir = self.path("instances");
        if !io::exists(&dir) {
            return Ok(Vec::new());
        }
        io::list_dir(&dir, true)
    }

    /// Creates an instance, or opens it if it exists; the flag says whether it was created.
    pub fn create_instance(&self, name: &str) -> Result<(Instance, bool)> {
        check_instance_name(name)?;
        let inst = Instance::new(&self.root, Some(name));
        if inst.dir().is_dir() {
            return Ok((inst, false));
        }
        let parent = self.path("instances");
        if !parent.is_dir() {
            return Err(Error::Unsupported {
                feature: "tracing instances".into(),
                detail: format!(
                    "{} is missing (needs Linux 3.10 or later)",
                    parent.display()
                ),
            });
        }
        match std::fs::create_dir(inst.dir()) {
            Ok(()) => Ok((inst, true)),
            // Another process made it first: it exists, which is what was asked.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok((inst, false)),
            Err(e) => Err(dir_error("creating", inst.dir(), e)),
        }
    }

    /// Removes an instance and its buffers (the kernel refuses while a file in it is open).
    pub fn remove_instance(&self, name: &str) -> Result<()> {
        let inst = self.instance(Some(name))?;
        std::fs::remove_dir(inst.dir()).map_err(|e| dir_error("removing", inst.dir(), e))
    }

    /// Every instance including the top level (first).
    pub fn all_instances(&self) -> Result<Vec<Instance>> {
        let mut v = vec![self.top()];
        for n in self.instance_names()? {
            v.push(Instance::new(&self.root, Some(&n)));
        }
        Ok(v)
    }

    /// The CPUs that have per-CPU buffers (`per_cpu/cpuN`), ascending.
    pub fn cpus(&self) -> Result<Vec<u32>> {
        self.top().cpus()
    }
}

fn dir_error(op: &'static str, path: &Path, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::PermissionDenied
        && e.raw_os_error() == Some(crate::error::libc_errno::EACCES)
    {
        return Error::PermissionDenied {
            path: path.to_path_buf(),
        };
    }
    Error::Dir {
        op,
        path: path.to_path_buf(),
        errno: e,
    }
}

fn check_instance_name(name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(Error::Invalid {
            what: "instance name",
            value: name.to_string(),
            why: "must be a non-empty name without '/'".into(),
        });
    }
    Ok(())
}

/// The tracing directory named by a `/proc/mounts` text, libtracefs's way: the first tracefs
/// mount, else the first debugfs mount's `tracing/`.
fn find_in_mounts(mounts: &str) -> Option<PathBuf> {
    let mut debugfs = None;
    for line in mounts.lines() {
        let mut f = line.split_ascii_whitespace();
        let (_, Some(dir), Some(kind)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let dir = unescape_mount_path(dir);
        match kind {
            "tracefs" => return Some(PathBuf::from(dir)),
            "debugfs" if debugfs.is_none() => debugfs = Some(PathBuf::from(dir).join("tracing")),
            _ => {}
        }
    }
    debugfs
}

/// `/proc/mounts` escapes space, tab, newline and backslash as octal (`\040`).
fn unescape_mount_path(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() {
            let oct = &b[i + 1..i + 4];
            if oct.iter().all(|c| (b'0'..=b'7').contains(c)) {
                let oct = std::str::from_utf8(oct).unwrap_or("");
                if let Ok(v) = u8::from_str_radix(oct, 8) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn mount(fstype: &str, target: &str) -> std::result::Result<(), String> {
    if !Path::new(target).is_dir() {
        return Err(format!("{target} does not exist"));
    }
    nix::mount::mount(
        Some("nodev"),
        target,
        Some(fstype),
        nix::mount::MsFlags::empty(),
        None::<&str>,
    )
    .map_err(|e| e.desc().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracefs_wins_over_an_earlier_debugfs() {
        let m = "sysfs /sys sysfs rw 0 0\n\
                 debugfs /sys/kernel/debug debugfs rw 0 0\n\
                 nodev /sys/kernel/tracing tracefs rw,relatime 0 0\n";
        assert_eq!(
            find_in_mounts(m),
            Some(PathBuf::from("/sys/kernel/tracing"))
        );
    }

    #[test]
    fn debugfs_tracing_is_the_fallback() {
        let m = "proc /proc proc rw 0 0\ndebugfs /dbg\\040fs debugfs rw 0 0\n";
        assert_eq!(find_in_mounts(m), Some(PathBuf::from("/dbg fs/tracing")));
        assert_eq!(find_in_mounts("proc /proc proc rw 0 0\n"), None);
    }

    #[test]
    fn instance_names_are_checked() {
        assert!(check_instance_name("a/b").is_err());
        assert!(check_instance_name("..").is_err());
        assert!(check_instance_name("").is_err());
        assert!(check_instance_name("rtrace").is_ok());
    }
}
