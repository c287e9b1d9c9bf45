//! The tokenizer libtraceevent uses for format files and print formats (`__read_token`,
//! `read_token`, `read_token_item` in src/event-parse.c).
//!
//! Its quirks decide which events parse, so they are reproduced, not fixed: bytes >= 0x80 and
//! control characters end the input (they read as negative/unprintable `char`s); a quoted
//! string ends at the first quote not preceded by a backslash (so `"\\"` runs on), at a
//! non-printable character other than a newline (which is dropped), or at the end of the input
//! (the token is then of type NONE); adjacent double-quoted strings separated only by white
//! space are joined; operators are `->`, doubled `+ - | & < >`, those and `! =` with an
//! optional `=` after them, everything else one character; and the mac80211 macros
//! `LOCAL_PR_FMT`, `STA_PR_FMT`, `VIF_PR_FMT` are replaced by the strings they stand for.

use crate::cnum::{is_print, is_space};

/// `enum tep_event_type` (same order and meaning).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    Error,
    None,
    Space,
    Newline,
    Op,
    Delim,
    Item,
    DQuote,
    SQuote,
}

impl Tok {
    /// `event_item_type()`: ITEM, DQUOTE or SQUOTE.
    pub(crate) fn is_item(self) -> bool {
        matches!(self, Tok::Item | Tok::DQuote | Tok::SQuote)
    }
}

/// A read position in a format text.
#[derive(Clone)]
pub(crate) struct Lexer<'a> {
    buf: &'a [u8],
    pub(crate) pos: usize,
}

/// The character as a C `char` promoted to `int` (x86: signed), -1 at the end.
#[inline]
fn cchar(b: u8) -> i32 {
    b as i8 as i32
}

fn get_type(ch: i32) -> Tok {
    if ch == b'\n' as i32 {
        return Tok::Newline;
    }
    if !(0..=255).contains(&ch) {
        return Tok::None;
    }
    let c = ch as u8;
    if is_space(c) {
        Tok::Space
    } else if c.is_ascii_alphanumeric() || c == b'_' {
        Tok::Item
    } else if c == b'\'' {
        Tok::SQuote
    } else if c == b'"' {
        Tok::DQuote
    } else if !is_print(c) {
        Tok::None
    } else if matches!(c, b'(' | b')' | b',') {
        Tok::Delim
    } else {
        Tok::Op
    }
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Lexer { buf, pos: 0 }
    }

    pub(crate) fn at(buf: &'a [u8], pos: usize) -> Self {
        Lexer { buf, pos }
    }

    #[inline]
    fn read_char(&mut self) -> i32 {
        match self.buf.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                cchar(b)
            }
            None => -1,
        }
    }

    #[inline]
    fn peek_char(&self) -> i32 {
        self.buf.get(self.pos).map_or(-1, |&b| cchar(b))
    }

    /// `__read_token`. The token is `None` where libtraceevent leaves it NULL.
    pub(crate) fn read_raw(&mut self) -> (Tok, Option<String>) {
        let ch = self.read_char();
        if ch < 0 {
            return (Tok::None, None);
        }
        let mut ty = get_type(ch);
        if ty == Tok::None {
            return (ty, None);
        }
        let mut buf: Vec<u8> = vec![ch as u8];
        match ty {
            Tok::Newline | Tok::Delim => return (ty, Some(String::from(ch as u8 as char))),
            Tok::Op => {
                let mut test_equal = false;
                match ch as u8 {
                    b'-' if self.peek_char() == b'>' as i32 => {
                        buf.push(self.read_char() as u8);
                    }
                    c @ (b'-' | b'+' | b'|' | b'&' | b'>' | b'<') => {
                        if self.peek_char() != c as i32 {
                            test_equal = true;
                        } else {
                            buf.push(self.read_char() as u8);
                            if c == b'>' || c == b'<' {
                                test_equal = true;
                            }
                        }
                    }
                    b'!' | b'=' => test_equal = true,
                    _ => {}
                }
                if test_equal && self.peek_char() == b'=' as i32 {
                    buf.push(self.read_char() as u8);
                }
                return (Tok::Op, Some(bytes_to_string(buf)));
            }
            Tok::DQuote | Tok::SQuote => {
                buf.clear();
                let quote = ch;
                let mut ch = ch;
                loop {
                    // concat:
                    loop {
                        let last = ch;
                        ch = self.read_char();
                        buf.push(ch as u8);
                        if ch <= 0 {
                            break;
                        }
                        let cont = (ch != quote && is_print(ch as u8))
                            || last == b'\\' as i32
                            || ch == b'\n' as i32;
                        if !cont {
                            break;
                        }
                    }
                    buf.pop();
                    if ch <= 0 {
                        ty = Tok::None;
                    }
                    if ty == Tok::DQuote {
                        let save = self.pos;
                        let mut c;
                        loop {
                            c = self.read_char();
                            if !(0..=255).contains(&c) || !is_space(c as u8) {
                                break;
                            }
                        }
                        if c == b'"' as i32 {
                            ch = c;
                            continue;
                        }
                        self.pos = save;
                    }
                    break;
                }
            }
            _ => {
                while get_type(self.peek_char()) == ty {
                    buf.push(self.read_char() as u8);
                }
            }
        }
        if ty == Tok::Item {
            let forced: Option<&'static [u8]> = match buf.as_slice() {
                b"LOCAL_PR_FMT" => Some(b"\"%s\" "),
                b"STA_PR_FMT" => Some(b"\" sta:%pM\" "),
                b"VIF_PR_FMT" => Some(b"\" vif:%p(%d)\" "),
                _ => None,
            };
            if let Some(f) = forced {
                return Lexer::new(f).read_raw();
            }
        }
        (ty, Some(bytes_to_string(buf)))
    }

    /// `read_token`: skips white space, keeps newlines.
    pub(crate) fn read(&mut self) -> (Tok, Option<String>) {
        loop {
            let t = self.read_raw();
            if t.0 != Tok::Space {
                return t;
            }
        }
    }

    /// `read_token_item`: skips white space and newlines.
    pub(crate) fn read_item(&mut self) -> (Tok, Option<String>) {
        loop {
            let t = self.read_raw();
            if t.0 != Tok::Space && t.0 != Tok::Newline {
                return t;
            }
        }
    }

    /// `read_expected` (newline_ok) / `read_expected_item`: true when the next token has the
    /// type and text.
    pub(crate) fn expect(&mut self, ty: Tok, text: &str, newline_ok: bool) -> bool {
        let (t, s) = if newline_ok {
            self.read()
        } else {
            self.read_item()
        };
        t == ty && s.as_deref() == Some(text)
    }

    /// `read_expect_type`: the next token (newlines returned) when it has type `ty`.
    pub(crate) fn expect_type(&mut self, ty: Tok) -> Option<String> {
        let (t, s) = self.read();
        if t == ty {
            Some(s.unwrap_or_default())
        } else {
            None
        }
    }
}

/// Token bytes are ASCII (non-ASCII ends a token), except a stray byte dropped by the quote
/// logic; keep them lossless anyway.
fn bytes_to_string(b: Vec<u8>) -> String {
    match String::from_utf8(b) {
        Ok(s) => s,
        Err(e) => e.into_bytes().iter().map(|&c| c as char).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(s: &str) -> Vec<(Tok, String)> {
        let mut l = Lexer::new(s.as_bytes());
        let mut v = Vec::new();
        loop {
            let (t, s) = l.read_raw();
            if t == Tok::None {
                if let Some(s) = s {
                    v.push((t, s));
                }
                break;
            }
            v.push((t, s.unwrap_or_default()));
        }
        v
    }

    fn texts(s: &str) -> Vec<String> {
        all(s)
            .into_iter()
            .filter(|t| t.0 != Tok::Space)
            .map(|t| t.1)
            .collect()
    }

    #[test]
    fn operators() {
        assert_eq!(
            texts("a->b >>= c<<d != e == f && g || h ++ -- -= += ! ~ ?:"),
            [
                "a", "->", "b", ">>=", "c", "<<", "d", "!=", "e", "==", "f", "&&", "g", "||", "h",
                "++", "--", "-=", "+=", "!", "~", "?", ":"
            ]
        );
        assert_eq!(texts("x>=y<z"), ["x", ">=", "y", "<", "z"]);
    }

    #[test]
    fn strings_join_and_escape() {
        assert_eq!(all("\"ab\" \n \"cd\""), [(Tok::DQuote, "abcd".to_string())]);
        assert_eq!(all("\"a\\\"b\""), [(Tok::DQuote, "a\\\"b".to_string())]);
        // a backslash-backslash does not cancel: the quote after it is escaped
        assert_eq!(
            all("\"a\\\\\" x\"")[0],
            (Tok::DQuote, "a\\\\\" x".to_string())
        );
        // unterminated string: type NONE with the text so far
        assert_eq!(all("\"abc"), [(Tok::None, "abc".to_string())]);
        // a tab ends the string and is dropped
        assert_eq!(all("\"ab\tc\"")[0], (Tok::DQuote, "ab".to_string()));
        assert_eq!(all("'c'"), [(Tok::SQuote, "c".to_string())]);
    }

    #[test]
    fn high_bytes_end_input() {
        let v = all("abc\u{e9}def");
        assert_eq!(v, [(Tok::Item, "abc".to_string())]);
    }

    #[test]
    fn mac80211_macros() {
        assert_eq!(all("STA_PR_FMT"), [(Tok::DQuote, " sta:%pM".to_string())]);
    }

    #[test]
    fn items_spaces_delims() {
        let v = all("field:unsigned int x[4];\n");
        let kinds: Vec<Tok> = v.iter().map(|t| t.0).collect();
        assert_eq!(
            kinds,
            [
                Tok::Item,
                Tok::Op,
                Tok::Item,
                Tok::Space,
                Tok::Item,
                Tok::Space,
                Tok::Item,
                Tok::Op,
                Tok::Item,
                Tok::Op,
                Tok::Op,
                Tok::Newline
            ]
        );
    }
}
