//! The writer against the reader: every layout it writes reads back as what was written, and
//! misuse, bad sources and failed writes are errors that leave no file behind.

use std::fs::{self, File};
use std::io::{Cursor as IoCursor, Write as _};
use std::path::{Path, PathBuf};

use super::*;
use crate::file::options::OptionValue;
use crate::file::{BufferData, TraceFile};
use crate::{Input, Merge, TimeConfig};

const HEADER_PAGE: &[u8] = b"\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n\
\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n\
\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n\
\tfield: char data;\toffset:16;\tsize:4080;\tsigned:1;\n";

const FTRACE_FMT: &[u8] = b"name: function\nID: 1\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n";

/// A scratch directory per test.
fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rtrace-write-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// One page with `n` 4-byte events (type_len 1), timestamps `ts + 1`, `ts + 2`, ...
fn page(e: Endian, ps: usize, ts: u64, n: usize) -> Vec<u8> {
    let mut p = vec![0u8; ps];
    p[..8].copy_from_slice(&e.bytes64(ts));
    p[8..16].copy_from_slice(&e.bytes64((n * 8) as u64));
    for i in 0..n {
        let w: u32 = match e {
            Endian::Little => 1 | (1 << 5),
            Endian::Big => (1 << 27) | 1,
        };
        p[16 + 8 * i..20 + 8 * i].copy_from_slice(&e.bytes32(w));
        p[20 + 8 * i..24 + 8 * i].copy_from_slice(&(i as u32).to_le_bytes());
    }
    p
}

/// `pages` pages of data for one CPU.
fn cpu_data(e: Endian, ps: usize, base: u64, pages: usize) -> Vec<u8> {
    (0..pages)
        .flat_map(|i| page(e, ps, base + 1000 * i as u64, 1 + i % 7))
        .collect()
}

fn records(f: &TraceFile<'_>) -> Vec<(u32, u64, Vec<u8>)> {
    let t = TimeConfig::default();
    let mut m = Merge::for_report(&[Input { file: f, time: &t }], false, |_| true).unwrap();
    let mut v = Vec::new();
    while let Some((i, r)) = m.peek() {
        v.push((r.cpu, r.ts, r.data.to_vec()));
        m.consume(i);
    }
    v
}

fn all_configs() -> Vec<(FileVersion, Option<Codec>, Endian)> {
    let mut v = Vec::new();
    for e in [Endian::Little, Endian::Big] {
        v.push((FileVersion::V6, None, e));
        v.push((FileVersion::V7, None, e));
        v.push((FileVersion::V7, Some(Codec::Zstd), e));
        v.push((FileVersion::V7, Some(Codec::Zlib), e));
    }
    v
}

fn config(version: FileVersion, codec: Option<Codec>, e: Endian, cpus: u32) -> Config {
    Config {
        version,
        compression: codec,
        endian: e,
        long_size: 8,
        page_size: 4096,
        cpus,
        instances: vec!["inst".into()],
    }
}

fn metadata(w: &mut Writer, cmdlines: bool) {
    w.header_info(HEADER_PAGE, b"# compressed entry header\n")
        .unwrap();
    w.ftrace_events(&[FTRACE_FMT, FTRACE_FMT]).unwrap();
    let sys = [EventSystem {
        name: b"sched",
        formats: vec![b"name: a\nID: 7\n".as_slice()],
    }];
    w.event_systems(&sys).unwrap();
    w.kallsyms(b"ffffffff81000000 T _stext\n").unwrap();
    w.printk_formats(b"0xffffffff81000000 : \"hi\\n\"\n")
        .unwrap();
    if cmdlines {
        w.cmdlines(b"1 init\n").unwrap();
    }
}

/// Every version, compression and byte order: metadata, options, the top buffer (with an
/// empty CPU and data from bytes, a file and a reader) and an instance read back unchanged.
#[test]
fn every_layout_reads_back() {
    let dir = tmpdir("layouts");
    for (version, codec, e) in all_configs() {
        let path = dir.join(format!("{version:?}-{codec:?}-{e:?}.dat"));
        let d0 = cpu_data(e, 4096, 100, 23); // more than two 10-page chunks
        let d2 = cpu_data(e, 4096, 150, 3);
        let d3 = cpu_data(e, 4096, 170, 12);
        let spool = dir.join("spool");
        let inst = cpu_data(e, 4096, 120, 2);
        // The instance's CPU 1 comes in two pieces of the spool, with a gap between them.
        let inst_at = (100 + d2.len()) as u64;
        {
            let mut f = File::create(&spool).unwrap();
            f.write_all(&[0xee; 100]).unwrap();
            f.write_all(&d2).unwrap();
            f.write_all(&inst[..4096]).unwrap();
            f.write_all(&[0xdd; 50]).unwrap();
            f.write_all(&inst[4096..]).unwrap();
        }
        let spool_f = File::open(&spool).unwrap();
        let mut w = Writer::create(&path, config(version, codec, e, 4)).unwrap();
        assert!(!path.exists(), "the name appears only when finished");
        assert!(w.temp_path().exists());
        let late = version == FileVersion::V7;
        metadata(&mut w, !late);
        w.add_option(TraceOption::TraceClock(b"[local] global counter\n"))
            .unwrap();
        w.add_option(TraceOption::Uname("Linux h 6.1 x86_64"))
            .unwrap();
        w.add_option(TraceOption::CpuStat {
            cpu: 0,
            stats: b"entries: 5\n",
        })
        .unwrap();
        w.add_option(TraceOption::BufferStats { name: "inst" })
            .unwrap();
        w.add_option(TraceOption::TraceId(0x1122334455667788))
            .unwrap();
        w.add_option(TraceOption::Date { usecs: -5 }).unwrap();
        w.add_option(TraceOption::Tsc2Nsec {
            mult: 3,
            shift: 1,
            offset: 9,
        })
        .unwrap();
        let top = BufferSpec {
            name: "",
            clock: "local",
            page_size: 4096,
        };
        let written = w
            .write_buffer(
                top,
                vec![
                    CpuSource::Bytes(&d0),
                    CpuSource::Empty,
                    CpuSource::File {
                        file: &spool_f,
                        offset: 100,
                        len: d2.len() as u64,
                        name: "spool",
                    },
                    CpuSource::Reader {
                        reader: Box::new(IoCursor::new(d3.clone())),
                        name: "reader".into(),
                    },
                ],
            )
            .unwrap();
        assert_eq!(written.len(), 4);
        for wr in &written {
            assert_eq!(wr.offset % 4096, 0, "{wr:?}");
        }
        assert_eq!(written[1].size, 0);
        assert_eq!(written[0].uncompressed, d0.len() as u64);
        let iw = w
            .write_buffer(
                BufferSpec {
                    name: "inst",
                    clock: "mono",
                    page_size: 4096,
                },
                vec![
                    CpuSource::Empty,
                    CpuSource::Parts(vec![
                        FilePart {
                            file: &spool_f,
                            offset: inst_at,
                            len: 4096,
                            name: "spool, older part",
                        },
                        FilePart {
                            file: &spool_f,
                            offset: inst_at + 4096 + 50,
                            len: (inst.len() - 4096) as u64,
                            name: "spool, newer part",
                        },
                    ]),
                ],
            )
            .unwrap();
        assert_eq!(iw[1].uncompressed, inst.len() as u64);
        if late {
            w.cmdlines(b"1 init\n").unwrap();
            w.add_option(TraceOption::Hook("late option")).unwrap();
        }
        let out = w.finish().unwrap();
        assert_eq!(out, path);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let leftovers: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(&name) && n != &name)
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");

        let bytes = fs::read(&path).unwrap();
        let f = TraceFile::parse(&bytes).unwrap();
        let ctx = format!("{version:?} {codec:?} {e:?}");
        assert_eq!(f.header().version, if late { 7 } else { 6 }, "{ctx}");
        assert_eq!(f.endian(), e);
        assert_eq!(f.header().codec, codec, "{ctx}");
        assert_eq!(f.header_page_text().unwrap(), HEADER_PAGE);
        assert_eq!(
            f.header_event_text().unwrap(),
            b"# compressed entry header\n"
        );
        assert_eq!(f.ftrace_formats().unwrap(), vec![FTRACE_FMT, FTRACE_FMT]);
        let sys = f.event_systems().unwrap();
        assert_eq!(sys.len(), 1);
        assert_eq!(sys[0].name, b"sched");
        assert_eq!(f.kallsyms().unwrap(), b"ffffffff81000000 T _stext\n");
        assert_eq!(f.cmdlines().unwrap(), b"1 init\n", "{ctx}");
        assert_eq!(f.cpus(), 4, "{ctx}");
        assert_eq!(f.uname(), Some("Linux h 6.1 x86_64"));
        assert_eq!(f.trace_id(), Some(0x1122334455667788), "{ctx}");
        assert_eq!(f.tsc2nsec(), Some((3, 1, 9)), "{ctx}");
        assert!(f.warnings().is_empty(), "{ctx}: {:?}", f.warnings());
        let stats = f.cpustats().unwrap();
        assert_eq!(stats, b"CPU: 0\nentries: 5\n\n\nBuffer: inst\n\n\n");
        assert!(f
            .options()
            .iter()
            .any(|o| matches!(o.value, OptionValue::Date { usecs: -5 })));
        if late {
            assert_eq!(f.hooks(), vec!["late option"]);
            let descs: Vec<&str> = f
                .sections()
                .iter()
                .filter_map(|s| f.section_description(s))
                .collect();
            assert!(descs.contains(&"buffer flyrecord inst"), "{descs:?}");
            assert!(descs.contains(&"strings"), "{descs:?}");
        }
        assert_eq!(f.buffers().len(), 2, "{ctx}");
        let top = f.top();
        match &top.data {
            BufferData::Flyrecord { cpus, compressed } => {
                assert_eq!(*compressed, codec.is_some());
                let ids: Vec<u32> = cpus.iter().filter(|c| c.size > 0).map(|c| c.cpu).collect();
                assert_eq!(ids, vec![0, 2, 3], "{ctx}");
                if version == FileVersion::V7 {
                    assert_eq!(cpus.len(), 3, "{ctx}: v7 lists only CPUs with data");
                }
            }
            d => panic!("{ctx}: {d:?}"),
        }
        assert_eq!(f.buffers()[1].name, "inst");
        if late {
            assert_eq!(f.buffers()[1].clock.as_deref(), Some("mono"));
        }
        // The records: those of each CPU's pages, merged.
        let got = records(&f);
        let want_pages = [&d0, &d2, &d3, &inst]
            .iter()
            .map(|d| d.len() / 4096)
            .sum::<usize>();
        let want_events: usize = [(23usize), 3, 12, 2]
            .iter()
            .map(|&n| (0..n).map(|i| 1 + i % 7).sum::<usize>())
            .sum();
        assert_eq!(got.len(), want_events, "{ctx} ({want_pages} pages)");
        let mut per_cpu = [0usize; 4];
        for r in &got {
            per_cpu[r.0 as usize] += 1;
        }
        assert_eq!(
            per_cpu[1], 3,
            "{ctx}: CPU 1 holds the instance's events only"
        );
    }
    let _ = fs::remove_dir_all(&dir);
}

/// Compressed per-CPU data is trace-cmd's chunk layout: u32 count, then 10-page chunks
/// `{csize, usize, bytes}`, the last one shorter; the size stored covers the count and chunks.
#[test]
fn chunk_layout() {
    let dir = tmpdir("chunks");
    for e in [Endian::Little, Endian::Big] {
        let path = dir.join("c.dat");
        let d = cpu_data(e, 8192, 1, 25);
        let mut cfg = config(FileVersion::V7, Some(Codec::Zstd), e, 1);
        cfg.page_size = 8192;
        let mut w = Writer::create(&path, cfg).unwrap();
        let wr = w
            .write_buffer(
                BufferSpec {
                    name: "",
                    clock: "local",
                    page_size: 8192,
                },
                vec![CpuSource::Bytes(&d)],
            )
            .unwrap();
        w.finish().unwrap();
        let b = fs::read(&path).unwrap();
        let at = wr[0].offset as usize;
        assert_eq!(at % 8192, 0);
        assert_eq!(e.u32(&b, at), Some(3));
        let mut p = at + 4;
        let mut sizes = Vec::new();
        for _ in 0..3 {
            let cs = e.u32(&b, p).unwrap() as usize;
            sizes.push(e.u32(&b, p + 4).unwrap());
            p += 8 + cs;
        }
        assert_eq!(sizes, vec![81920, 81920, 5 * 8192]);
        assert_eq!(wr[0].size, (p - at) as u64);
        let f = TraceFile::parse(&b).unwrap();
        assert_eq!(f.top().cpus()[0].size, wr[0].size);
        assert_eq!(f.top().page_size, 8192);
    }
    let _ = fs::remove_dir_all(&dir);
}

/// Nothing but the required calls: a file every reader opens (v6 pieces written empty).
#[test]
fn minimal_files() {
    let dir = tmpdir("minimal");
    for (version, codec, e) in all_configs() {
        let path = dir.join("m.dat");
        let w = Writer::create(&path, config(version, codec, e, 2)).unwrap();
        w.finish().unwrap();
        let b = fs::read(&path).unwrap();
        let f = TraceFile::parse(&b).unwrap();
        assert!(f.top().cpus().iter().all(|c| c.size == 0));
        assert_eq!(f.cpus(), 2);
        assert_eq!(f.kallsyms().unwrap(), b"");
        if version == FileVersion::V6 {
            assert_eq!(
                f.buffers().len(),
                2,
                "the declared instance is there, empty"
            );
            // Padding after the last flyrecord table (trace-cmd's dump reads a tag there).
            assert_eq!(b.len() % 4096, 0);
        }
    }
    let _ = fs::remove_dir_all(&dir);
}

/// Latency text: v6 after the `latency  ` tag, v7 as the last section (to end of file).
#[test]
fn latency_text() {
    let dir = tmpdir("latency");
    let text: Vec<u8> = (0..20000)
        .flat_map(|i| format!("line {i}\n").into_bytes())
        .collect();
    for (version, codec, e) in all_configs() {
        let path = dir.join("l.dat");
        let mut cfg = config(version, codec, e, 2);
        cfg.instances.clear();
        let mut w = Writer::create(&path, cfg).unwrap();
        metadata(&mut w, true);
        w.write_latency("", "local", CpuSource::Bytes(&text))
            .unwrap();
        assert!(w.cmdlines(b"x").is_err());
        assert!(w.add_option(TraceOption::Hook("x")).is_err());
        assert!(w
            .write_buffer(
                BufferSpec {
                    name: "",
                    clock: "local",
                    page_size: 4096
                },
                Vec::new()
            )
            .is_err());
        w.finish().unwrap();
        let b = fs::read(&path).unwrap();
        let f = TraceFile::parse(&b).unwrap();
        let got: Vec<u8> = f.latency_blocks(0).unwrap().concat();
        assert_eq!(got, text, "{version:?} {codec:?}");
        if version == FileVersion::V7 {
            let descs: Vec<&str> = f
                .sections()
                .iter()
                .filter_map(|s| f.section_description(s))
                .collect();
            assert!(descs.contains(&"buffer latency"), "{descs:?}");
        }
    }
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn misuse_is_refused() {
    let dir = tmpdir("misuse");
    let p = dir.join("x.dat");
    let e = Endian::Little;
    let mut cfg = config(FileVersion::V6, Some(Codec::Zstd), e, 2);
    assert!(matches!(
        Writer::create(&p, cfg.clone()),
        Err(Error::Usage(_))
    ));
    cfg.compression = None;
    // v6: pieces in order only; options only before data; instances declared; top first.
    let mut w = Writer::create(&p, cfg.clone()).unwrap();
    w.kallsyms(b"").unwrap();
    assert!(matches!(w.header_info(b"", b""), Err(Error::Usage(_))));
    assert!(matches!(w.kallsyms(b""), Err(Error::Usage(_))));
    let top = BufferSpec {
        name: "",
        clock: "local",
        page_size: 4096,
    };
    let other = BufferSpec {
        name: "other",
        clock: "local",
        page_size: 4096,
    };
    let inst = BufferSpec {
        name: "inst",
        clock: "local",
        page_size: 4096,
    };
    assert!(matches!(
        w.write_buffer(inst, Vec::new()),
        Err(Error::Usage(_))
    ));
    assert!(matches!(
        w.write_buffer(
            BufferSpec {
                page_size: 8192,
                ..top
            },
            Vec::new()
        ),
        Err(Error::Usage(_))
    ));
    let three = || vec![CpuSource::Empty, CpuSource::Empty, CpuSource::Empty];
    assert!(matches!(w.write_buffer(top, three()), Err(Error::Usage(_))));
    w.write_buffer(top, Vec::new()).unwrap();
    assert!(matches!(
        w.write_buffer(top, Vec::new()),
        Err(Error::Usage(_))
    ));
    assert!(matches!(
        w.write_buffer(other, Vec::new()),
        Err(Error::Usage(_))
    ));
    assert!(matches!(
        w.add_option(TraceOption::Hook("h")),
        Err(Error::Usage(_))
    ));
    assert!(matches!(w.cmdlines(b""), Err(Error::Usage(_))));
    assert!(matches!(
        w.write_latency("", "local", CpuSource::Empty),
        Err(Error::Usage(_))
    ));
    drop(w);
    // v7: cmdlines late but once; DONE is not an option.
    let mut w = Writer::create(&p, config(FileVersion::V7, None, e, 2)).unwrap();
    w.printk_formats(b"").unwrap();
    assert!(matches!(w.ftrace_events(&[]), Err(Error::Usage(_))));
    w.cmdlines(b"").unwrap();
    assert!(matches!(w.cmdlines(b""), Err(Error::Usage(_))));
    assert!(matches!(
        w.add_option(TraceOption::Raw { id: 0, data: b"" }),
        Err(Error::Usage(_))
    ));
    assert!(matches!(
        w.write_buffer(
            BufferSpec {
                name: "a\0b",
                ..top
            },
            Vec::new()
        ),
        Err(Error::Usage(_))
    ));
    drop(w);
    assert!(!p.exists());
    assert_eq!(
        fs::read_dir(&dir).unwrap().count(),
        0,
        "temporary files removed"
    );
    let _ = fs::remove_dir_all(&dir);
}

/// A source shorter than it claims, or failing, is an error naming it; nothing is left.
#[test]
fn bad_sources() {
    struct Failing(usize);
    impl std::io::Read for Failing {
        fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("device went away"));
            }
            let n = b.len().min(self.0).min(4096);
            b[..n].fill(0);
            self.0 -= n;
            Ok(n)
        }
    }
    let dir = tmpdir("sources");
    let spool = dir.join("spool");
    fs::write(&spool, vec![0u8; 10000]).unwrap();
    let sf = File::open(&spool).unwrap();
    for codec in [None, Some(Codec::Zstd)] {
        let p = dir.join("x.dat");
        let top = BufferSpec {
            name: "",
            clock: "local",
            page_size: 4096,
        };
        let mut w = Writer::create(&p, config(FileVersion::V7, codec, Endian::Little, 1)).unwrap();
        let short = CpuSource::File {
            file: &sf,
            offset: 4096,
            len: 1 << 20,
            name: "spool-file",
        };
        let err = w.write_buffer(top, vec![short]).unwrap_err();
        assert!(matches!(err, Error::Source { .. }), "{err}");
        assert!(err.to_string().contains("spool-file"), "{err}");
        drop(w);
        let mut w = Writer::create(&p, config(FileVersion::V7, codec, Endian::Little, 1)).unwrap();
        let failing = CpuSource::Reader {
            reader: Box::new(Failing(500_000)),
            name: "cpu0 pipe".into(),
        };
        let err = w.write_buffer(top, vec![failing]).unwrap_err();
        assert!(err.to_string().contains("cpu0 pipe"), "{err}");
        drop(w);
        assert!(!p.exists());
    }
    fs::remove_file(&spool).unwrap();
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
    let _ = fs::remove_dir_all(&dir);
}

/// A reader that turns out empty is a CPU without data.
#[test]
fn empty_reader_is_no_data() {
    let dir = tmpdir("empty-reader");
    for (version, codec, e) in all_configs() {
        let p = dir.join("x.dat");
        let mut cfg = config(version, codec, e, 2);
        cfg.instances.clear();
        let mut w = Writer::create(&p, cfg).unwrap();
        metadata(&mut w, true);
        let d = cpu_data(e, 4096, 5, 1);
        let wr = w
            .write_buffer(
                BufferSpec {
                    name: "",
                    clock: "local",
                    page_size: 4096,
                },
                vec![
                    CpuSource::Reader {
                        reader: Box::new(std::io::empty()),
                        name: "e".into(),
                    },
                    CpuSource::Bytes(&d),
                ],
            )
            .unwrap();
        assert_eq!(wr[0].size, 0);
        w.finish().unwrap();
        let b = fs::read(&p).unwrap();
        let f = TraceFile::parse(&b).unwrap();
        assert_eq!(records(&f).len(), 1, "{version:?} {codec:?} {e:?}");
    }
    let _ = fs::remove_dir_all(&dir);
}

fn mounted_tmpfs(dir: &Path, size: &str) -> bool {
    std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// On a full disk the writer fails with an error naming the file and what it was writing,
/// and leaves neither the file nor its temporary behind.
#[test]
fn full_disk() {
    let dir = tmpdir("full");
    if !mounted_tmpfs(&dir, "1m") {
        eprintln!("\n*** SKIPPED: cannot mount a 1 MiB tmpfs (needs root) ***\n");
        return;
    }
    let p = dir.join("trace.dat");
    let d = cpu_data(Endian::Little, 4096, 1, 600); // 2.4 MB
    for codec in [None, Some(Codec::Zstd)] {
        let mut w = Writer::create(&p, config(FileVersion::V7, codec, Endian::Little, 1)).unwrap();
        metadata(&mut w, true);
        // Incompressible data, so zstd fills the disk too.
        let mut noise = d.clone();
        let mut x = 0x9e3779b97f4a7c15u64;
        for b in noise.iter_mut().skip(64) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        let res = w
            .write_buffer(
                BufferSpec {
                    name: "",
                    clock: "local",
                    page_size: 4096,
                },
                vec![CpuSource::Bytes(&noise)],
            )
            .and_then(|_| w.finish().map(|_| ()));
        let err = res.expect_err("1 MiB cannot hold 2.4 MB");
        let msg = err.to_string();
        match &err {
            Error::Io { source, .. } => {
                assert_eq!(source.raw_os_error(), Some(28), "{msg}: {source}");
            }
            e => panic!("{e:?}"),
        }
        assert!(
            msg.contains("trace.dat") && msg.contains("CPU 0 data"),
            "{msg}"
        );
        assert!(!p.exists());
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            0,
            "temporary file removed"
        );
    }
    let _ = std::process::Command::new("umount").arg(&dir).status();
    let _ = fs::remove_dir_all(&dir);
}

/// A cancel request stops the write at the next flush; the writer drops without a file.
#[test]
fn cancel_leaves_nothing() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    /// Sets the flag after handing out `after` bytes: the cancel arrives mid-data.
    struct Trip {
        left: usize,
        after: usize,
        flag: Arc<AtomicBool>,
    }
    impl std::io::Read for Trip {
        fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
            if self.after == 0 {
                self.flag.store(true, Ordering::Relaxed);
            }
            let n = b.len().min(self.left).min(65536);
            b[..n].fill(0);
            self.left -= n;
            self.after = self.after.saturating_sub(n);
            Ok(n)
        }
    }
    let dir = tmpdir("cancel");
    for codec in [None, Some(Codec::Zstd)] {
        let p = dir.join("c.dat");
        let flag = Arc::new(AtomicBool::new(false));
        let mut w = Writer::create(&p, config(FileVersion::V7, codec, Endian::Little, 1)).unwrap();
        w.set_cancel(flag.clone());
        metadata(&mut w, true);
        let src = Trip {
            left: 64 << 20,
            after: 4 << 20,
            flag: flag.clone(),
        };
        let err = w
            .write_buffer(
                BufferSpec {
                    name: "",
                    clock: "local",
                    page_size: 4096,
                },
                vec![CpuSource::Reader {
                    reader: Box::new(src),
                    name: "cpu0".into(),
                }],
            )
            .unwrap_err();
        assert!(matches!(err, Error::Interrupted { .. }), "{err}");
        assert!(flag.load(Ordering::Relaxed));
        // A temporary file cut short is no trace.dat: its magic is written last.
        let tmp = fs::read(w.temp_path()).unwrap();
        assert!(codec.is_some() || tmp.len() > 1 << 20, "{}", tmp.len());
        assert!(TraceFile::parse(&tmp).is_err());
        drop(w);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
    }
    let _ = fs::remove_dir_all(&dir);
}
