//! Dynamic debug: turning the kernel's `pr_debug()`/`dev_dbg()` call sites on and off
//! through its `control` file (Documentation/admin-guide/dynamic-debug-howto.rst;
//! lib/dynamic_debug.c). Not part of tracefs, but what users reach for next to it; with the
//! `p` flag the messages go to the kernel log, and since Linux 6.1 they can also be traced
//! (the `printk:console` event).
//!
//! The file is `/proc/dynamic_debug/control` (Linux 5.9+) or
//! `<debugfs>/dynamic_debug/control`. Each line is a site:
//! `FILE:LINE [MODULE]FUNCTION =FLAGS "FORMAT"`. A query is keyword/value pairs (`file`,
//! `module`, `func`, `line`, `format`, `class`) and a flag change (`+p`, `-p`, `=pmflt`);
//! several queries are separated by `;` or newlines. The matching rules are reproduced here
//! so that a query can be previewed and the number of sites it touched reported (the kernel
//! only logs that count).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::io::{self, Mode};

/// One `pr_debug` site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// Source file as the kernel records it.
    pub file: String,
    /// Line number.
    pub line: u32,
    /// Module (`main` etc. for built-in code: the file's base name).
    pub module: String,
    /// Function.
    pub function: String,
    /// Flags without the `=`; `_` for none.
    pub flags: String,
    /// The format, as the kernel quotes it (escapes like `\012` kept).
    pub format: String,
    /// The line as the kernel lists it.
    pub text: String,
}

impl Site {
    /// Parses a control line; `None` for the `#` header or anything else.
    pub fn parse(line: &str) -> Option<Site> {
        if line.starts_with('#') {
            return None;
        }
        let (loc, rest) = line.split_once(' ')?;
        let (file, lineno) = loc.rsplit_once(':')?;
        let (modfunc, rest) = rest.split_once(' ')?;
        let modfunc = modfunc.strip_prefix('[')?;
        let (module, function) = modfunc.split_once(']')?;
        let (flags, format) = match rest.split_once(' ') {
            Some((f, r)) => (f, r),
            None => (rest, ""),
        };
        let flags = flags.strip_prefix('=')?;
        // Linux 6.2+ appends " class:NAME" after the format.
        let format = match format.rfind("\" class:") {
            Some(i) => &format[..=i],
            None => format,
        };
        let format = format
            .strip_prefix('"')
            .and_then(|f| f.strip_suffix('"'))
            .unwrap_or(format);
        Some(Site {
            file: file.to_string(),
            line: lineno.parse().ok()?,
            module: module.to_string(),
            function: function.to_string(),
            flags: flags.to_string(),
            format: format.to_string(),
            text: line.to_string(),
        })
    }

    /// Whether the site prints (`p` flag).
    pub fn enabled(&self) -> bool {
        self.flags.contains('p')
    }
}

/// A parsed query (one of the `;`-separated parts of what is written to `control`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// `file GLOB`.
    pub file: Option<String>,
    /// `module GLOB`.
    pub module: Option<String>,
    /// `func GLOB`.
    pub func: Option<String>,
    /// `format TEXT` (substring; a leading `^` anchors it).
    pub format: Option<String>,
    /// `line N`, `line N-M`, `line N-`, `line -M`.
    pub lines: Option<(u32, u32)>,
    /// `class NAME` (not matched here: classes are not listed per site on every kernel).
    pub class: Option<String>,
    /// The flag change (`+p`), if any.
    pub flags: Option<String>,
}

impl Query {
    /// Parses one query. With `need_flags`, a flag change must end it (as the kernel
    /// requires for writes); without, it is optional (for listing).
    pub fn parse(text: &str, need_flags: bool) -> Result<Query> {
        let bad = |why: &str| Error::Invalid {
            what: "dynamic debug query",
            value: text.trim().to_string(),
            why: why.to_string(),
        };
        let mut words = split_words(text).map_err(&bad)?;
        let mut q = Query::default();
        // Keyword/value pairs, then the flag change: an odd word count means flags last
        // (so "line -200" is a range, "line -200 +p" a range and flags).
        if words.len() % 2 == 1 {
            let f = words.pop().unwrap_or_default();
            if !f.starts_with(['+', '-', '=']) {
                return Err(bad(
                    "expected keyword/value pairs (file, module, func, line, format, class) \
                     and a flag change such as +p",
                ));
            }
            if f.len() < 2 && !f.starts_with('=') {
                return Err(bad("a flag change needs flags, e.g. +p"));
            }
            if let Some(c) = f[1..].chars().find(|c| !"pfslmt_".contains(*c)) {
                return Err(bad(&format!(
                    "unknown flag '{c}' (flags are p f s l m t _)"
                )));
            }
            q.flags = Some(f);
        }
        if need_flags && q.flags.is_none() {
            return Err(bad("it must end with a flag change such as +p or -p"));
        }
        for pair in words.chunks(2) {
            let (k, v) = (pair[0].as_str(), pair[1].clone());
            let slot = match k {
                "file" => &mut q.file,
                "module" => &mut q.module,
                "func" => &mut q.func,
                "format" => &mut q.format,
                "class" => &mut q.class,
                "line" => {
                    q.lines = Some(parse_lines(&v).ok_or_else(|| bad("bad line range"))?);
                    continue;
                }
                _ => {
                    return Err(bad(&format!(
                        "unknown keyword '{k}' (use file, module, func, line, format, class)"
                    )))
                }
            };
            if slot.is_some() {
                return Err(bad(&format!("'{k}' given twice")));
            }
            *slot = Some(v);
        }
        Ok(q)
    }

    /// Whether the query selects a site, as lib/dynamic_debug.c `ddebug_change` decides.
    pub fn matches(&self, s: &Site) -> bool {
        if let Some(m) = &self.module {
            if !wildcard(m, &s.module) {
                return false;
            }
        }
        if let Some(f) = &self.file {
            let base = s.file.rsplit('/').next().unwrap_or(&s.file);
            if !wildcard(f, &s.file) && !wildcard(f, base) {
                return false;
            }
        }
        if let Some(f) = &self.func {
            if !wildcard(f, &s.function) {
                return false;
            }
        }
        if let Some(fmt) = &self.format {
            let hay = unescape_format(&s.format);
            let fmt = unescape_format(fmt);
            let found = match fmt.strip_prefix('^') {
                Some(head) => hay.starts_with(head),
                None => hay.contains(&fmt),
            };
            if !found {
                return false;
            }
        }
        if let Some((lo, hi)) = self.lines {
            if s.line < lo || s.line > hi {
                return false;
            }
        }
        true
    }
}

/// The kernel's `match_wildcard`: `*` and `?` only.
fn wildcard(pattern: &str, s: &str) -> bool {
    crate::events::glob_match(&pattern.replace('[', "\\["), s)
}

fn parse_lines(v: &str) -> Option<(u32, u32)> {
    match v.split_once('-') {
        None => {
            let n = v.parse().ok()?;
            Some((n, n))
        }
        Some((a, b)) => {
            let lo = if a.is_empty() { 0 } else { a.parse().ok()? };
            let hi = if b.is_empty() {
                u32::MAX
            } else {
                b.parse().ok()?
            };
            (lo <= hi).then_some((lo, hi))
        }
    }
}

/// Words separated by blanks, with `"..."` or `'...'` quoting (the kernel's
/// `ddebug_tokenize`).
fn split_words(text: &str) -> std::result::Result<Vec<String>, &'static str> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&c) = chars.peek() else { break };
        let mut w = String::new();
        if c == '"' || c == '\'' {
            chars.next();
            loop {
                match chars.next() {
                    Some(x) if x == c => break,
                    Some(x) => w.push(x),
                    None => return Err("unterminated quote"),
                }
            }
        } else {
            while let Some(&x) = chars.peek() {
                if x.is_whitespace() {
                    break;
                }
                w.push(x);
                chars.next();
            }
        }
        out.push(w);
    }
    Ok(out)
}

/// Undoes the escapes the kernel uses when it shows formats (`\012`) and accepts in
/// queries (`\n`, `\t`, `\\`, octal).
fn unescape_format(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            if i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
                let v = b[i + 1..i + 4]
                    .iter()
                    .fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'));
                if let Ok(v) = u8::try_from(v) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
            let esc = match b[i + 1] {
                b'n' => Some(b'\n'),
                b't' => Some(b'\t'),
                b'\\' => Some(b'\\'),
                _ => None,
            };
            if let Some(e) = esc {
                out.push(e);
                i += 2;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The dynamic debug control file.
#[derive(Clone, Debug)]
pub struct DynDebug {
    path: PathBuf,
}

impl DynDebug {
    /// Finds the control file: `/proc/dynamic_debug/control`, else under a mounted debugfs,
    /// else under debugfs mounted at `/sys/kernel/debug`.
    pub fn open() -> Result<DynDebug> {
        let proc = Path::new("/proc/dynamic_debug/control");
        if io::exists(proc) {
            return Ok(DynDebug::at(proc));
        }
        let mounts = io::read(Path::new("/proc/mounts")).unwrap_or_default();
        let debugfs = mounts.lines().find_map(|l| {
            let mut f = l.split_ascii_whitespace();
            let (_, dir, kind) = (f.next(), f.next()?, f.next()?);
            (kind == "debugfs").then(|| PathBuf::from(dir))
        });
        let debugfs = match debugfs {
            Some(d) => d,
            None => {
                let d = PathBuf::from("/sys/kernel/debug");
                // Mounting debugfs is what libtracefs does too; failure only means "missing".
                let _ = nix::mount::mount(
                    Some("nodev"),
                    &d,
                    Some("debugfs"),
                    nix::mount::MsFlags::empty(),
                    None::<&str>,
                );
                d
            }
        };
        let ctl = debugfs.join("dynamic_debug/control");
        if io::exists(&ctl) {
            return Ok(DynDebug::at(&ctl));
        }
        Err(Error::Unsupported {
            feature: "dynamic debug".into(),
            detail: format!(
                "neither /proc/dynamic_debug/control nor {} exists; it needs \
                 CONFIG_DYNAMIC_DEBUG (or CONFIG_DYNAMIC_DEBUG_CORE with dyndbg modules)",
                ctl.display()
            ),
        })
    }

    /// A control file at a known path.
    pub fn at(path: &Path) -> DynDebug {
        DynDebug {
            path: path.to_path_buf(),
        }
    }

    /// The control file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every site.
    pub fn sites(&self) -> Result<Vec<Site>> {
        Ok(io::read(&self.path)?
            .lines()
            .filter_map(Site::parse)
            .collect())
    }

    /// Applies queries (`;` or newline separated); returns how many sites they select.
    /// A query matching nothing is not an error to the kernel, so it is not one here.
    pub fn apply(&self, queries: &str) -> Result<usize> {
        let parsed: Vec<Query> = queries
            .split([';', '\n'])
            .filter(|q| !q.trim().is_empty())
            .map(|q| Query::parse(q, true))
            .collect::<Result<_>>()?;
        if parsed.is_empty() {
            return Err(Error::Invalid {
                what: "dynamic debug query",
                value: queries.to_string(),
                why: "empty".into(),
            });
        }
        let sites = self.sites()?;
        let n = sites
            .iter()
            .filter(|s| parsed.iter().any(|q| q.matches(s)))
            .count();
        io::write(&self.path, queries, Mode::Truncate, None)?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINES: &str = r#"# filename:lineno [module]function flags format
init/main.c:1179 [main]initcall_blacklist =_ "blacklisting initcall %s\012"
kernel/cpu.c:1234 [cpu]cpuhp_invoke =p "CPU %u state %s\012"
fs/xfs/xfs_log.c:99 [xfs]xlog_x =pmf "xfs thing %d\012" class:XFS_DBG
"#;

    fn sites() -> Vec<Site> {
        LINES.lines().filter_map(Site::parse).collect()
    }

    #[test]
    fn sites_parse() {
        let s = sites();
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].file, "init/main.c");
        assert_eq!(s[0].line, 1179);
        assert_eq!(s[0].module, "main");
        assert_eq!(s[0].function, "initcall_blacklist");
        assert_eq!(s[0].flags, "_");
        assert_eq!(s[0].format, "blacklisting initcall %s\\012");
        assert!(s[1].enabled());
        assert_eq!(s[2].format, "xfs thing %d\\012");
    }

    #[test]
    fn queries_match_as_the_kernel_does() {
        let s = sites();
        let count = |q: &str| {
            let q = Query::parse(q, false).unwrap();
            s.iter().filter(|x| q.matches(x)).count()
        };
        assert_eq!(count("module xfs +p"), 1);
        assert_eq!(count("file cpu.c"), 1);
        assert_eq!(count("file kernel/*"), 1);
        assert_eq!(count("func *_*"), 3);
        assert_eq!(count("line 1000-1200"), 1);
        assert_eq!(count("line -200"), 1);
        assert_eq!(count("format 'initcall %s\n'"), 1);
        assert_eq!(count(r"format 'initcall %s\n'"), 1);
        assert_eq!(count("format ^xfs"), 1);
        assert_eq!(count(""), 3);
    }

    #[test]
    fn bad_queries_say_why() {
        assert!(Query::parse("module xfs", true).is_err());
        assert!(Query::parse("modul xfs +p", true).is_err());
        assert!(Query::parse("module +p", true).is_err());
        assert!(Query::parse("module xfs +q", true).is_err());
        assert!(Query::parse("format \"abc +p", true).is_err());
        assert!(Query::parse("line 5-2 +p", true).is_err());
        assert_eq!(
            Query::parse("func 'a b' =_", true).unwrap().func.as_deref(),
            Some("a b")
        );
    }
}
