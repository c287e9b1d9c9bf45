//! Byte order of a trace.dat file.
//!
//! The initial file header (trace-cmd.dat.v6/v7 docs, "endian" byte) says which byte order every
//! later integer uses: option payloads, section headers, ring-buffer pages and event fields.
//! Readers take a slice and an offset and never panic: out-of-range reads return `None`; the
//! `bytesN` encoders are what the writer (`crate::write`) puts in the file.

/// The byte order recorded in the file header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endian {
    /// Header byte 0.
    Little,
    /// Header byte 1.
    Big,
}

impl Endian {
    /// Reads a `u16` at `off`, or `None` past the end.
    #[inline]
    pub fn u16(self, b: &[u8], off: usize) -> Option<u16> {
        let a: [u8; 2] = b.get(off..off.checked_add(2)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u16::from_le_bytes(a),
            Endian::Big => u16::from_be_bytes(a),
        })
    }

    /// Reads a `u32` at `off`, or `None` past the end.
    #[inline]
    pub fn u32(self, b: &[u8], off: usize) -> Option<u32> {
        let a: [u8; 4] = b.get(off..off.checked_add(4)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u32::from_le_bytes(a),
            Endian::Big => u32::from_be_bytes(a),
        })
    }

    /// Reads a `u64` at `off`, or `None` past the end.
    #[inline]
    pub fn u64(self, b: &[u8], off: usize) -> Option<u64> {
        let a: [u8; 8] = b.get(off..off.checked_add(8)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u64::from_le_bytes(a),
            Endian::Big => u64::from_be_bytes(a),
        })
    }

    /// Reads an unsigned integer of `size` bytes (1, 2, 4 or 8) at `off`, zero-extended.
    /// Other sizes read as 0, which is what libtraceevent's `tep_read_number` does.
    #[inline]
    pub fn uint(self, b: &[u8], off: usize, size: usize) -> Option<u64> {
        match size {
            1 => b.get(off).map(|&v| v as u64),
            2 => self.u16(b, off).map(u64::from),
            4 => self.u32(b, off).map(u64::from),
            8 => self.u64(b, off),
            _ => b.get(off..off.checked_add(size)?).map(|_| 0),
        }
    }

    /// `v` as two bytes in this order.
    #[inline]
    pub fn bytes16(self, v: u16) -> [u8; 2] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }

    /// `v` as four bytes in this order.
    #[inline]
    pub fn bytes32(self, v: u32) -> [u8; 4] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }

    /// `v` as eight bytes in this order.
    #[inline]
    pub fn bytes64(self, v: u64) -> [u8; 8] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }
}
