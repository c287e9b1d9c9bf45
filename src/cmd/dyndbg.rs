//! `dyndbg`: the kernel's dynamic debug control (Documentation/admin-guide/
//! dynamic-debug-howto.rst). Queries are applied as written; the number of call sites each
//! selects is reported (the kernel itself says nothing), and a query that selects none is an
//! error naming the closest modules. `-l` lists call sites with their flags.

use std::io::Write as _;
use std::process::ExitCode;

use tracefs::dyndbg::{DynDebug, Query, Site};
use tracefs::suggest;

use crate::cli::DyndbgArgs;

pub fn run(args: &DyndbgArgs) -> anyhow::Result<ExitCode> {
    let dd = DynDebug::open()?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for q in &args.queries {
        let n = dd.apply(q)?;
        if n == 0 {
            let sites = dd.sites()?;
            anyhow::bail!("no call site matches '{}'{}", q.trim(), hint(q, &sites));
        }
        writeln!(
            out,
            "{n} call site{} matched '{}'",
            if n == 1 { "" } else { "s" },
            q.trim()
        )?;
    }
    if let Some(pattern) = &args.list {
        let sites = dd.sites()?;
        let pattern = pattern.as_deref().unwrap_or("").trim();
        let words = pattern.split_ascii_whitespace().count();
        let matcher: Box<dyn Fn(&Site) -> bool> = if words == 1 {
            // A bare word: found in the module, the file or the function.
            let w = pattern.to_string();
            Box::new(move |s: &Site| {
                s.module.contains(&w) || s.file.contains(&w) || s.function.contains(&w)
            })
        } else {
            let q = Query::parse(pattern, false)?;
            Box::new(move |s: &Site| q.matches(s))
        };
        for s in sites.iter().filter(|s| matcher(s)) {
            writeln!(out, "{}", s.text)?;
        }
    }
    if args.queries.is_empty() && args.list.is_none() {
        anyhow::bail!("nothing to do: give a query (e.g. 'module xfs +p') or -l");
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Suggests the closest module, file or function for the query's value.
fn hint(q: &str, sites: &[Site]) -> String {
    let Ok(parsed) = Query::parse(q, false) else {
        return String::new();
    };
    let (what, want, names): (&str, &str, Vec<&str>) = if let Some(m) = &parsed.module {
        (
            "module",
            m,
            sites.iter().map(|s| s.module.as_str()).collect(),
        )
    } else if let Some(f) = &parsed.func {
        (
            "func",
            f,
            sites.iter().map(|s| s.function.as_str()).collect(),
        )
    } else if let Some(f) = &parsed.file {
        (
            "file",
            f,
            sites
                .iter()
                .map(|s| s.file.rsplit('/').next().unwrap_or(&s.file))
                .collect(),
        )
    } else {
        return String::new();
    };
    let mut names = names;
    names.sort_unstable();
    names.dedup();
    let close = suggest::closest(want, names, 3);
    match close.len() {
        0 => String::new(),
        _ => format!(
            "; did you mean {}?",
            close
                .iter()
                .map(|c| format!("{what} {c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
