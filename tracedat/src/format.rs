//! Event format descriptions: the kernel's `events/<system>/<event>/format` files as stored in
//! trace.dat (FTRACE_EVENTS and EVENT_FORMATS sections).
//!
//! The text is specified by the kernel (`kernel/trace/trace_events.c`, `f_show`) and read by
//! libtraceevent's `event_read_format()`/`event_read_fields()` (src/event-parse.c). The kernel's
//! `offset`, `size` and `signed` are the truth for every field: the C type string is kept only
//! for display and for the few decisions libtraceevent takes from it (strings, pointers, longs,
//! `__data_loc`/`__rel_loc`).

use crate::endian::Endian;

/// Field properties, the same bits as libtraceevent's `enum tep_format_flags`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FieldFlags(pub u16);

impl FieldFlags {
    /// `type name[N]`
    pub const ARRAY: u16 = 1;
    /// the type contains `*`
    pub const POINTER: u16 = 2;
    /// `signed:1`
    pub const SIGNED: u16 = 4;
    /// `char`/`u8` arrays and `__data_loc char[]`
    pub const STRING: u16 = 8;
    /// `__data_loc` (and `__rel_loc`)
    pub const DYNAMIC: u16 = 16;
    /// `long`/`unsigned long`
    pub const LONG: u16 = 32;
    /// `__rel_loc`: the offset is relative to the end of the field
    pub const RELATIVE: u16 = 256;

    /// True when every bit of `bits` is set.
    #[inline]
    pub fn has(self, bits: u16) -> bool {
        self.0 & bits == bits
    }
}

/// One `field:` line of a format file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Field name (`prev_comm`).
    pub name: Box<str>,
    /// The C type as libtraceevent reconstructs it (`char[16]`, `__data_loc char[]`).
    pub type_name: Box<str>,
    /// Byte offset in the record, from the kernel.
    pub offset: u32,
    /// Byte size in the record, from the kernel.
    pub size: u32,
    /// Element count for arrays (`[16]` → 16), 0 otherwise.
    pub array_len: u32,
    /// Element size for arrays, as libtraceevent derives it.
    pub element_size: u32,
    /// Derived properties.
    pub flags: FieldFlags,
}

impl Field {
    /// True for a `signed:1` field.
    #[inline]
    pub fn is_signed(&self) -> bool {
        self.flags.has(FieldFlags::SIGNED)
    }

    /// Reads the field as an unsigned number (libtraceevent `tep_read_number_field`):
    /// sizes other than 1, 2, 4 and 8 read as 0. `None` when the record is too short.
    #[inline]
    pub fn read_uint(&self, endian: Endian, data: &[u8]) -> Option<u64> {
        endian.uint(data, self.offset as usize, self.size as usize)
    }

    /// Reads the field as a number, sign-extended from its size when the field is signed.
    #[inline]
    pub fn read_int(&self, endian: Endian, data: &[u8]) -> Option<i64> {
        let v = self.read_uint(endian, data)?;
        Some(if self.is_signed() {
            match self.size {
                1 => v as u8 as i8 as i64,
                2 => v as u16 as i16 as i64,
                4 => v as u32 as i32 as i64,
                _ => v as i64,
            }
        } else {
            v as i64
        })
    }

    /// For `__data_loc`/`__rel_loc` fields: the (offset, length) of the payload inside the
    /// record, from the 32-bit descriptor (offset in the low 16 bits, length in the high 16).
    /// A `__rel_loc` offset counts from the end of the descriptor field.
    #[inline]
    pub fn dynamic_range(&self, endian: Endian, data: &[u8]) -> Option<(usize, usize)> {
        let d = endian.uint(data, self.offset as usize, self.size.min(4) as usize)?;
        let (mut off, len) = if self.size == 2 {
            (d as usize, 0)
        } else {
            ((d & 0xffff) as usize, (d >> 16) as usize)
        };
        if self.flags.has(FieldFlags::RELATIVE) {
            off += self.offset as usize + self.size as usize;
        }
        Some((off, len))
    }
}

/// One parsed format file.
#[derive(Clone, Debug)]
pub struct EventFormat {
    /// `ID:` line: the value of `common_type` in records of this event.
    pub id: u32,
    /// The system (directory under `events/`): `sched`, `ftrace`, ...
    pub system: Box<str>,
    /// `name:` line.
    pub name: Box<str>,
    /// The `common_*` fields, in file order.
    pub common_fields: Vec<Field>,
    /// The event's own fields, in file order.
    pub fields: Vec<Field>,
    /// Everything after `print fmt: `, unparsed (compiled lazily by the print engine).
    pub print_fmt: Box<str>,
}

impl EventFormat {
    /// An event field by name (libtraceevent `tep_find_field`).
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| &*f.name == name)
    }

    /// A common field by name (`tep_find_common_field`).
    pub fn common_field(&self, name: &str) -> Option<&Field> {
        self.common_fields.iter().find(|f| &*f.name == name)
    }

    /// The field at `idx` counting common fields first, then the event's own: how the print
    /// format's argument tree refers to fields.
    #[inline]
    pub fn field_at(&self, idx: u32) -> Option<&Field> {
        let i = idx as usize;
        match i.checked_sub(self.common_fields.len()) {
            None => self.common_fields.get(i),
            Some(k) => self.fields.get(k),
        }
    }

    /// A common or event field by name, common fields first (`tep_find_any_field`).
    pub fn any_field(&self, name: &str) -> Option<&Field> {
        self.common_field(name).or_else(|| self.field(name))
    }
}
