//! Format files (`events/<system>/<event>/format`, and the same texts stored in trace.dat's
//! FTRACE_EVENTS/EVENT_FORMATS sections) parsed the way libtraceevent's `parse_format()`,
//! `event_read_name()`, `event_read_id()` and `event_read_fields()` (src/event-parse.c) do.
//!
//! The field type string is rebuilt from its tokens exactly as libtraceevent rebuilds it
//! (`unsigned int`, `char[16]`, `__data_loc char[]`, `const char *`), and the flags and element
//! sizes are derived from it the same way. The kernel's offset, size and signedness are taken
//! as they are: nothing is checked against the C type.

use super::token::{Lexer, Tok};
use crate::cnum::strtoull;
use crate::format::{Field, FieldFlags};

/// `name:` and `ID:`, the part parsed eagerly (libtraceevent drops an event whose name or id
/// does not parse).
pub(crate) struct Header {
    pub name: String,
    pub id: i32,
    /// Where `format:` is expected.
    pub rest: usize,
}

/// `event_read_name()` + `event_read_id()`.
pub(crate) fn parse_header(text: &[u8]) -> Option<Header> {
    let mut lx = Lexer::new(text);
    if !lx.expect(Tok::Item, "name", true) || !lx.expect(Tok::Op, ":", true) {
        return None;
    }
    let name = lx.expect_type(Tok::Item)?;
    if !lx.expect(Tok::Item, "ID", false) || !lx.expect(Tok::Op, ":", true) {
        return None;
    }
    let tok = lx.expect_type(Tok::Item)?;
    let id = strtoull(tok.as_bytes(), 0) as i32;
    if id < 0 {
        return None;
    }
    Some(Header {
        name,
        id,
        rest: lx.pos,
    })
}

/// The fields of a format file; `ok` is false when libtraceevent's `event_read_format()`
/// failed (the event is then marked FAILED but keeps the fields read before the failure).
pub(crate) struct Fields {
    pub common: Vec<Field>,
    pub fields: Vec<Field>,
    pub ok: bool,
}

/// `event_read_format()` from `pos` (just after the `ID:` line). Returns the fields and the
/// lexer positioned at `print fmt:`.
pub(crate) fn parse_fields<'a>(
    text: &'a [u8],
    pos: usize,
    is_ftrace: bool,
    long_size: u32,
) -> (Fields, Lexer<'a>) {
    let mut lx = Lexer::at(text, pos);
    let mut out = Fields {
        common: Vec::new(),
        fields: Vec::new(),
        ok: false,
    };
    if !lx.expect(Tok::Item, "format", false) || !lx.expect(Tok::Op, ":", true) {
        return (out, lx);
    }
    if lx.expect_type(Tok::Newline).is_none() {
        return (out, lx);
    }
    if !read_fields(&mut lx, &mut out.common, is_ftrace, long_size) {
        return (out, lx);
    }
    if !read_fields(&mut lx, &mut out.fields, is_ftrace, long_size) {
        return (out, lx);
    }
    out.ok = true;
    (out, lx)
}

/// The `type_size()` table: element sizes of the types a `type [] name` field may have.
fn type_size(name: &str) -> u32 {
    match name {
        "u8" | "s8" | "char" => 1,
        "u16" | "s16" => 2,
        "u32" | "s32" => 4,
        "u64" | "s64" => 8,
        _ => 0,
    }
}

fn append(buf: &mut String, delim: &str, s: &str) {
    buf.push_str(delim);
    buf.push_str(s);
}

/// `event_read_fields()`: fields until an empty line. False on a parse error (the fields
/// completed before it are kept, as libtraceevent links them as it goes).
fn read_fields(lx: &mut Lexer<'_>, out: &mut Vec<Field>, is_ftrace: bool, long_size: u32) -> bool {
    // `delim` survives across fields in libtraceevent (it is set by the __attribute__ code).
    let mut delim: &str = " ";
    loop {
        let mut size_dynamic = 0u32;
        let (ty, tok) = lx.read();
        if ty == Tok::Newline {
            return true;
        }
        if ty != Tok::Item || tok.as_deref() != Some("field") {
            return false;
        }
        let (mut ty, mut tok) = lx.read();
        if is_ftrace && ty == Tok::Item && tok.as_deref() == Some("special") {
            (ty, tok) = lx.read();
        }
        if ty != Tok::Op || tok.as_deref() != Some(":") {
            return false;
        }
        let Some(mut last_token) = lx.expect_type(Tok::Item) else {
            return false;
        };
        let mut ftype: Option<String> = None;
        let mut flags = 0u16;
        let (mut ty, mut tok);
        loop {
            (ty, tok) = lx.read();
            let t = tok.as_deref().unwrap_or("");
            if ty == Tok::Item
                || (ty == Tok::Op && t == "*")
                || (is_ftrace && ty == Tok::Op && t == ".")
            {
                if t == "*" {
                    flags |= FieldFlags::POINTER;
                }
                match &mut ftype {
                    Some(f) => append(f, delim, &last_token),
                    None => ftype = Some(last_token.clone()),
                }
                last_token = t.to_string();
                delim = " ";
                continue;
            }
            if ty == Tok::Delim && last_token == "__attribute__" && t.starts_with('(') {
                let mut depth = 1;
                let f = ftype.get_or_insert_with(String::new);
                // append() to a NULL type would crash libtraceevent; a type always precedes
                append(f, " ", &last_token);
                append(f, "", "(");
                delim = " ";
                loop {
                    let (t2, s2) = lx.read();
                    if t2 == Tok::None {
                        break;
                    }
                    let s2 = s2.unwrap_or_default();
                    if t2 == Tok::Delim {
                        if s2.starts_with('(') {
                            depth += 1;
                        } else if s2.starts_with(')') {
                            depth -= 1;
                        }
                        if depth == 0 {
                            break;
                        }
                        append(f, "", &s2);
                        delim = "";
                    } else {
                        append(f, delim, &s2);
                        delim = " ";
                    }
                    last_token = s2;
                }
                continue;
            }
            break;
        }
        let Some(mut ftype) = ftype else {
            return false;
        };
        let mut name = last_token;
        if ty != Tok::Op {
            return false;
        }
        let mut arraylen: u32 = 0;
        if tok.as_deref() == Some("[") {
            let mut last_type = ty;
            let mut brackets = String::from("[");
            flags |= FieldFlags::ARRAY;
            (ty, tok) = lx.read();
            arraylen = if ty == Tok::Item {
                strtoull(tok.as_deref().unwrap_or("").as_bytes(), 0) as u32
            } else {
                0
            };
            while tok.as_deref() != Some("]") {
                let d = if last_type == Tok::Item && ty == Tok::Item {
                    " "
                } else {
                    ""
                };
                last_type = ty;
                let t = tok.as_deref().unwrap_or("");
                append(&mut brackets, d, t);
                arraylen = strtoull(t.as_bytes(), 0) as u32;
                (ty, tok) = lx.read();
                if ty == Tok::None {
                    return false;
                }
            }
            brackets.push(']');
            (ty, tok) = lx.read();
            if ty == Tok::Item {
                append(&mut ftype, " ", &name);
                ftype.push_str(&brackets);
                size_dynamic = type_size(&name);
                name = tok.take().unwrap_or_default();
                (ty, tok) = lx.read();
            } else {
                ftype.push_str(&brackets);
            }
        }
        // field_is_string / field_is_dynamic / field_is_relative_dynamic / field_is_long
        if flags & FieldFlags::ARRAY != 0
            && (ftype.contains("char") || ftype.contains("u8") || ftype.contains("s8"))
        {
            flags |= FieldFlags::STRING;
        }
        if ftype.starts_with("__data_loc") {
            flags |= FieldFlags::DYNAMIC;
        }
        if ftype.starts_with("__rel_loc") {
            flags |= FieldFlags::DYNAMIC | FieldFlags::RELATIVE;
        }
        if ftype.contains("long") {
            flags |= FieldFlags::LONG;
        }
        if ty != Tok::Op || tok.as_deref() != Some(";") {
            return false;
        }
        if !lx.expect(Tok::Item, "offset", true) || !lx.expect(Tok::Op, ":", true) {
            return false;
        }
        let Some(t) = lx.expect_type(Tok::Item) else {
            return false;
        };
        let offset = strtoull(t.as_bytes(), 0) as u32;
        if !lx.expect(Tok::Op, ";", true)
            || !lx.expect(Tok::Item, "size", true)
            || !lx.expect(Tok::Op, ":", true)
        {
            return false;
        }
        let Some(t) = lx.expect_type(Tok::Item) else {
            return false;
        };
        let size = strtoull(t.as_bytes(), 0) as u32;
        if flags & FieldFlags::DYNAMIC != 0 && size == 2 {
            flags |= FieldFlags::STRING | FieldFlags::ARRAY;
        }
        if !lx.expect(Tok::Op, ";", true) {
            return false;
        }
        let (ty, tok) = lx.read();
        if ty != Tok::Newline {
            if ty != Tok::Item || tok.as_deref() != Some("signed") {
                return false;
            }
            if !lx.expect(Tok::Op, ":", true) {
                return false;
            }
            let Some(t) = lx.expect_type(Tok::Item) else {
                return false;
            };
            if strtoull(t.as_bytes(), 0) != 0 {
                flags |= FieldFlags::SIGNED;
            }
            if !lx.expect(Tok::Op, ";", true) || lx.expect_type(Tok::Newline).is_none() {
                return false;
            }
        }
        let element_size = if flags & (FieldFlags::ARRAY | FieldFlags::DYNAMIC) != 0 {
            if let Some(e) = size.checked_div(arraylen) {
                e
            } else if flags & FieldFlags::DYNAMIC != 0 {
                size_dynamic
            } else if flags & FieldFlags::STRING != 0 {
                1
            } else if flags & FieldFlags::LONG != 0 {
                long_size
            } else {
                0
            }
        } else {
            size
        };
        out.push(Field {
            name: name.into_boxed_str(),
            type_name: ftype.into_boxed_str(),
            offset,
            size,
            array_len: arraylen,
            element_size,
            flags: FieldFlags(flags),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHED_SWITCH: &str = "name: sched_switch\nID: 316\nformat:\n\
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\
\n\
\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n\
\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n\
\tfield:__data_loc char[] name;\toffset:28;\tsize:4;\tsigned:0;\n\
\tfield:const char * ptr;\toffset:32;\tsize:8;\tsigned:0;\n\
\tfield:unsigned long args[6];\toffset:40;\tsize:48;\tsigned:0;\n\
\n\
print fmt: \"prev_comm=%s\", REC->prev_comm\n";

    #[test]
    fn fields_types_and_flags() {
        let text = SCHED_SWITCH.as_bytes();
        let h = parse_header(text).unwrap();
        assert_eq!((h.name.as_str(), h.id), ("sched_switch", 316));
        let (f, _) = parse_fields(text, h.rest, false, 8);
        assert!(f.ok);
        assert_eq!(f.common.len(), 4);
        let names: Vec<(&str, &str, u16, u32, u32)> = f
            .fields
            .iter()
            .map(|x| {
                (
                    &*x.name,
                    &*x.type_name,
                    x.flags.0,
                    x.array_len,
                    x.element_size,
                )
            })
            .collect();
        let a = FieldFlags::ARRAY;
        let s = FieldFlags::STRING;
        assert_eq!(
            names,
            [
                ("prev_comm", "char[16]", a | s, 16, 1),
                ("prev_pid", "pid_t", FieldFlags::SIGNED, 0, 4),
                (
                    "name",
                    "__data_loc char[]",
                    a | s | FieldFlags::DYNAMIC,
                    0,
                    1
                ),
                ("ptr", "const char *", FieldFlags::POINTER, 0, 8),
                ("args", "unsigned long[6]", a | FieldFlags::LONG, 6, 8),
            ]
        );
    }

    #[test]
    fn bad_header_is_dropped() {
        assert!(parse_header(b"name: x\nID: -1\n").is_none());
        assert!(parse_header(b"\nname: x\nID: 1\n").is_none());
        assert_eq!(parse_header(b"name: x\nID: 0x10\n").unwrap().id, 16);
    }

    #[test]
    fn failure_keeps_earlier_fields() {
        let t = b"name: x\nID: 1\nformat:\n\tfield:int a;\toffset:0;\tsize:4;\tsigned:1;\n\tfield:int b;\toffset:x\n";
        let h = parse_header(t).unwrap();
        let (f, _) = parse_fields(t, h.rest, false, 8);
        assert!(!f.ok);
        assert_eq!(f.common.len(), 1);
    }
}
