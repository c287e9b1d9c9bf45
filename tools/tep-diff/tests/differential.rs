//! Runs the differential harness (see README.md) when the reference libraries can be built:
//! every format of the running kernel, and of the trace.dat fixtures found beside the repo,
//! printed by libtraceevent 1.7.1 and 1.8.4 and by tracedat::tep, compared byte for byte.

use std::path::{Path, PathBuf};
use std::process::Command;

fn skip(why: &str) {
    eprintln!("\n*** tep-diff differential test SKIPPED: {why} ***\n");
}

fn sh(cmd: &mut Command) -> Option<Vec<u8>> {
    let o = cmd.output().ok()?;
    if !o.status.success() {
        eprintln!("{:?} failed: {}", cmd, String::from_utf8_lossy(&o.stderr));
        return None;
    }
    Some(o.stdout)
}

fn refs(tmp: &Path) -> Option<[(PathBuf, &'static str); 2]> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let prefix = sh(&mut Command::new(dir.join("build-libtraceevent.sh")))?;
    let prefix = String::from_utf8_lossy(&prefix).trim().to_string();
    let src = dir.join("tep-ref.c");
    let r17 = tmp.join("tep-ref-1.7");
    let r18 = tmp.join("tep-ref-1.8");
    sh(Command::new("cc")
        .arg("-O1")
        .arg("-o")
        .arg(&r17)
        .arg(&src)
        .arg("-ltraceevent"))?;
    sh(Command::new("cc")
        .arg("-O1")
        .arg(format!("-I{prefix}/include"))
        .arg("-o")
        .arg(&r18)
        .arg(&src)
        .arg(format!("-L{prefix}/lib"))
        .arg(format!("-Wl,-rpath,{prefix}/lib"))
        .arg("-ltraceevent"))?;
    Some([(r17, "3.1"), (r18, "3.3")])
}

fn run_bundle(
    tmp: &Path,
    name: &str,
    bundle: &Path,
    refs: &[(PathBuf, &str)],
    per: &str,
) -> Vec<String> {
    let tool = env!("CARGO_BIN_EXE_tep-diff");
    let recs = tmp.join(format!("{name}.bin"));
    let r = sh(Command::new(tool).arg("gen").arg(bundle).arg("7").arg(per)).expect("gen");
    std::fs::write(&recs, r).unwrap();
    let mut bad = Vec::new();
    for (bin, dialect) in refs {
        let reference = sh(Command::new(bin).arg(bundle).arg(&recs)).expect("reference printer");
        let ours = sh(Command::new(tool)
            .arg("print")
            .arg(bundle)
            .arg(&recs)
            .arg(dialect))
        .expect("print");
        let (rp, op) = (
            tmp.join(format!("{name}-{dialect}.ref")),
            tmp.join(format!("{name}-{dialect}.ours")),
        );
        std::fs::write(&rp, &reference).unwrap();
        std::fs::write(&op, &ours).unwrap();
        let out = Command::new(tool)
            .arg("compare")
            .arg(&op)
            .arg(&rp)
            .arg("10")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        eprintln!("{name} {dialect}:\n{text}");
        if !out.status.success() {
            bad.push(format!("{name} {dialect}"));
        }
    }
    bad
}

#[test]
fn tep_matches_libtraceevent() {
    if Command::new("cc").arg("--version").output().is_err() {
        return skip("no C compiler");
    }
    let tmp = std::env::temp_dir().join(format!("tep-diff-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let Some(refs) = refs(&tmp) else {
        return skip("libtraceevent 1.7.1 (libtraceevent-dev) or the 1.8.4 source is unavailable");
    };
    let tool = env!("CARGO_BIN_EXE_tep-diff");
    let mut bad = Vec::new();
    let mut ran = 0;
    if Path::new("/sys/kernel/tracing/events").is_dir() {
        let extra = tmp.join("printk-extra");
        let b = sh(Command::new(tool)
            .arg("sysfs-bundle")
            .arg("/sys/kernel/tracing")
            .arg(&extra))
        .expect("bundle");
        let bundle = tmp.join("sys.bundle");
        std::fs::write(&bundle, b).unwrap();
        bad.extend(run_bundle(&tmp, "sysfs", &bundle, &refs, "4"));
        // the same formats read as a big-endian file and as one from a 32-bit user space
        let text = std::fs::read_to_string(&bundle).unwrap();
        for (name, from, to) in [
            ("sysfs-be", "endian 0", "endian 1"),
            ("sysfs-long4", "long 8", "long 4"),
        ] {
            let b = tmp.join(format!("{name}.bundle"));
            std::fs::write(&b, text.replacen(from, to, 1)).unwrap();
            bad.extend(run_bundle(&tmp, name, &b, &refs, "2"));
        }
        ran += 1;
    } else {
        skip("no /sys/kernel/tracing: running kernel's formats not tested");
    }
    let shared = std::env::var("RTRACE_SHARED").unwrap_or_else(|_| "/work/shared".into());
    let mut files: Vec<PathBuf> = ["fixtures/foreign", "fixtures/qemu-6.1"]
        .iter()
        .filter_map(|d| std::fs::read_dir(Path::new(&shared).join(d)).ok())
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "dat"))
        .collect();
    files.sort();
    for f in files {
        let name = f.file_stem().unwrap().to_string_lossy().into_owned();
        let dir = tmp.join(&name);
        // 3.1.6 cannot read zlib files; those need the 3.3 reference
        if sh(Command::new(tool).arg("dat-bundle").arg(&f).arg(&dir)).is_none() {
            continue;
        }
        let bundle = dir.join("bundle");
        if !std::fs::read_to_string(&bundle)
            .unwrap_or_default()
            .contains("format ")
        {
            continue;
        }
        bad.extend(run_bundle(&tmp, &name, &bundle, &refs, "3"));
        ran += 1;
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(ran > 0, "nothing to compare");
    assert!(bad.is_empty(), "mismatches: {bad:?}");
}
