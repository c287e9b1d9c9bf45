//! A bounds-checked reader over the mapped file or a decompressed section.
//!
//! trace-cmd reads the file with `read()` calls that fail at end of file; this cursor does the
//! same over a byte slice, and every failure becomes an [`Error`] naming the position and what
//! was being read. Nothing here allocates from a size read out of the file.

use crate::endian::Endian;
use crate::error::{Error, Pos, Result};

/// How positions in the cursor's slice map to [`Pos`].
#[derive(Clone, Copy, Debug)]
pub(crate) enum Origin {
    /// The slice is the whole file: index = file offset.
    File,
    /// The slice is the decompressed payload of the section whose header is at this offset.
    Section(u64),
}

#[derive(Clone, Debug)]
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    endian: Endian,
    origin: Origin,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a [u8], pos: usize, endian: Endian, origin: Origin) -> Self {
        Cursor {
            buf,
            pos,
            endian,
            origin,
        }
    }

    /// The position of index `i` of the slice.
    pub(crate) fn pos_of(&self, i: usize) -> Pos {
        match self.origin {
            Origin::File => Pos::File(i as u64),
            Origin::Section(section) => Pos::Section {
                section,
                offset: i as u64,
            },
        }
    }

    pub(crate) fn here(&self) -> Pos {
        self.pos_of(self.pos)
    }

    pub(crate) fn offset(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn container(&self) -> &'static str {
        match self.origin {
            Origin::File => "file",
            Origin::Section(_) => "section",
        }
    }

    pub(crate) fn truncated(&self, at: usize, need: u64, what: &str) -> Error {
        Error::Truncated {
            pos: self.pos_of(at),
            what: what.to_string(),
            need,
            size: self.buf.len() as u64,
            container: self.container(),
        }
    }

    /// `n` bytes, or a `Truncated` error.
    pub(crate) fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| self.truncated(self.pos, n as u64, what))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// A payload of `size` bytes announced by a size field: a `SizePastEnd` error when it
    /// does not fit, so the message shows the claimed size.
    pub(crate) fn sized(&mut self, size: u64, what: &str) -> Result<&'a [u8]> {
        let start = self.pos;
        let fits = usize::try_from(size)
            .ok()
            .and_then(|n| start.checked_add(n))
            .filter(|&e| e <= self.buf.len());
        match fits {
            Some(end) => {
                self.pos = end;
                Ok(&self.buf[start..end])
            }
            None => Err(Error::SizePastEnd {
                pos: self.pos_of(start),
                what: what.to_string(),
                claimed: size,
                size: self.buf.len() as u64,
                container: self.container(),
            }),
        }
    }

    pub(crate) fn u16(&mut self, what: &str) -> Result<u16> {
        let b = self.take(2, what)?;
        Ok(self.endian.u16(b, 0).unwrap_or(0))
    }

    pub(crate) fn u32(&mut self, what: &str) -> Result<u32> {
        let b = self.take(4, what)?;
        Ok(self.endian.u32(b, 0).unwrap_or(0))
    }

    pub(crate) fn u64(&mut self, what: &str) -> Result<u64> {
        let b = self.take(8, what)?;
        Ok(self.endian.u64(b, 0).unwrap_or(0))
    }

    /// A NUL-terminated string, returned without its NUL.
    pub(crate) fn cstr(&mut self, what: &str) -> Result<&'a [u8]> {
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        match memchr::memchr(0, rest) {
            Some(n) => {
                let s = &rest[..n];
                self.pos += n + 1;
                Ok(s)
            }
            None => Err(Error::Unterminated {
                pos: self.here(),
                what: what.to_string(),
            }),
        }
    }
}

/// Lossy text of file bytes for messages and names.
pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
