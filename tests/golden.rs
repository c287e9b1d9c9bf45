//! Golden tests: `rtrace-cmd report` against the reference trace-cmds' own output.
//!
//! The manifests are `fixtures/golden/fixtures.tsv` (one row per trace.dat: where it is, which
//! dialects and file variants it is checked in) and `fixtures/golden/cases.tsv` (the `report`
//! options run on each fixture). For every case, dialect and variant this runs
//! `rtrace-cmd report [--compat 3.1] ARGS -i FILE` and compares its stdout and exit status
//! exactly with what the reference printed (`fixtures/golden/FIXTURE/ID.DIALECT.out`, the
//! exit status in `fixtures/golden/FIXTURE/status.tsv`; the reference's stderr is kept in
//! `.err` for information only). All cases run, in parallel, before the test fails.
//!
//! Environment:
//! - `RTRACE_UPDATE_GOLDEN=1`: regenerate the expected files by running the references
//!   (`RTRACE_REF_3_3`, default `~/.local/trace-cmd-3.3/trace-cmd-deb13`; `RTRACE_REF_3_1`,
//!   default `~/.local/trace-cmd-3.3/trace-cmd-deb12`, else `trace-cmd`; both installed by
//!   `tools/install-references.sh`). Each reference is first checked to load the
//!   libtraceevent it stands for (1.7.1, 1.8.4): a library installed from source into
//!   /usr/local/lib would otherwise change the 3.1 reference's output without a trace.
//! - `RTRACE_GOLDEN_FILTER=a,b`: only the cases whose key contains one of the substrings;
//!   keys read `FIXTURE/ID.DIALECT.VARIANT`, e.g. `sched/R.3.1.base`, `kmem/cpu0.3.3.v6`.
//! - `RTRACE_GOLDEN_VARIANTS=0`: skip the converted variants (they need the 3.3 reference's
//!   `convert` the first time; they are cached under the target directory).
//! - `RTRACE_GOLDEN_JOBS=N`: worker threads (default: available parallelism).
//! - `RTRACE_GOLDEN_SHOW=N`: failures printed in full (default 40; all are in the report file).
//! - `RTRACE_GOLDEN_TIMEOUT=SECS`: per-run limit (default 120); a run past it is killed and
//!   counts as a failure (a hang is a bug).
//! - `RTRACE_GOLDEN_BIN=PATH`: run this program instead of the freshly built rtrace-cmd
//!   (a release build, or `tools/reference-as-rtrace.sh` to check the harness itself).
//! - `RTRACE_SHARED`: the shared directory holding the foreign fixtures (default
//!   `<repo>/../shared`, else `/work/shared`).
//!
//! On failure the actual outputs are written under `target/tmp/golden-actual/` and a full
//! report to `target/tmp/golden-report.txt`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const REPO: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_rtrace-cmd");
const TMP: &str = env!("CARGO_TARGET_TMPDIR");

/// Expected outputs bigger than this are stored zstd-compressed (`.out.zst`): uncompressed,
/// the ~900 expected outputs would take 25 MB of the repository, compressed about 4 MB. On a
/// mismatch the expected output is written out in full beside the actual one, for `diff`.
const COMPRESS_ABOVE: usize = 16 * 1024;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
enum Dialect {
    V33,
    V31,
}

impl Dialect {
    fn name(self) -> &'static str {
        match self {
            Dialect::V33 => "3.3",
            Dialect::V31 => "3.1",
        }
    }
    fn parse(s: &str) -> Option<Dialect> {
        match s {
            "3.3" => Some(Dialect::V33),
            "3.1" => Some(Dialect::V31),
            _ => None,
        }
    }
    fn rtrace_args(self) -> &'static [&'static str] {
        match self {
            Dialect::V33 => &[],
            Dialect::V31 => &["--compat", "3.1"],
        }
    }
}

/// A copy of a fixture re-written by the 3.3 reference's `convert`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
enum Variant {
    Base,
    V6,
    None,
    Zstd,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Base => "base",
            Variant::V6 => "v6",
            Variant::None => "none",
            Variant::Zstd => "zstd",
        }
    }
    fn parse(s: &str) -> Option<Variant> {
        match s {
            "v6" => Some(Variant::V6),
            "none" => Some(Variant::None),
            "zstd" => Some(Variant::Zstd),
            _ => None,
        }
    }
    fn convert_args(self) -> &'static [&'static str] {
        match self {
            Variant::Base => &[],
            Variant::V6 => &["--file-version", "6"],
            Variant::None => &["--compression", "none"],
            Variant::Zstd => &["--file-version", "7"],
        }
    }
}

struct Fixture {
    name: String,
    /// As written in the manifest (shown in commands).
    file_text: String,
    file: PathBuf,
    dialects: Vec<Dialect>,
    variants: Vec<Variant>,
}

struct Case {
    fixture: usize,
    id: String,
    args: Vec<String>,
    /// Converted variants this case is not checked on (the fourth column, `-v6,-none`):
    /// where trace-cmd's output depends on memory it reads past a record, which the copies
    /// lay out differently (the fifth column says why).
    skip_variants: Vec<Variant>,
}

/// One row of a fixture's status.tsv: what the reference did for (case, dialect, variant).
#[derive(Clone, Debug, PartialEq)]
struct Status {
    exit: i32,
    lines: usize,
    /// For a variant: "=" when its output equals the base's, else its own file.
    same_as_base: bool,
    /// FNV-1a of the variant file the output was made from ("-" for the base).
    file_hash: String,
}

type StatusKey = (String, Dialect, Variant);

struct Ctx {
    bin: String,
    fixtures: Vec<Fixture>,
    cases: Vec<Case>,
    golden: PathBuf,
    update: bool,
    ref31: String,
    ref33: String,
    timeout: Duration,
    /// Converted variant files and their hashes, by (fixture index, variant).
    variant_files: HashMap<(usize, Variant), (PathBuf, String)>,
    /// status.tsv contents, by fixture name.
    status: BTreeMap<String, BTreeMap<StatusKey, Status>>,
}

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: Vec<(String, String)>,
    updated: usize,
    unchanged: usize,
}

fn env_flag(name: &str) -> bool {
    std::env::var(name)
        .map(|v| !v.is_empty() && v != "0")
        .unwrap_or(false)
}

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn shared_dir() -> Option<PathBuf> {
    if let Ok(s) = std::env::var("RTRACE_SHARED") {
        return Some(PathBuf::from(s));
    }
    let beside = Path::new(REPO).join("../shared");
    if beside.is_dir() {
        return Some(beside);
    }
    let fixed = Path::new("/work/shared");
    fixed.is_dir().then(|| fixed.to_path_buf())
}

/// Splits a manifest cell into words the way a POSIX shell would for quotes and
/// backslashes (no expansions): cases are written as one would type them.
fn shell_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err(format!("unterminated ' in {s:?}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => cur.push(c),
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c);
                            }
                            None => return Err(format!("unterminated \" in {s:?}")),
                        },
                        Some(c) => cur.push(c),
                        None => return Err(format!("unterminated \" in {s:?}")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => cur.push(c),
                    None => return Err(format!("trailing \\ in {s:?}")),
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Quotes a word for display so the printed command can be pasted into a shell.
fn shell_quote(w: &str) -> String {
    if !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

fn tsv_rows(path: &Path) -> Vec<(usize, Vec<String>)> {
    let text = fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("golden: cannot read {}: {e}", path.display()));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| (i + 1, l.split('\t').map(str::to_string).collect()))
        .collect()
}

fn load_manifest(golden: &Path) -> (Vec<Fixture>, Vec<Case>) {
    let shared = shared_dir();
    let mut fixtures = Vec::new();
    let mut by_name = HashMap::new();
    let fpath = golden.join("fixtures.tsv");
    for (line, cols) in tsv_rows(&fpath) {
        let at = || format!("{}:{line}", fpath.display());
        assert!(
            cols.len() >= 4,
            "golden: {}: expected name, file, dialects, variants",
            at()
        );
        let file_text = cols[1].clone();
        let file = if let Some(rest) = file_text.strip_prefix("$SHARED/") {
            let Some(shared) = &shared else {
                panic!(
                    "golden: {}: {file_text} needs the shared directory, which was not found \
                     (set RTRACE_SHARED; it is <repo>/../shared on the development machine and in CI)",
                    at()
                );
            };
            shared.join(rest)
        } else {
            Path::new(REPO).join(&file_text)
        };
        assert!(
            file.is_file(),
            "golden: {}: {} does not exist{}",
            at(),
            file.display(),
            if file_text.starts_with("$SHARED/") {
                " (is RTRACE_SHARED the shared directory with fixtures/foreign/?)"
            } else {
                ""
            }
        );
        let dialects = cols[2]
            .split(',')
            .map(|d| {
                Dialect::parse(d.trim())
                    .unwrap_or_else(|| panic!("golden: {}: dialect {d:?}", at()))
            })
            .collect();
        let variants = cols[3]
            .split(',')
            .filter(|v| !v.trim().is_empty())
            .map(|v| {
                Variant::parse(v.trim())
                    .unwrap_or_else(|| panic!("golden: {}: variant {v:?}", at()))
            })
            .collect();
        assert!(
            by_name.insert(cols[0].clone(), fixtures.len()).is_none(),
            "golden: {}: fixture {} listed twice",
            at(),
            cols[0]
        );
        fixtures.push(Fixture {
            name: cols[0].clone(),
            file_text,
            file,
            dialects,
            variants,
        });
    }
    let mut cases: Vec<Case> = Vec::new();
    let cpath = golden.join("cases.tsv");
    for (line, cols) in tsv_rows(&cpath) {
        let at = format!("{}:{line}", cpath.display());
        assert!(cols.len() >= 2, "golden: {at}: expected fixture, id, args");
        let fixture = *by_name
            .get(&cols[0])
            .unwrap_or_else(|| panic!("golden: {at}: unknown fixture {}", cols[0]));
        let id = cols[1].clone();
        assert!(
            !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)),
            "golden: {at}: id {id:?} must be [A-Za-z0-9_-]+ (it names files)"
        );
        assert!(
            !cases.iter().any(|c| c.fixture == fixture && c.id == id),
            "golden: {at}: case {}/{id} listed twice",
            cols[0]
        );
        let args = shell_words(cols.get(2).map(String::as_str).unwrap_or(""))
            .unwrap_or_else(|e| panic!("golden: {at}: {e}"));
        let skip_variants = cols
            .get(3)
            .map(String::as_str)
            .unwrap_or("")
            .split(',')
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.strip_prefix('-')
                    .and_then(Variant::parse)
                    .unwrap_or_else(|| panic!("golden: {at}: bad variant exclusion {v:?}"))
            })
            .collect();
        cases.push(Case {
            fixture,
            id,
            args,
            skip_variants,
        });
    }
    (fixtures, cases)
}

fn read_status(path: &Path) -> BTreeMap<StatusKey, Status> {
    let mut map = BTreeMap::new();
    let Ok(text) = fs::read_to_string(path) else {
        return map;
    };
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let c: Vec<&str> = line.split('\t').collect();
        let parsed = (|| {
            Some((
                (
                    c.first()?.to_string(),
                    Dialect::parse(c.get(1)?)?,
                    match *c.get(2)? {
                        "base" => Variant::Base,
                        v => Variant::parse(v)?,
                    },
                ),
                Status {
                    exit: c.get(3)?.parse().ok()?,
                    lines: c.get(4)?.parse().ok()?,
                    same_as_base: *c.get(5)? == "=",
                    file_hash: c.get(6)?.to_string(),
                },
            ))
        })();
        let (k, s) =
            parsed.unwrap_or_else(|| panic!("golden: {}: bad line {line:?}", path.display()));
        map.insert(k, s);
    }
    map
}

fn write_status(path: &Path, map: &BTreeMap<StatusKey, Status>) {
    let mut out = String::from(
        "# Written by RTRACE_UPDATE_GOLDEN=1 (tests/golden.rs): the reference's exit status and stdout\n\
         # line count per case; for a converted variant, \"=\" when the reference printed exactly what it\n\
         # printed for the original file (else the variant has its own .out), and the variant file's hash.\n\
         #id\tdialect\tvariant\texit\tlines\toutput\tfile\n",
    );
    for ((id, d, v), s) in map {
        let output = if *v == Variant::Base {
            "base"
        } else if s.same_as_base {
            "="
        } else {
            "own"
        };
        let _ = writeln!(
            out,
            "{id}\t{}\t{}\t{}\t{}\t{output}\t{}",
            d.name(),
            v.name(),
            s.exit,
            s.lines,
            s.file_hash
        );
    }
    fs::write(path, out).unwrap_or_else(|e| panic!("golden: writing {}: {e}", path.display()));
}

/// FNV-1a over 8-byte words (then the tail bytes, then the length): enough to notice that a
/// converted variant is not the file the expected output was made from (another `convert`
/// build), without a hashing dependency, and fast enough in a debug build for ~100 MB.
fn fnv1a(data: &[u8]) -> String {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        h = (h ^ u64::from_le_bytes(w.try_into().unwrap())).wrapping_mul(PRIME);
    }
    for &b in words.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(PRIME);
    }
    h = (h ^ data.len() as u64).wrapping_mul(PRIME);
    format!("{h:016x}")
}

struct RunOutput {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// Exit code; a death by signal N is 128 + N, as a shell shows it.
    exit: i32,
    timed_out: bool,
}

fn run(program: &str, args: &[String], timeout: Duration) -> Result<RunOutput, String> {
    let mut cmd = Command::new(program);
    // A plugin directory in the caller's environment would reach the 3.1 reference (the 3.3
    // wrapper sets its own).
    cmd.args(args)
        .current_dir(REPO)
        .env_remove("TRACEEVENT_PLUGIN_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    // Both pipes are drained while the child runs, so a large output cannot block it.
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() > timeout => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().map_err(|e| e.to_string())?;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(e.to_string()),
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    use std::os::unix::process::ExitStatusExt;
    let exit = status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    Ok(RunOutput {
        stdout,
        stderr,
        exit,
        timed_out,
    })
}

fn count_lines(b: &[u8]) -> usize {
    b.iter().filter(|&&c| c == b'\n').count() + usize::from(!b.is_empty() && !b.ends_with(b"\n"))
}

fn expected_stem(golden: &Path, fixture: &str, id: &str, d: Dialect, v: Variant) -> PathBuf {
    let name = match v {
        Variant::Base => format!("{id}.{}", d.name()),
        _ => format!("{id}.{}.{}", d.name(), v.name()),
    };
    golden.join(fixture).join(name)
}

fn read_expected(stem: &Path) -> Result<Vec<u8>, String> {
    let plain = stem.with_extension_added("out");
    if let Ok(b) = fs::read(&plain) {
        return Ok(b);
    }
    let zst = stem.with_extension_added("out.zst");
    match fs::read(&zst) {
        Ok(b) => zstd::decode_all(&b[..]).map_err(|e| format!("{}: {e}", zst.display())),
        Err(_) => Err(format!(
            "no expected output {} (run with RTRACE_UPDATE_GOLDEN=1 to make it)",
            plain.display()
        )),
    }
}

fn write_expected(stem: &Path, stdout: &[u8], stderr: &[u8]) -> bool {
    let plain = stem.with_extension_added("out");
    let zst = stem.with_extension_added("out.zst");
    let err = stem.with_extension_added("err");
    let compress = stdout.len() > COMPRESS_ABOVE;
    let in_place = if compress {
        zst.is_file()
    } else {
        plain.is_file()
    };
    let unchanged = in_place
        && read_expected(stem).ok().as_deref() == Some(stdout)
        && fs::read(&err).unwrap_or_default() == stderr;
    if unchanged {
        return false;
    }
    fs::create_dir_all(stem.parent().unwrap()).unwrap();
    let _ = fs::remove_file(&plain);
    let _ = fs::remove_file(&zst);
    if compress {
        let z = zstd::encode_all(stdout, 19).expect("zstd");
        fs::write(&zst, z).unwrap();
    } else {
        fs::write(&plain, stdout).unwrap();
    }
    if stderr.is_empty() {
        let _ = fs::remove_file(&err);
    } else {
        fs::write(&err, stderr).unwrap();
    }
    true
}

fn remove_expected(stem: &Path) {
    for ext in ["out", "out.zst", "err"] {
        let _ = fs::remove_file(stem.with_extension_added(ext));
    }
}

trait WithExtensionAdded {
    fn with_extension_added(&self, ext: &str) -> PathBuf;
}
impl WithExtensionAdded for Path {
    fn with_extension_added(&self, ext: &str) -> PathBuf {
        let mut s = self.as_os_str().to_owned();
        s.push(".");
        s.push(ext);
        PathBuf::from(s)
    }
}

/// Where and how two outputs first differ, as lines a developer can act on.
fn describe_difference(expected: &[u8], got: &[u8]) -> String {
    let e: Vec<&[u8]> = expected.split(|&c| c == b'\n').collect();
    let g: Vec<&[u8]> = got.split(|&c| c == b'\n').collect();
    let show = |l: &[u8], col: usize| {
        let s = String::from_utf8_lossy(l);
        // long lines: show a window around the first differing column
        let start = col.saturating_sub(60);
        let chars: Vec<char> = s.chars().collect();
        let start = start.min(chars.len());
        let end = (start + 200).min(chars.len());
        let mut w: String = chars[start..end]
            .iter()
            .collect::<String>()
            .escape_debug()
            .to_string();
        if start > 0 {
            w.insert(0, '…');
        }
        if end < chars.len() {
            w.push('…');
        }
        w
    };
    if got.is_empty() {
        return format!("  no output; expected line 1 is \"{}\"", show(e[0], 0));
    }
    for i in 0..e.len().max(g.len()) {
        match (e.get(i), g.get(i)) {
            (Some(a), Some(b)) if a == b => continue,
            (Some(a), Some(b)) => {
                let col = a.iter().zip(b.iter()).take_while(|(x, y)| x == y).count();
                let col_chars = String::from_utf8_lossy(&a[..col]).chars().count();
                return format!(
                    "  first difference at line {}, column {}:\n    expected: \"{}\"\n    got:      \"{}\"",
                    i + 1,
                    col_chars + 1,
                    show(a, col_chars),
                    show(b, col_chars)
                );
            }
            (Some(a), None) => {
                return format!(
                    "  output ends early: expected line {} is \"{}\"",
                    i + 1,
                    show(a, 0)
                )
            }
            (None, Some(b)) => {
                return format!(
                    "  output goes on: extra line {} is \"{}\"",
                    i + 1,
                    show(b, 0)
                )
            }
            (None, None) => unreachable!(),
        }
    }
    "  outputs are equal".to_string()
}

fn display_cmd(program: &str, args: &[String]) -> String {
    std::iter::once(program.to_string())
        .chain(args.iter().map(|a| shell_quote(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `report ARGS -i FILE`. Runs happen in the repository, and a file inside it is named
/// relative to it: some options print the file name (`--cpus`), which must not depend on where
/// the checkout is.
fn report_args(prefix: &[&str], case: &Case, file: &Path) -> Vec<String> {
    let mut a: Vec<String> = vec!["report".into()];
    a.extend(prefix.iter().map(|s| s.to_string()));
    a.extend(case.args.iter().cloned());
    a.push("-i".into());
    let file = file.strip_prefix(REPO).unwrap_or(file);
    a.push(file.display().to_string());
    a
}

/// Panics unless `program` loads libtraceevent `version`: the outputs of the references are
/// those of their libtraceevent as much as of trace-cmd.
fn verify_reference(program: &str, version: &str) {
    let out = Command::new(program)
        .arg("--version")
        .env("LD_DEBUG", "libs")
        .env_remove("TRACEEVENT_PLUGIN_DIR")
        .output()
        .unwrap_or_else(|e| {
            panic!("golden: cannot run the reference {program}: {e}\n  install the references with tools/install-references.sh (or set RTRACE_REF_3_1 / RTRACE_REF_3_3)")
        });
    let text = String::from_utf8_lossy(&out.stderr);
    let lib = text
        .lines()
        .filter_map(|l| l.split("calling init: ").nth(1))
        .find(|p| p.contains("libtraceevent.so"))
        .map(|p| fs::canonicalize(p.trim()).unwrap_or_else(|_| PathBuf::from(p.trim())));
    match lib {
        Some(l) if l.to_string_lossy().ends_with(&format!("libtraceevent.so.{version}")) => {}
        other => panic!(
            "golden: the reference {program} loads {}, not libtraceevent {version}: its output would not be the \
             reference's (a libtraceevent in /usr/local/lib? use the wrappers tools/install-references.sh writes)",
            other.map(|p| p.display().to_string()).unwrap_or_else(|| "no libtraceevent".into())
        ),
    }
    let local_plugins =
        Path::new(&std::env::var("HOME").unwrap_or_default()).join(".local/lib/traceevent/plugins");
    if fs::read_dir(&local_plugins)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false)
    {
        panic!(
            "golden: {} holds plugins, which every libtraceevent loads last: the references' output would change",
            local_plugins.display()
        );
    }
}

/// Makes (or reuses) the converted copies the selected cases need, with the 3.3 reference.
fn prepare_variants(ctx: &mut Ctx, wanted: &[(usize, Variant)], jobs: usize) {
    let dir = Path::new(TMP).join("golden-variants");
    fs::create_dir_all(&dir).unwrap();
    let todo: Vec<(usize, Variant, PathBuf)> = wanted
        .iter()
        .map(|&(f, v)| {
            (
                f,
                v,
                dir.join(format!("{}.{}.dat", ctx.fixtures[f].name, v.name())),
            )
        })
        .collect();
    let next = AtomicUsize::new(0);
    let errors = Mutex::new(Vec::new());
    let done = Mutex::new(Vec::new());
    let ref33 = ctx.ref33.clone();
    let fixtures = &ctx.fixtures;
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((f, v, out)) = todo.get(i) else { break };
                let src = &fixtures[*f].file;
                let src_hash = fnv1a(&fs::read(src).unwrap());
                // The stamp holds "SOURCE-HASH VARIANT-HASH": a re-captured fixture gets new
                // copies, and a reused copy is not hashed again.
                let stamp = out.with_extension_added("stamp");
                if let Ok(text) = fs::read_to_string(&stamp) {
                    if let Some((sh, vh)) = text.trim().split_once(' ') {
                        if sh == src_hash && out.is_file() {
                            done.lock().unwrap().push((*f, *v, out.clone(), vh.to_string()));
                            continue;
                        }
                    }
                }
                let tmp = out.with_extension_added("tmp");
                let mut args: Vec<String> = vec!["convert".into(), "-i".into(), src.display().to_string()];
                args.extend(["-o".to_string(), tmp.display().to_string()]);
                args.extend(v.convert_args().iter().map(|s| s.to_string()));
                match run(&ref33, &args, Duration::from_secs(300)) {
                    Ok(r) if r.exit == 0 && tmp.is_file() => {
                        let vh = fnv1a(&fs::read(&tmp).unwrap());
                        fs::rename(&tmp, out).unwrap();
                        fs::write(&stamp, format!("{src_hash} {vh}\n")).unwrap();
                        done.lock().unwrap().push((*f, *v, out.clone(), vh));
                    }
                    Ok(r) => errors.lock().unwrap().push(format!(
                        "{}: exit {}: {}",
                        display_cmd(&ref33, &args),
                        r.exit,
                        String::from_utf8_lossy(&r.stderr).trim()
                    )),
                    Err(e) => errors.lock().unwrap().push(format!(
                        "{e}\n  the converted variants are made by the 3.3 reference: run tools/install-references.sh \
                         (or set RTRACE_REF_3_3), or skip them with RTRACE_GOLDEN_VARIANTS=0"
                    )),
                }
            });
        }
    });
    let errors = errors.into_inner().unwrap();
    assert!(
        errors.is_empty(),
        "golden: making converted variants failed:\n{}",
        errors.join("\n")
    );
    for (f, v, out, hash) in done.into_inner().unwrap() {
        ctx.variant_files.insert((f, v), (out, hash));
    }
}

/// Runs one (case, dialect) over the base file and every selected variant.
fn check_case(ctx: &Ctx, case: &Case, d: Dialect, variants: &[Variant], tally: &Mutex<Tally>) {
    let fx = &ctx.fixtures[case.fixture];
    let status = ctx.status.get(&fx.name);
    for &v in variants {
        let key = format!("{}/{}.{}.{}", fx.name, case.id, d.name(), v.name());
        let file = if v == Variant::Base {
            fx.file.clone()
        } else {
            ctx.variant_files[&(case.fixture, v)].0.clone()
        };
        let shown_file = if v == Variant::Base {
            PathBuf::from(&fx.file_text)
        } else {
            file.clone()
        };
        let args = report_args(d.rtrace_args(), case, &file);
        let shown_cmd = display_cmd(
            "rtrace-cmd",
            &report_args(d.rtrace_args(), case, &shown_file),
        );
        let fail = |msg: String| {
            tally
                .lock()
                .unwrap()
                .failed
                .push((key.clone(), format!("FAIL {key}\n  {shown_cmd}\n{msg}")));
        };
        let st = status.and_then(|m| m.get(&(case.id.clone(), d, v)));
        let Some(st) = st else {
            fail(format!(
                "  no expected status in {}/status.tsv (run with RTRACE_UPDATE_GOLDEN=1)",
                fx.name
            ));
            continue;
        };
        if v != Variant::Base {
            let h = &ctx.variant_files[&(case.fixture, v)].1;
            if *h != st.file_hash {
                fail(format!(
                    "  the converted file {} (hash {h}) is not the one the expected output was made from \
                     (hash {}): another build of convert? Regenerate with RTRACE_UPDATE_GOLDEN=1",
                    file.display(),
                    st.file_hash
                ));
                continue;
            }
        }
        let exp_variant = if v != Variant::Base && st.same_as_base {
            Variant::Base
        } else {
            v
        };
        let expected = match read_expected(&expected_stem(
            &ctx.golden,
            &fx.name,
            &case.id,
            d,
            exp_variant,
        )) {
            Ok(e) => e,
            Err(e) => {
                fail(format!("  {e}"));
                continue;
            }
        };
        let r = match run(&ctx.bin, &args, ctx.timeout) {
            Ok(r) => r,
            Err(e) => {
                fail(format!("  {e}"));
                continue;
            }
        };
        if !r.timed_out && r.exit == st.exit && r.stdout == expected {
            tally.lock().unwrap().passed += 1;
            continue;
        }
        let mut msg = String::new();
        if r.timed_out {
            let _ = writeln!(msg, "  killed after {} s (a hang?)", ctx.timeout.as_secs());
        }
        if r.exit != st.exit {
            let _ = writeln!(msg, "  exit status: expected {}, got {}", st.exit, r.exit);
        }
        if r.stdout != expected {
            let _ = writeln!(msg, "{}", describe_difference(&expected, &r.stdout));
            let _ = writeln!(
                msg,
                "  ({} lines expected, {} got)",
                count_lines(&expected),
                count_lines(&r.stdout)
            );
        }
        let err = String::from_utf8_lossy(&r.stderr);
        if let Some(first) = err.lines().next() {
            let _ = writeln!(msg, "  rtrace-cmd stderr: {}", first.escape_debug());
        }
        let actual = Path::new(TMP).join("golden-actual").join(&fx.name);
        fs::create_dir_all(&actual).unwrap();
        let actual_file = actual.join(format!("{}.{}.{}.out", case.id, d.name(), v.name()));
        fs::write(&actual_file, &r.stdout).unwrap();
        let exp_file = actual.join(format!("{}.{}.{}.expected", case.id, d.name(), v.name()));
        fs::write(&exp_file, &expected).unwrap();
        let _ = write!(
            msg,
            "  diff {} {}",
            exp_file.display(),
            actual_file.display()
        );
        fail(msg);
    }
}

/// Regenerates one (case, dialect): the reference on the base file, then on each variant.
fn update_case(
    ctx: &Ctx,
    case: &Case,
    d: Dialect,
    variants: &[Variant],
    tally: &Mutex<Tally>,
    new_status: &Mutex<BTreeMap<String, BTreeMap<StatusKey, Status>>>,
) {
    let fx = &ctx.fixtures[case.fixture];
    let program = match d {
        Dialect::V33 => &ctx.ref33,
        Dialect::V31 => &ctx.ref31,
    };
    let mut base: Option<RunOutput> = None;
    for &v in variants {
        let key = format!("{}/{}.{}.{}", fx.name, case.id, d.name(), v.name());
        let file = if v == Variant::Base {
            fx.file.clone()
        } else {
            ctx.variant_files[&(case.fixture, v)].0.clone()
        };
        let args = report_args(&[], case, &file);
        let r = match run(program, &args, ctx.timeout) {
            Ok(r) if !r.timed_out => r,
            Ok(_) => {
                tally.lock().unwrap().failed.push((
                    key.clone(),
                    format!(
                        "{key}: the reference timed out: {}",
                        display_cmd(program, &args)
                    ),
                ));
                continue;
            }
            Err(e) => {
                tally.lock().unwrap().failed.push((key.clone(), format!(
                    "{key}: {e}\n  install the references with tools/install-references.sh (or set RTRACE_REF_3_1 / RTRACE_REF_3_3)"
                )));
                continue;
            }
        };
        let stem = expected_stem(&ctx.golden, &fx.name, &case.id, d, v);
        let (same, hash) = if v == Variant::Base {
            (false, "-".to_string())
        } else {
            let b = base.as_ref().expect("base runs first");
            (
                b.stdout == r.stdout && b.exit == r.exit,
                ctx.variant_files[&(case.fixture, v)].1.clone(),
            )
        };
        let changed = if v != Variant::Base && same {
            remove_expected(&stem);
            false
        } else {
            write_expected(&stem, &r.stdout, &r.stderr)
        };
        {
            let mut t = tally.lock().unwrap();
            if changed {
                t.updated += 1;
            } else {
                t.unchanged += 1;
            }
        }
        new_status
            .lock()
            .unwrap()
            .entry(fx.name.clone())
            .or_default()
            .insert(
                (case.id.clone(), d, v),
                Status {
                    exit: r.exit,
                    lines: count_lines(&r.stdout),
                    same_as_base: same,
                    file_hash: hash,
                },
            );
        if v == Variant::Base {
            base = Some(r);
        }
    }
}

#[test]
fn golden() {
    let golden = Path::new(REPO).join("fixtures/golden");
    let (fixtures, cases) = load_manifest(&golden);
    let update = env_flag("RTRACE_UPDATE_GOLDEN");
    let with_variants = std::env::var("RTRACE_GOLDEN_VARIANTS")
        .map(|v| v != "0")
        .unwrap_or(true);
    let filters: Vec<String> = std::env::var("RTRACE_GOLDEN_FILTER")
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let jobs = env_num(
        "RTRACE_GOLDEN_JOBS",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2),
    )
    .max(1);
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let mut ctx = Ctx {
        bin: std::env::var("RTRACE_GOLDEN_BIN").unwrap_or_else(|_| BIN.to_string()),
        fixtures,
        cases,
        golden: golden.clone(),
        update,
        ref31: std::env::var("RTRACE_REF_3_1").unwrap_or_else(|_| {
            let pinned = format!("{home}/.local/trace-cmd-3.3/trace-cmd-deb12");
            if Path::new(&pinned).is_file() {
                pinned
            } else {
                "trace-cmd".into()
            }
        }),
        ref33: std::env::var("RTRACE_REF_3_3")
            .unwrap_or_else(|_| format!("{home}/.local/trace-cmd-3.3/trace-cmd-deb13")),
        timeout: Duration::from_secs(env_num("RTRACE_GOLDEN_TIMEOUT", 120) as u64),
        variant_files: HashMap::new(),
        status: BTreeMap::new(),
    };
    for f in &ctx.fixtures {
        ctx.status.insert(
            f.name.clone(),
            read_status(&golden.join(&f.name).join("status.tsv")),
        );
    }

    // The work: (case, dialect, variants). In update mode the base always runs with its
    // variants (they are compared with it); otherwise the filter picks single runs.
    let matches =
        |key: &str| filters.is_empty() || filters.iter().any(|f| key.contains(f.as_str()));
    let mut work: Vec<(usize, Dialect, Vec<Variant>)> = Vec::new();
    for (ci, c) in ctx.cases.iter().enumerate() {
        let fx = &ctx.fixtures[c.fixture];
        for &d in &fx.dialects {
            let all: Vec<Variant> = std::iter::once(Variant::Base)
                .chain(
                    fx.variants
                        .iter()
                        .copied()
                        .filter(|v| with_variants && !c.skip_variants.contains(v)),
                )
                .collect();
            let chosen: Vec<Variant> = if update {
                let case_key = format!("{}/{}.{}.", fx.name, c.id, d.name());
                if all
                    .iter()
                    .any(|v| matches(&format!("{case_key}{}", v.name())))
                {
                    all
                } else {
                    vec![]
                }
            } else {
                all.into_iter()
                    .filter(|v| matches(&format!("{}/{}.{}.{}", fx.name, c.id, d.name(), v.name())))
                    .collect()
            };
            if !chosen.is_empty() {
                work.push((ci, d, chosen));
            }
        }
    }
    let mut wanted: Vec<(usize, Variant)> = work
        .iter()
        .flat_map(|(ci, _, vs)| {
            vs.iter()
                .filter(|v| **v != Variant::Base)
                .map(|v| (ctx.cases[*ci].fixture, *v))
        })
        .collect();
    wanted.sort();
    wanted.dedup();
    let start = Instant::now();
    if update {
        if work.iter().any(|w| w.1 == Dialect::V31) {
            verify_reference(&ctx.ref31, "1.7.1");
        }
        verify_reference(&ctx.ref33, "1.8.4");
    }
    if !wanted.is_empty() {
        prepare_variants(&mut ctx, &wanted, jobs);
    }

    let tally = Mutex::new(Tally::default());
    let new_status = Mutex::new(BTreeMap::new());
    let next = AtomicUsize::new(0);
    let ctx = &ctx;
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((ci, d, vs)) = work.get(i) else {
                    break;
                };
                let case = &ctx.cases[*ci];
                if ctx.update {
                    update_case(ctx, case, *d, vs, &tally, &new_status);
                } else {
                    check_case(ctx, case, *d, vs, &tally);
                }
            });
        }
    });
    let runs: usize = work.iter().map(|w| w.2.len()).sum();
    let mut tally = tally.into_inner().unwrap();
    tally.failed.sort();

    if ctx.update {
        // Merge: rows of cases not run this time are kept.
        for (fixture, rows) in new_status.into_inner().unwrap() {
            let mut merged = ctx.status.get(&fixture).cloned().unwrap_or_default();
            merged.extend(rows);
            // rows of cases no longer in the manifest are dropped
            merged.retain(|(id, d, v), _| {
                ctx.cases
                    .iter()
                    .any(|c| ctx.fixtures[c.fixture].name == fixture && &c.id == id)
                    && ctx.fixtures.iter().any(|f| {
                        f.name == fixture
                            && f.dialects.contains(d)
                            && (*v == Variant::Base || f.variants.contains(v))
                    })
            });
            let dir = golden.join(&fixture);
            fs::create_dir_all(&dir).unwrap();
            write_status(&dir.join("status.tsv"), &merged);
            // Expected files no status row refers to (a case renamed or removed, a variant
            // that now prints what the base prints) would mislead: remove them.
            let keep: Vec<PathBuf> = merged
                .iter()
                .filter(|((_, _, v), st)| *v == Variant::Base || !st.same_as_base)
                .map(|((id, d, v), _)| expected_stem(&golden, &fixture, id, *d, *v))
                .collect();
            for entry in fs::read_dir(&dir).unwrap().flatten() {
                let p = entry.path();
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                if name == "status.tsv" {
                    continue;
                }
                let known = keep.iter().any(|k| {
                    ["out", "out.zst", "err"]
                        .iter()
                        .any(|e| k.with_extension_added(e) == p)
                });
                if !known {
                    let _ = fs::remove_file(&p);
                }
            }
        }
        eprintln!(
            "golden: updated {} expected outputs, {} unchanged, from {} reference runs in {:.1}s",
            tally.updated,
            tally.unchanged,
            runs,
            start.elapsed().as_secs_f64()
        );
        for (_, m) in &tally.failed {
            eprintln!("{m}");
        }
        assert!(
            tally.failed.is_empty(),
            "golden: {} reference runs failed",
            tally.failed.len()
        );
        return;
    }

    let limit = env_num("RTRACE_GOLDEN_SHOW", 40);
    let mut full = String::new();
    for (i, (_, m)) in tally.failed.iter().enumerate() {
        let _ = writeln!(full, "{m}\n");
        if i < limit {
            eprintln!("{m}\n");
        }
    }
    if tally.failed.len() > limit {
        let rest = &tally.failed[limit..];
        if rest.len() <= 200 {
            eprintln!("... and {} more failures:", rest.len());
            for (k, _) in rest {
                eprintln!("  FAIL {k}");
            }
        } else {
            eprintln!(
                "... and {} more failures (listed in the full report)",
                rest.len()
            );
        }
    }
    // Per fixture, so a developer sees which areas are done.
    let mut per: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (ci, _, vs) in &work {
        per.entry(ctx.fixtures[ctx.cases[*ci].fixture].name.as_str())
            .or_default()
            .0 += vs.len();
    }
    for (k, _) in &tally.failed {
        let fixture = k.split('/').next().unwrap_or("");
        if let Some(e) = per.get_mut(fixture) {
            e.1 += 1;
        }
    }
    let mut summary = String::from("golden: per fixture (passed/runs):");
    for (f, (n, failed)) in &per {
        let _ = write!(summary, " {f} {}/{n}", n - failed);
    }
    let report = Path::new(TMP).join("golden-report.txt");
    let _ = fs::File::create(&report)
        .and_then(|mut f| f.write_all(format!("{full}{summary}\n").as_bytes()));
    eprintln!("{summary}");
    eprintln!(
        "golden: {} passed, {} failed, of {runs} runs ({} cases x dialects x variants) in {:.1}s; full report: {}",
        tally.passed,
        tally.failed.len(),
        work.len(),
        start.elapsed().as_secs_f64(),
        report.display()
    );
    assert!(
        tally.failed.is_empty(),
        "golden: {} of {runs} runs differ from the references",
        tally.failed.len()
    );
}
