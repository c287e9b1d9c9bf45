//! `printk_formats` (trace.dat PRINTK section): the kernel addresses of constant format strings
//! (`trace_printk()` formats and `tracepoint_string()`s), parsed like libtraceevent's
//! `tep_parse_printk_formats()` + `tep_register_print_string()` and looked up like its
//! `find_printk()` (glibc `bsearch` over the stable-sorted list).
//!
//! Each line is `ADDR : "string"`; the text after the first `:` minus one byte, with one
//! leading `"` removed and, when a trailing `"` is removed, a final `\n` escape removed too.

use std::borrow::Cow;
use std::sync::OnceLock;

use crate::cnum::strtoull;

/// One printk format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrintkFmt<'a> {
    /// Kernel address of the string.
    pub addr: u64,
    /// The string, escapes unprocessed (`\n` stays two bytes).
    pub fmt: Cow<'a, [u8]>,
}

pub(crate) struct Printk<'a> {
    text: &'a [u8],
    /// Sorted by address, ties in libtraceevent's list order.
    map: OnceLock<Vec<PrintkFmt<'a>>>,
}

fn register(fmt: &[u8]) -> &[u8] {
    let mut f = fmt;
    if f.first() == Some(&b'"') {
        f = &f[1..];
    }
    if f.is_empty() {
        return f;
    }
    if f[f.len() - 1] == b'"' {
        f = &f[..f.len() - 1];
        if f.ends_with(b"\\n") {
            f = &f[..f.len() - 2];
        }
    }
    f
}

impl<'a> Printk<'a> {
    pub(crate) fn new(text: &'a [u8]) -> Self {
        Printk {
            text,
            map: OnceLock::new(),
        }
    }

    pub(crate) fn map(&self) -> &[PrintkFmt<'a>] {
        self.map.get_or_init(|| {
            let text = match memchr::memchr(0, self.text) {
                Some(z) => &self.text[..z],
                None => self.text,
            };
            let mut list: Vec<PrintkFmt<'a>> = Vec::new();
            let mut pos = 0;
            while pos < text.len() {
                let end = memchr::memchr(b'\n', &text[pos..]).map_or(text.len(), |e| pos + e);
                let line = &text[pos..end];
                let next = end + 1;
                if line.is_empty() {
                    pos = next;
                    continue;
                }
                // strtok_r(line, ":"): skip leading ':'s, cut at the next one
                let lead = line.iter().take_while(|&&b| b == b':').count();
                if lead == line.len() {
                    break;
                }
                let rest = &line[lead..];
                let (addr_str, fmt): (&[u8], &'a [u8]) = match memchr::memchr(b':', rest) {
                    Some(c) => {
                        let after = pos + lead + c + 1;
                        // "fmt + 1": skips one byte (the space); past the line end it runs
                        // into the following text, as the C copy does
                        let f = if after < end {
                            &text[after + 1..end]
                        } else if next < text.len() {
                            &text[next..]
                        } else {
                            &[]
                        };
                        (&rest[..c], f)
                    }
                    None => (
                        rest,
                        if next < text.len() {
                            &text[next..]
                        } else {
                            &[]
                        },
                    ),
                };
                let addr = strtoull(addr_str, 16);
                list.push(PrintkFmt {
                    addr,
                    fmt: Cow::Borrowed(register(fmt)),
                });
                pos = next;
            }
            list.reverse();
            list.sort_by_key(|p| p.addr);
            list
        })
    }

    /// `find_printk()`: glibc bsearch for an exact address.
    pub(crate) fn find(&self, addr: u64) -> Option<&PrintkFmt<'a>> {
        let m = self.map();
        let (mut l, mut u) = (0usize, m.len());
        while l < u {
            let idx = (l + u) / 2;
            let a = m[idx].addr;
            if addr < a {
                u = idx;
            } else if addr > a {
                l = idx + 1;
            } else {
                return Some(&m[idx]);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_find() {
        let t = b"0xffffffff82000010 : \"hello %d\\n\"\n0xffffffff82000000 : \"rcu_gp\"\n\
0xffffffff82000020 : no quotes\\n\n";
        let p = Printk::new(t);
        assert_eq!(&*p.find(0xffffffff82000010).unwrap().fmt, b"hello %d");
        assert_eq!(&*p.find(0xffffffff82000000).unwrap().fmt, b"rcu_gp");
        assert_eq!(&*p.find(0xffffffff82000020).unwrap().fmt, b"no quotes\\n");
        assert!(p.find(0xffffffff82000001).is_none());
    }
}
