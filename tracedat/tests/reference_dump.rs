//! Metadata, options and buffers of every real file compared with what `trace-cmd dump`
//! prints (`--summary`, `--options`, `--flyrecord`, `--clock`), from trace-cmd 3.3.1 (3.1.6
//! when it is the only reference).

mod common;

use std::path::Path;

use common::*;
use regex::Regex;
use tracedat::file::options::id;
use tracedat::file::OptionValue;
use tracedat::{BufferData, TraceFile};

/// The name `trace-cmd dump` prints for an option id.
fn dump_name(i: u16) -> String {
    match i {
        id::DATE => "DATE",
        id::CPUSTAT => "CPUSTAT",
        id::BUFFER | id::BUFFER_TEXT => "BUFFER",
        id::TRACECLOCK => "TRACECLOCK",
        id::UNAME => "UNAME",
        id::HOOK => "HOOK",
        id::OFFSET => "OFFSET",
        id::CPUCOUNT => "CPUCOUNT",
        id::VERSION => "VERSION",
        id::PROCMAPS => "PROCMAPS",
        id::TRACEID => "TRACEID",
        id::TIME_SHIFT => "TimeShift",
        id::GUEST => "GUEST",
        id::TSC2NSEC => "TSC2NSEC",
        id::HEADER_INFO => "HEADERS",
        id::FTRACE_EVENTS => "FTRACE EVENTS",
        id::EVENT_FORMATS => "EVENT FORMATS",
        id::KALLSYMS => "KALLSYMS",
        id::PRINTK => "PRINTK",
        id::CMDLINES => "CMDLINES",
        _ => return format!("UNKNOWN {i}"),
    }
    .to_string()
}

fn check_file(r: &Reference, path: &Path) -> Result<bool, String> {
    let p = path.to_str().unwrap();
    let (summary, _, _) = r.run(&["dump", "--summary", "-i", p]);
    let summary = String::from_utf8_lossy(&summary).into_owned();
    if !summary.contains("[Initial format]") {
        return Ok(false);
    }
    let m = map(path);
    let f = TraceFile::parse(&m).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut errs = Vec::new();
    let mut check = |what: &str, want: String, got: String| {
        if want != got {
            errs.push(format!(
                "{}: {what}: dump says {want:?}, ours {got:?}",
                path.display()
            ));
        }
    };
    let cap = |re: &str| -> Option<String> {
        Regex::new(re)
            .unwrap()
            .captures(&summary)
            .map(|c| c[1].to_string())
    };
    let h = f.header();
    check(
        "version",
        cap(r"\t\t(\d+)\t\[Version\]").unwrap_or_default(),
        h.version.to_string(),
    );
    check(
        "long size",
        cap(r"\t\t(\d+)\t\[Bytes in a long\]").unwrap_or_default(),
        h.long_size.to_string(),
    );
    check(
        "page size",
        cap(r"\t\t(\d+)\t\[Page size, bytes\]").unwrap_or_default(),
        h.page_size.to_string(),
    );
    if let Some(c) = cap(r"\t\t(\S+)\t\[Compression algorithm\]") {
        check(
            "compression",
            c,
            h.compression.clone().unwrap_or_default().0,
        );
    }
    // Metadata pieces (the dump stops at the first it cannot read; compare what it shows).
    type Size<'s> = Box<dyn Fn() -> Option<String> + 's>;
    let sizes: [(&str, Size); 7] = [
        (
            r"\[Header page, (\d+) bytes\]",
            Box::new(|| f.header_page_text().ok().map(|b| b.len().to_string())),
        ),
        (
            r"\[Header event, (\d+) bytes\]",
            Box::new(|| f.header_event_text().ok().map(|b| b.len().to_string())),
        ),
        (
            r"\[Ftrace format, (\d+) events\]",
            Box::new(|| f.ftrace_formats().ok().map(|v| v.len().to_string())),
        ),
        (
            r"\[Events format, (\d+) systems\]",
            Box::new(|| f.event_systems().ok().map(|v| v.len().to_string())),
        ),
        (
            r"\[Kallsyms, (\d+) bytes\]",
            Box::new(|| f.kallsyms().ok().map(|b| b.len().to_string())),
        ),
        (
            r"\[Trace printk, (\d+) bytes\]",
            Box::new(|| f.printk_formats().ok().map(|b| b.len().to_string())),
        ),
        (
            r"\[Saved command lines, (\d+) bytes\]",
            Box::new(|| f.cmdlines().ok().map(|b| b.len().to_string())),
        ),
    ];
    for (re, ours) in sizes.iter() {
        if let Some(want) = cap(re) {
            check(re, want, ours().unwrap_or_else(|| "error".into()));
        }
    }
    if !h.sectioned() {
        if let Some(n) = cap(r"\t(\d+) \[CPUs with tracing data\]") {
            check("v6 CPU count", n, f.option_cpus().to_string());
        }
    } else if let Some(n) = cap(r"\[(\d+) sections\]") {
        check("sections", n, f.sections().len().to_string());
    }
    // v7 buffers: [buffer "NAME", "CLOCK" clock, PS page size, N cpus, B bytes flyrecord data]
    let bre = Regex::new(
        r#"\[buffer "([^"]*)", "([^"]*)" clock, (\d+) page size, (\d+) cpus, (\d+) bytes flyrecord data\]"#,
    )
    .unwrap();
    let dumped: Vec<(String, String, u32, usize, u64)> = bre
        .captures_iter(&summary)
        .map(|c| {
            (
                c[1].to_string(),
                c[2].to_string(),
                c[3].parse().unwrap(),
                c[4].parse().unwrap(),
                c[5].parse().unwrap(),
            )
        })
        .collect();
    if h.sectioned() {
        let ours: Vec<(String, String, u32, usize, u64)> = f
            .options()
            .iter()
            .filter_map(|o| match &o.value {
                OptionValue::Buffer(b) => Some((
                    b.name.clone(),
                    b.clock.clone().unwrap_or_default(),
                    b.page_size.unwrap_or(0),
                    b.cpus.len(),
                    b.cpus.iter().map(|c| c.size).sum(),
                )),
                _ => None,
            })
            .collect();
        check("buffers", format!("{dumped:?}"), format!("{ours:?}"));
    }

    // Options: names and sizes in order, section locator offsets, BUFFER contents.
    let (opts, _, _) = r.run(&["dump", "--options", "-i", p]);
    let opts = String::from_utf8_lossy(&opts).into_owned();
    let ore = Regex::new(
        r"(?m)^\t\t\[Option ([^,]+), (\d+) bytes\](?: @ (\d+))?$|^ (\d+) (\d+)\t\[Unknown option",
    )
    .unwrap();
    let mut want = Vec::new();
    for c in ore.captures_iter(&opts) {
        if let Some(n) = c.get(1) {
            if n.as_str() == "DONE" {
                continue;
            }
            want.push(format!(
                "{} {} {}",
                n.as_str(),
                &c[2],
                c.get(3).map_or("", |m| m.as_str())
            ));
        } else {
            want.push(format!("UNKNOWN {} {} ", &c[4], &c[5]));
        }
    }
    let got: Vec<String> = f
        .options()
        .iter()
        .map(|o| {
            let at = match o.value {
                OptionValue::Section { offset } if o.id != id::STRINGS => offset.to_string(),
                _ => String::new(),
            };
            format!("{} {} {}", dump_name(o.id), o.data.len(), at)
        })
        .collect();
    // The dump stops where it cannot go on (e.g. CPU data past EOF): compare its prefix.
    let n = want.len().min(got.len());
    check("options", want.join("\n"), got[..n].join("\n"));
    check(
        "option count (at least the dump's)",
        "true".into(),
        (want.len() <= got.len()).to_string(),
    );
    let cre = Regex::new(r"(?m)^\s+(\d+) (\d+)\t(\d+)\t\[id, data offset and size\]$").unwrap();
    let dumped_cpus: Vec<String> = cre
        .captures_iter(&opts)
        .map(|c| format!("{} {} {}", &c[1], &c[2], &c[3]))
        .collect();
    let our_cpus: Vec<String> = f
        .options()
        .iter()
        .flat_map(|o| match &o.value {
            OptionValue::Buffer(b) => b.cpus.clone(),
            _ => Vec::new(),
        })
        .map(|c| format!("{} {} {}", c.cpu, c.offset, c.size))
        .collect();
    check(
        "BUFFER CPU lists",
        dumped_cpus.join(","),
        our_cpus.join(","),
    );

    // v6 flyrecord table.
    if !h.sectioned() {
        let (fly, _, _) = r.run(&["dump", "--flyrecord", "-i", p]);
        let fly = String::from_utf8_lossy(&fly).into_owned();
        let fre = Regex::new(r"(?m)^\s+(\d+)\s+(\d+)\t\[offset, size of cpu (\d+)\]$").unwrap();
        let want: Vec<String> = fre
            .captures_iter(&fly)
            .map(|c| format!("{} {} {}", &c[3], &c[1], &c[2]))
            .collect();
        if !want.is_empty() {
            let got: Vec<String> = match &f.top().data {
                // The dump lists only CPUs with data.
                BufferData::Flyrecord { cpus, .. } => cpus
                    .iter()
                    .filter(|c| c.size > 0)
                    .map(|c| format!("{} {} {}", c.cpu, c.offset, c.size))
                    .collect(),
                d => vec![format!("{d:?}")],
            };
            check("v6 flyrecord table", want.join(","), got.join(","));
        }
    }

    // Trace clock text.
    let (clock, _, _) = r.run(&["dump", "--clock", "-i", p]);
    let clock = String::from_utf8_lossy(&clock).into_owned();
    if h.sectioned() {
        let ours = f
            .options()
            .iter()
            .rev()
            .find(|o| o.id == id::TRACECLOCK)
            .map(|o| o.text().into_owned());
        if let Some(c) = ours {
            check(
                "clock text",
                clock.trim_end().to_string(),
                c.trim_end().to_string(),
            );
        }
    } else if let Some(Ok(text)) = f.v6_clock_text() {
        let body = clock
            .lines()
            .skip_while(|l| l.trim() != "[Tracing clock]")
            .nth(1)
            .unwrap_or("")
            .trim()
            .to_string();
        check(
            "v6 clock blob",
            body,
            String::from_utf8_lossy(text).trim().to_string(),
        );
    }
    if errs.is_empty() {
        Ok(true)
    } else {
        Err(errs.join("\n"))
    }
}

#[test]
fn metadata_and_options_match_trace_cmd_dump() {
    let refs = references();
    let Some(r) = refs
        .iter()
        .find(|r| r.name == "3.3.1")
        .or(refs.first())
        .cloned()
    else {
        return;
    };
    let mut files = real_files();
    if files.is_empty() {
        skip("no real trace files found (../shared/fixtures)");
        return;
    }
    files.extend(conversions(&refs));
    let mut failures = Vec::new();
    let mut checked = 0;
    for f in &files {
        match check_file(&r, f) {
            Ok(true) => checked += 1,
            Ok(false) => eprintln!("  {} cannot dump {}", r.name, f.display()),
            Err(e) => failures.push(e),
        }
    }
    eprintln!(
        "checked {checked} of {} files against {} dump",
        files.len(),
        r.name
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 0);
}
