//! Fuzzes `report -F`: filter text compiled against two events, then tested on a record, and
//! the POSIX regex translator on its own. Any input must give a result or an error, never a
//! panic, a hang or an allocation that grows with nothing.
//!
//! Input: the filter text up to the first NUL byte, the record bytes after it.
//! Register in fuzz/Cargo.toml as:
//!   [[bin]]
//!   name = "filter_parse"
//!   path = "fuzz_targets/filter_parse.rs"
//!   test = false
//!   doc = false
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracedat::filter::posix::PosixRegex;
use tracedat::filter::{EventFilter, NoEnv};
use tracedat::{Endian, EventFormat, Field, FieldFlags, Record};

fn field(name: &str, offset: u32, size: u32, flags: u16) -> Field {
    Field {
        name: name.into(),
        type_name: "".into(),
        offset,
        size,
        array_len: 0,
        element_size: size,
        flags: FieldFlags(flags),
    }
}

fn events() -> [EventFormat; 2] {
    let common = vec![
        field("common_type", 0, 2, 0),
        field("common_pid", 4, 4, FieldFlags::SIGNED),
    ];
    [
        EventFormat {
            id: 7,
            system: "sched".into(),
            name: "sched_switch".into(),
            common_fields: common.clone(),
            fields: vec![
                field("prev_comm", 8, 16, FieldFlags::STRING | FieldFlags::ARRAY),
                field("prev_pid", 24, 4, FieldFlags::SIGNED),
                field("prev_state", 32, 8, FieldFlags::SIGNED | FieldFlags::LONG),
                field(
                    "name",
                    40,
                    4,
                    FieldFlags::STRING | FieldFlags::ARRAY | FieldFlags::DYNAMIC,
                ),
            ],
            print_fmt: "".into(),
        },
        EventFormat {
            id: 4,
            system: "ftrace".into(),
            name: "kernel_stack".into(),
            common_fields: common,
            fields: vec![field("size", 8, 4, FieldFlags::SIGNED)],
            print_fmt: "".into(),
        },
    ]
}

fuzz_target!(|data: &[u8]| {
    let cut = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (text, rec) = data.split_at(cut);
    let rec = rec.get(1..).unwrap_or(&[]);
    let _ = PosixRegex::new(text);
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let evs = events();
    if let Ok(f) = EventFilter::parse(text, evs.iter(), Endian::Little) {
        for cpu in 0..2 {
            let r = Record {
                ts: 0,
                cpu,
                data: rec,
                missed_events: 0,
                offset: 0,
            };
            let _ = f.matches(&r, &mut NoEnv);
        }
    }
});
