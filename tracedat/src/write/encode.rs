//! Compression as trace-cmd writes it (lib/trace-cmd/trace-compress-zstd.c, -zlib.c):
//! - zstd: `ZSTD_compress2` at the default level, with `ZSTD_c_contentSizeFlag` off, so frames
//!   carry no content size (the block or chunk header gives it);
//! - zlib: `compress2(.., Z_BEST_COMPRESSION)`, a zlib-wrapped deflate stream.
//!
//! The byte layouts around the compressed bytes (one block per metadata section, 10-page
//! chunks for per-CPU data) are in `file::compress`, which reads them; this module writes them.
//! Per-CPU data is compressed a batch of chunks at a time on rayon's threads, each thread with
//! its own reused compression context; the chunks keep their order in the file.

use std::cell::RefCell;
use std::io;

use rayon::prelude::*;

use crate::endian::Endian;
use crate::file::compress::Codec;

/// What the v7 header names as the codec's version.
///
/// zstd: the library's version, as trace-cmd writes `ZSTD_versionString()`. zlib: trace-cmd
/// writes `zlibVersion()` and readers accept the file when its major version is at most their
/// library's; the deflate implementation here is not zlib itself, so the header states the
/// zlib stream format version it produces, 1.
pub fn codec_version(codec: Codec) -> &'static str {
    match codec {
        Codec::Zstd => zstd::zstd_safe::version_string(),
        Codec::Zlib => "1",
    }
}

/// A compression context, reused for every block it compresses.
pub(crate) struct Encoder {
    codec: Codec,
    zstd: Option<zstd::bulk::Compressor<'static>>,
    zlib: Option<flate2::Compress>,
}

impl Encoder {
    pub(crate) fn new(codec: Codec) -> Encoder {
        Encoder {
            codec,
            zstd: None,
            zlib: None,
        }
    }

    /// Compresses `input` into `out` (cleared first; its allocation is reused).
    pub(crate) fn compress(&mut self, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        out.clear();
        match self.codec {
            Codec::Zstd => {
                if self.zstd.is_none() {
                    let mut c = zstd::bulk::Compressor::new(zstd::DEFAULT_COMPRESSION_LEVEL)?;
                    c.set_parameter(zstd::zstd_safe::CParameter::ContentSizeFlag(false))?;
                    self.zstd = Some(c);
                }
                let c = self.zstd.as_mut().expect("just set");
                out.reserve(zstd::zstd_safe::compress_bound(input.len()));
                c.compress_to_buffer(input, out)?;
                Ok(())
            }
            Codec::Zlib => {
                let c = self.zlib.get_or_insert_with(|| {
                    flate2::Compress::new(flate2::Compression::best(), true)
                });
                c.reset();
                // zlib's compressBound.
                let bound = input.len() + (input.len() >> 12) + (input.len() >> 14) + 64;
                out.reserve(bound);
                let start_in = c.total_in();
                loop {
                    let consumed = (c.total_in() - start_in) as usize;
                    let status = c
                        .compress_vec(&input[consumed..], out, flate2::FlushCompress::Finish)
                        .map_err(io::Error::other)?;
                    match status {
                        flate2::Status::StreamEnd => return Ok(()),
                        _ => out.reserve(out.capacity().max(4096)),
                    }
                }
            }
        }
    }
}

thread_local! {
    /// One context per codec per thread: contexts are costly to set up (zstd's is ~1 MiB).
    static ENCODERS: RefCell<Vec<Encoder>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's encoder for `codec`.
pub(crate) fn with_encoder<R>(codec: Codec, f: impl FnOnce(&mut Encoder) -> R) -> R {
    ENCODERS.with(|cell| {
        let mut v = cell.borrow_mut();
        let i = match v.iter().position(|e| e.codec == codec) {
            Some(i) => i,
            None => {
                v.push(Encoder::new(codec));
                v.len() - 1
            }
        };
        f(&mut v[i])
    })
}

/// `{u32 compressed size, u32 uncompressed size, bytes}` of `payload` (`tracecmd_compress_block`).
pub(crate) fn block(codec: Codec, endian: Endian, payload: &[u8]) -> io::Result<Vec<u8>> {
    let usize_ = u32::try_from(payload.len())
        .map_err(|_| io::Error::other("more than 4 GiB in one compressed block"))?;
    let mut comp = Vec::new();
    with_encoder(codec, |e| e.compress(payload, &mut comp))?;
    let mut v = Vec::with_capacity(comp.len() + 8);
    v.extend_from_slice(&endian.bytes32(comp.len() as u32));
    v.extend_from_slice(&endian.bytes32(usize_));
    v.extend_from_slice(&comp);
    Ok(v)
}

/// The compressed chunks of one batch, in order; buffers are kept between batches.
pub(crate) struct Batch {
    pub(crate) outs: Vec<Vec<u8>>,
    pub(crate) lens: Vec<u32>,
}

impl Batch {
    pub(crate) fn new() -> Batch {
        Batch {
            outs: Vec::new(),
            lens: Vec::new(),
        }
    }

    /// Compresses `input` cut into `chunk` byte pieces (the last may be shorter), in
    /// parallel.
    pub(crate) fn compress(&mut self, codec: Codec, input: &[u8], chunk: usize) -> io::Result<()> {
        let n = input.len().div_ceil(chunk);
        if self.outs.len() < n {
            self.outs.resize_with(n, Vec::new);
        }
        self.lens.clear();
        self.lens
            .extend(input.chunks(chunk).map(|c| c.len() as u32));
        self.outs[..n]
            .par_iter_mut()
            .zip(input.par_chunks(chunk))
            .try_for_each(|(out, piece)| with_encoder(codec, |e| e.compress(piece, out)))
    }

    /// The chunks compressed by the last [`Batch::compress`]: (compressed, uncompressed size).
    pub(crate) fn chunks(&self) -> impl Iterator<Item = (&[u8], u32)> {
        self.outs
            .iter()
            .zip(&self.lens)
            .map(|(o, &l)| (o.as_slice(), l))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Pos;
    use crate::file::compress::Decoder;

    #[test]
    fn blocks_and_chunks_inflate_back() {
        let text: Vec<u8> = (0..100_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for codec in [Codec::Zstd, Codec::Zlib] {
            for endian in [Endian::Little, Endian::Big] {
                let b = block(codec, endian, &text).unwrap();
                let csize = endian.u32(&b, 0).unwrap() as usize;
                assert_eq!(endian.u32(&b, 4).unwrap() as usize, text.len());
                assert_eq!(b.len(), csize + 8);
                let mut out = vec![0; text.len()];
                Decoder::new(codec)
                    .decompress_exact(Pos::File(0), &b[8..], &mut out)
                    .unwrap();
                assert_eq!(out, text);
            }
            let mut batch = Batch::new();
            batch.compress(codec, &text, 40960).unwrap();
            let mut back = Vec::new();
            for (c, len) in batch.chunks() {
                let mut out = vec![0; len as usize];
                Decoder::new(codec)
                    .decompress_exact(Pos::File(0), c, &mut out)
                    .unwrap();
                back.extend_from_slice(&out);
            }
            assert_eq!(back, text);
            let mut want = vec![40960; 9];
            want.push(400_000 - 9 * 40960);
            assert_eq!(batch.lens, want);
        }
    }

    #[test]
    fn zstd_frames_have_no_content_size() {
        let mut out = Vec::new();
        with_encoder(Codec::Zstd, |e| e.compress(&[7u8; 5000], &mut out)).unwrap();
        // Frame header descriptor: bits 7-6 are the content size flag; with it off and the
        // single-segment flag (bit 5) off, no content size field is present.
        assert_eq!(&out[..4], &[0x28, 0xb5, 0x2f, 0xfd]);
        let fhd = out[4];
        assert_eq!(fhd >> 6, 0, "frame header descriptor {fhd:#x}");
        assert_eq!(fhd & 0x20, 0, "single segment frames always carry the size");
    }
}
