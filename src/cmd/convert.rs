//! `rtrace-cmd convert`: trace-cmd's convert (tracecmd/trace-convert.c): `-i` input (default
//! trace.dat), `-o` output or the first argument, `--file-version 6|7` (default 7),
//! `--compression any|none|zstd|zlib` (default any = zstd for version 7; version 6 is never
//! compressed, and a compression asked for with version 6 makes it 7, as in trace-cmd).
//! Progress goes to stderr in trace-cmd's words.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use tracedat::cnum;
use tracedat::file::compress::Codec;
use tracedat::write::convert::{self, InputFile, Target};
use tracedat::write::FileVersion;
use tracedat::TraceFile;

use crate::cli::ConvertArgs;

/// Prints a usage error the way the other subcommands do and returns status 2.
fn usage(msg: &str) -> anyhow::Result<ExitCode> {
    eprintln!("rtrace-cmd convert: {msg}");
    eprintln!("Usage: rtrace-cmd convert [-i INPUT] [-o OUTPUT | OUTPUT] [--file-version 6|7] [--compression any|none|zstd|zlib]");
    Ok(ExitCode::from(2))
}

/// The output format from `--file-version` and `--compression`, with trace-cmd's defaults and
/// messages (shared with `record` and `extract`): version 7 and zstd ("any") by default;
/// version 6 is never compressed, and a compression asked for with it makes the file
/// version 7 (trace-cmd's `tracecmd_output_set_compression`).
pub fn output_format(
    file_version: Option<&str>,
    compression: Option<&str>,
) -> anyhow::Result<(FileVersion, Option<Codec>)> {
    let mut version = FileVersion::V7;
    if let Some(v) = file_version {
        version = match cnum::atoi(v.as_bytes()) {
            6 => FileVersion::V6,
            7 => FileVersion::V7,
            n => bail!("Unsupported file version {n}, supported versions are from 6 to 7"),
        };
    }
    let compression = match compression {
        None if version == FileVersion::V7 => Some(Codec::Zstd),
        None | Some("none") => None,
        Some("any") | Some("zstd") => Some(Codec::Zstd),
        Some("zlib") => Some(Codec::Zlib),
        Some(other) => bail!("Compression algorithm  {other} is not supported"),
    };
    if compression.is_some() {
        version = FileVersion::V7;
    }
    Ok((version, compression))
}

pub fn run(args: ConvertArgs) -> anyhow::Result<ExitCode> {
    if args.input.len() > 1 {
        bail!(
            "Only one input file is supported, {} already set",
            args.input[0]
        );
    }
    if args.output.len() > 1 {
        bail!(
            "Only one output file is supported, {} already set",
            args.output[0]
        );
    }
    let (version, compression) =
        output_format(args.file_version.as_deref(), args.compression.as_deref())?;
    let output = match (args.output.first(), args.files.first()) {
        (Some(_), Some(_)) => {
            return usage("the output file is given both with -o and as an argument")
        }
        (Some(o), None) | (None, Some(o)) => o.clone(),
        (None, None) => return usage("an output file is mandatory (-o FILE or the last argument)"),
    };
    let input = args
        .input
        .first()
        .cloned()
        .unwrap_or_else(|| "trace.dat".to_string());

    let f = File::open(&input).with_context(|| format!("error reading {input}"))?;
    // SAFETY: read-only map of a file nothing here writes; see report.rs.
    let map =
        unsafe { memmap2::Mmap::map(&f) }.with_context(|| format!("error reading {input}"))?;
    let file = TraceFile::parse(&map).with_context(|| format!("error reading {input}"))?;
    let target = Target {
        version,
        compression,
    };
    let open = InputFile {
        file: &f,
        name: &input,
    };
    let cancel = crate::signals::interrupt_flag();
    let report = match convert::convert(&file, Some(open), Path::new(&output), target, Some(cancel))
    {
        Ok(r) => r,
        Err(convert::Error::Write(e @ tracedat::write::Error::Interrupted { .. })) => {
            eprintln!("rtrace-cmd: {e}");
            return Ok(ExitCode::from(
                crate::signals::interrupted_status().unwrap_or(1),
            ));
        }
        Err(convert::Error::Read(e)) => {
            return Err(e).with_context(|| format!("error reading {input}"));
        }
        Err(convert::Error::Write(e)) => return Err(e).context(format!("error writing {output}")),
    };
    let stderr = io::stderr();
    let mut err = stderr.lock();
    for w in &report.warnings {
        let _ = writeln!(err, "rtrace-cmd: {input}: {w}");
    }
    for (name, cpus) in &report.buffers {
        if !name.is_empty() {
            let _ = write!(err, "\nBuffer: {name}\n\n");
        }
        for c in cpus {
            let _ = writeln!(err, "CPU{} data recorded at offset={:#x}", c.cpu, c.offset);
            if compression.is_some() {
                let _ = writeln!(
                    err,
                    "    {} bytes in size ({} uncompressed)",
                    c.size, c.uncompressed
                );
            } else {
                let _ = writeln!(err, "    {} bytes in size", c.size);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
