//! One ring-buffer page under every page format (endianness, long size, old format).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracedat::ring_buffer::{PageDecoder, PageFormat};
use tracedat::Endian;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, page)) = data.split_first() else {
        return;
    };
    let fmt = PageFormat {
        endian: if sel & 1 != 0 { Endian::Big } else { Endian::Little },
        long8: sel & 2 != 0,
        old_format: sel & 4 != 0,
    };
    let mut d = PageDecoder::load(page, fmt);
    let mut n = 0usize;
    while let Some(ev) = d.next_event() {
        let p = d.payload(&ev);
        assert_eq!(p.len(), ev.len() as usize);
        n += 1;
        // Every event takes at least 4 bytes of the page.
        assert!(n <= page.len() / 4 + 1);
    }
});
