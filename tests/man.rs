//! The man pages in man/ are generated from the clap definition; this fails when they are
//! stale. Regenerate with `cargo run -- generate-man man/`.

use std::fs;
use std::path::Path;
use std::process::Command;

#[test]
fn man_pages_are_current() {
    let out = tempdir();
    let status = Command::new(env!("CARGO_BIN_EXE_rtrace-cmd"))
        .arg("generate-man")
        .arg(&out)
        .status()
        .expect("run rtrace-cmd generate-man");
    assert!(status.success());
    let man = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let mut generated: Vec<_> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    generated.sort();
    assert!(!generated.is_empty());
    let mut committed: Vec<_> = fs::read_dir(&man)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().ends_with(".1"))
        .collect();
    committed.sort();
    assert_eq!(
        generated, committed,
        "man/ has a different set of pages; run `cargo run -- generate-man man/`"
    );
    for name in generated {
        let want = fs::read(out.join(&name)).unwrap();
        let have = fs::read(man.join(&name)).unwrap();
        assert!(
            want == have,
            "man/{} is stale; run `cargo run -- generate-man man/`",
            name.to_string_lossy()
        );
    }
    let _ = fs::remove_dir_all(&out);
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rtrace-man-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}
