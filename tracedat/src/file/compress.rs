//! Compression of v7 files: codec selection from the header and the two on-disk layouts.
//!
//! Specified by trace-cmd's `lib/trace-cmd/trace-compress.c` (+ `trace-compress-zstd.c`,
//! `trace-compress-zlib.c`) and Documentation/trace-cmd/trace-cmd.dat.v7.5.txt:
//! - a compressed metadata section (flag bit 0) holds one block `{u32 compressed size,
//!   u32 uncompressed size, bytes}` (`tracecmd_uncompress_block`);
//! - compressed per-CPU data and latency text are `u32 chunk count` then chunks
//!   `{u32 compressed size, u32 uncompressed size, bytes}` (`tracecmd_load_chunks_info`), each
//!   chunk 10 pages when trace-cmd wrote it.
//!
//! zstd frames are written without a content size, so the output size recorded in the block
//! header is what bounds decompression. A header's claimed output size is checked against the
//! input size before anything is allocated.

use crate::endian::Endian;
use crate::error::{Error, Pos, Result};

/// A codec trace-cmd can name in the v7 header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Codec {
    /// `zstd`, any version (`zstd_is_supported` ignores it).
    Zstd,
    /// `zlib`, major version up to the library's (1).
    Zlib,
}

/// Largest decompressed size accepted for one block or chunk, whatever the header says.
pub const MAX_BLOCK: u64 = 1 << 30;

/// Largest ratio of output to input accepted (zero pages compress very well, but not this well).
const MAX_RATIO: u64 = 1 << 16;

impl Codec {
    /// The codec for the header's name and version, as `tracecmd_compress_alloc` picks it.
    pub fn from_header(name: &[u8], version: &[u8]) -> Option<Codec> {
        match name {
            b"zstd" => Some(Codec::Zstd),
            b"zlib" if crate::cnum::atoi(version) <= 1 => Some(Codec::Zlib),
            _ => None,
        }
    }

    /// The name as written in the header.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Zstd => "zstd",
            Codec::Zlib => "zlib",
        }
    }
}

/// A reusable decompression context (one per reader thread or per CPU stream).
pub struct Decoder {
    codec: Codec,
    zstd: Option<zstd::bulk::Decompressor<'static>>,
    zlib: Option<flate2::Decompress>,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("codec", &self.codec)
            .finish()
    }
}

impl Decoder {
    /// A context for `codec`.
    pub fn new(codec: Codec) -> Self {
        Decoder {
            codec,
            zstd: None,
            zlib: None,
        }
    }

    /// The codec.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Checks a block header's claimed output size before anything is allocated for it.
    pub fn check_size(&self, pos: Pos, input_len: usize, claimed: u64) -> Result<()> {
        let limit = (input_len as u64 + 64)
            .saturating_mul(MAX_RATIO)
            .min(MAX_BLOCK);
        if claimed > limit {
            return Err(Error::Invalid {
                pos,
                what: format!(
                    "{} block claims {claimed:#x} bytes uncompressed from {input_len:#x} bytes, \
                     more than this reader accepts ({limit:#x})",
                    self.codec.name()
                ),
            });
        }
        Ok(())
    }

    /// Decompresses `input` into exactly `out.len()` bytes. `pos` names the block for errors.
    pub fn decompress_exact(&mut self, pos: Pos, input: &[u8], out: &mut [u8]) -> Result<()> {
        let n = self.decompress(pos, input, out)?;
        if n != out.len() {
            return Err(Error::Decompress {
                pos,
                codec: self.codec.name(),
                detail: format!(
                    "inflates to {n:#x} bytes, the block header says {:#x}",
                    out.len()
                ),
            });
        }
        Ok(())
    }

    /// Decompresses `input` into `out`, returning the number of bytes produced (at most
    /// `out.len()`; more output is an error, as with `ZSTD_decompress`/`uncompress`).
    pub fn decompress(&mut self, pos: Pos, input: &[u8], out: &mut [u8]) -> Result<usize> {
        let codec = self.codec.name();
        let fail = |detail: String| Error::Decompress { pos, codec, detail };
        match self.codec {
            Codec::Zstd => {
                if self.zstd.is_none() {
                    self.zstd = Some(
                        zstd::bulk::Decompressor::new()
                            .map_err(|e| fail(format!("cannot create a context: {e}")))?,
                    );
                }
                let d = self.zstd.as_mut().expect("just set");
                d.decompress_to_buffer(input, out)
                    .map_err(|e| fail(e.to_string()))
            }
            Codec::Zlib => {
                let d = self
                    .zlib
                    .get_or_insert_with(|| flate2::Decompress::new(true));
                d.reset(true);
                let status = d
                    .decompress(input, out, flate2::FlushDecompress::Finish)
                    .map_err(|e| fail(e.to_string()))?;
                match status {
                    flate2::Status::StreamEnd => Ok(d.total_out() as usize),
                    _ => Err(fail(if d.total_out() as usize >= out.len() {
                        "output larger than the block header says".into()
                    } else {
                        "stream ends early".into()
                    })),
                }
            }
        }
    }
}

/// One block `{u32 csize, u32 usize, bytes}` at `pos` in `data` (the whole file), inflated.
/// Like `tracecmd_uncompress_block`, the result is the bytes actually produced (which may be
/// fewer than the header says).
pub fn read_block(
    decoder: &mut Decoder,
    data: &[u8],
    at: usize,
    endian: Endian,
    what: &str,
) -> Result<Vec<u8>> {
    let pos = Pos::File(at as u64);
    let hdr = at
        .checked_add(8)
        .and_then(|e| data.get(at..e))
        .ok_or_else(|| Error::Truncated {
            pos,
            what: format!("{what}: compressed block header"),
            need: 8,
            size: data.len() as u64,
            container: "file",
        })?;
    let csize = endian.u32(hdr, 0).unwrap_or(0) as u64;
    let usize_ = endian.u32(hdr, 4).unwrap_or(0) as u64;
    let start = at + 8;
    let input = usize::try_from(csize)
        .ok()
        .and_then(|n| start.checked_add(n))
        .and_then(|e| data.get(start..e))
        .ok_or_else(|| Error::SizePastEnd {
            pos,
            what: format!("{what}: compressed block"),
            claimed: csize,
            size: data.len() as u64,
            container: "file",
        })?;
    // trace-cmd sizes its output buffer max(csize, usize).
    let cap = usize_.max(csize);
    decoder.check_size(pos, input.len(), cap)?;
    let mut out = vec![0u8; cap as usize];
    huge_pages(&mut out);
    let n = decoder.decompress(pos, input, &mut out)?;
    out.truncate(n);
    Ok(out)
}

/// Asks for transparent huge pages under the 2 MiB-aligned middle of a large buffer that has
/// not been touched yet. Inflating kallsyms (5 MB and more) into fresh memory otherwise takes
/// a page fault every 4 KiB, a large part of a small report's start-up.
pub(crate) fn huge_pages(buf: &mut [u8]) {
    const HUGE: usize = 2 << 20;
    let base = buf.as_mut_ptr() as usize;
    let start = base.next_multiple_of(HUGE);
    let end = (base + buf.len()) / HUGE * HUGE;
    if end > start {
        // SAFETY: [start, end) lies within `buf`; MADV_HUGEPAGE only changes how the kernel
        // backs the range, not its contents.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

/// Where one compressed chunk of per-CPU data (or latency text) is and what it inflates to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// File offset of the chunk's compressed bytes (after its 8-byte header).
    pub file_offset: u64,
    /// Compressed size.
    pub csize: u32,
    /// Offset of the chunk's first byte in the decompressed stream.
    pub offset: u64,
    /// Decompressed size.
    pub usize: u32,
}

/// Reads the chunk table at `at` (`u32 count`, then the chunk headers), as
/// `tracecmd_load_chunks_info` does, checking every chunk lies inside the file.
pub fn read_chunk_table(data: &[u8], at: u64, endian: Endian, what: &str) -> Result<Vec<Chunk>> {
    read_chunk_table_with(data, at, endian, what, &mut |_| {})
}

/// [`read_chunk_table`], calling `walked(p)` every few MB with how far the walk has come.
pub(crate) fn read_chunk_table_with(
    data: &[u8],
    at: u64,
    endian: Endian,
    what: &str,
    walked: &mut dyn FnMut(usize),
) -> Result<Vec<Chunk>> {
    const STEP: u64 = 4 << 20;
    let mut next_call = at + STEP;
    let size = data.len() as u64;
    let trunc = |p: u64, need: u64, w: String| Error::Truncated {
        pos: Pos::File(p),
        what: w,
        need,
        size,
        container: "file",
    };
    let mut p = at;
    let count =
        read_u32(data, p, endian).ok_or_else(|| trunc(p, 4, format!("{what}: chunk count")))?;
    p += 4;
    // Each chunk needs at least its 8-byte header: bound the table by what the file can hold.
    let max_chunks = (size.saturating_sub(p)) / 8;
    if count as u64 > max_chunks {
        return Err(Error::Invalid {
            pos: Pos::File(at),
            what: format!(
                "{what}: chunk count {count} cannot fit in the {} bytes left in the file",
                size.saturating_sub(p)
            ),
        });
    }
    let mut chunks = Vec::with_capacity(count as usize);
    let mut off = 0u64;
    for i in 0..count {
        let csize = read_u32(data, p, endian)
            .ok_or_else(|| trunc(p, 8, format!("{what}: header of chunk {i}")))?;
        let usize_ = read_u32(data, p + 4, endian)
            .ok_or_else(|| trunc(p, 8, format!("{what}: header of chunk {i}")))?;
        let start = p + 8;
        let end = start + csize as u64;
        if end > size {
            return Err(Error::SizePastEnd {
                pos: Pos::File(p),
                what: format!("{what}: chunk {i}"),
                claimed: csize as u64,
                size,
                container: "file",
            });
        }
        chunks.push(Chunk {
            file_offset: start,
            csize,
            offset: off,
            usize: usize_,
        });
        if p >= next_call {
            walked(p as usize);
            next_call = p + STEP;
        }
        off += usize_ as u64;
        p = end;
    }
    Ok(chunks)
}

fn read_u32(data: &[u8], at: u64, endian: Endian) -> Option<u32> {
    endian.u32(data, usize::try_from(at).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codec_selection_follows_trace_cmd() {
        assert_eq!(Codec::from_header(b"zstd", b"9.9"), Some(Codec::Zstd));
        assert_eq!(Codec::from_header(b"zlib", b"1.2.11"), Some(Codec::Zlib));
        assert_eq!(Codec::from_header(b"zlib", b"2.0"), None);
        assert_eq!(Codec::from_header(b"lz4", b"1"), None);
        assert_eq!(Codec::from_header(b"ZSTD", b"1"), None);
    }

    #[test]
    fn roundtrip_and_size_mismatch() {
        let text = b"hello hello hello hello hello".repeat(50);
        for codec in [Codec::Zstd, Codec::Zlib] {
            let comp = match codec {
                Codec::Zstd => zstd::bulk::compress(&text, 3).unwrap(),
                Codec::Zlib => {
                    use std::io::Write;
                    let mut e =
                        flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
                    e.write_all(&text).unwrap();
                    e.finish().unwrap()
                }
            };
            let mut d = Decoder::new(codec);
            let mut out = vec![0; text.len()];
            d.decompress_exact(Pos::File(0), &comp, &mut out).unwrap();
            assert_eq!(out, text);
            // The context is reusable.
            d.decompress_exact(Pos::File(0), &comp, &mut out).unwrap();
            let mut short = vec![0; text.len() - 1];
            assert!(d.decompress(Pos::File(0), &comp, &mut short).is_err());
            let mut long = vec![0; text.len() + 1];
            assert!(d.decompress_exact(Pos::File(0), &comp, &mut long).is_err());
            assert!(d
                .decompress(Pos::File(0), &comp[..comp.len() / 2], &mut out)
                .is_err());
            assert!(d.decompress(Pos::File(0), b"garbage!", &mut out).is_err());
        }
    }

    #[test]
    fn absurd_claims_are_refused_before_allocating() {
        let d = Decoder::new(Codec::Zstd);
        assert!(d.check_size(Pos::File(0), 10, u32::MAX as u64).is_err());
        assert!(d.check_size(Pos::File(0), 10, 40960).is_ok());
    }
}
