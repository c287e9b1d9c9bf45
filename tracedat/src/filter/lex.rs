//! The tokenizer libtraceevent's filter parser reads with: `__read_token`/`read_token` of
//! src/event-parse.c (the same one that reads format files) plus `filter_read_token` of
//! src/parse-filter.c, which skips blanks and glues `=~`/`!~`.
//!
//! Behaviour kept from C: bytes are `char`, so a byte >= 0x80 reads as a negative value and
//! ends the input (`TEP_EVENT_NONE`) just like a control character does, but the reader has
//! moved past it and a later read continues behind it; quotes keep backslashes and stop at the
//! first non-printable byte; adjacent double-quoted strings are concatenated; operators are one
//! character except `->`, doubled `+ - | & < >`, and those (and `! = < >`, `<<`, `>>`) followed
//! by `=`.

/// libtraceevent's `enum tep_event_type`, restricted to what the reader produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokKind {
    /// End of input, or a byte that is not printable ASCII.
    None,
    Space,
    Newline,
    /// `(`, `)` or `,`.
    Delim,
    Op,
    /// A run of alphanumerics and `_`.
    Item,
    DQuote,
    SQuote,
}

/// A cursor over a filter body, equivalent to libtraceevent's `input_buf`/`input_buf_ptr`.
#[derive(Clone, Debug)]
pub struct Lexer<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// `char` → `int` as x86's signed `char` does it; -1 past the end.
#[inline]
fn as_c_char(b: u8) -> i32 {
    b as i8 as i32
}

/// C-locale `isspace` on a C `int` character.
fn is_space(ch: i32) -> bool {
    matches!(ch, 0x20 | 0x09..=0x0d)
}

fn is_print(ch: i32) -> bool {
    (0x20..0x7f).contains(&ch)
}

fn get_type(ch: i32) -> TokKind {
    if ch == b'\n' as i32 {
        return TokKind::Newline;
    }
    if is_space(ch) {
        return TokKind::Space;
    }
    if (0..128).contains(&ch) && ((ch as u8).is_ascii_alphanumeric() || ch == b'_' as i32) {
        return TokKind::Item;
    }
    if ch == b'\'' as i32 {
        return TokKind::SQuote;
    }
    if ch == b'"' as i32 {
        return TokKind::DQuote;
    }
    if !is_print(ch) {
        return TokKind::None;
    }
    if ch == b'(' as i32 || ch == b')' as i32 || ch == b',' as i32 {
        return TokKind::Delim;
    }
    TokKind::Op
}

impl<'a> Lexer<'a> {
    /// Starts reading `buf` (cut at its first NUL, as the C string it would be).
    pub fn new(buf: &'a [u8]) -> Self {
        let end = memchr::memchr(0, buf).unwrap_or(buf.len());
        Lexer {
            buf: &buf[..end],
            pos: 0,
        }
    }

    /// `input_buf_ptr`: how many bytes have been consumed.
    pub fn pos(&self) -> usize {
        self.pos
    }

    fn read_char(&mut self) -> i32 {
        match self.buf.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                as_c_char(b)
            }
            None => -1,
        }
    }

    fn peek_char(&self) -> i32 {
        self.buf.get(self.pos).map_or(-1, |&b| as_c_char(b))
    }

    /// `__read_token`: one raw token into `tok` (cleared first).
    fn read_raw(&mut self, tok: &mut Vec<u8>) -> TokKind {
        tok.clear();
        let mut ch = self.read_char();
        if ch < 0 {
            return TokKind::None;
        }
        let mut kind = get_type(ch);
        if kind == TokKind::None {
            return kind;
        }
        tok.push(ch as u8);
        match kind {
            TokKind::Newline | TokKind::Delim => return kind,
            TokKind::Op => {
                let mut test_equal = false;
                let c = ch as u8;
                if c == b'-' && self.peek_char() == b'>' as i32 {
                    let n = self.read_char();
                    tok.push(n as u8);
                } else if matches!(c, b'-' | b'+' | b'|' | b'&' | b'>' | b'<') {
                    if self.peek_char() != ch {
                        test_equal = true;
                    } else {
                        let n = self.read_char();
                        tok.push(n as u8);
                        test_equal = matches!(c, b'>' | b'<');
                    }
                } else if matches!(c, b'!' | b'=') {
                    test_equal = true;
                }
                if test_equal && self.peek_char() == b'=' as i32 {
                    let n = self.read_char();
                    tok.push(n as u8);
                }
                return kind;
            }
            TokKind::DQuote | TokKind::SQuote => {
                // Quotes are not kept.
                tok.pop();
                let quote = ch;
                loop {
                    let mut last;
                    loop {
                        last = ch;
                        ch = self.read_char();
                        tok.push(ch as u8);
                        if ch == b'\\' as i32 && last == b'\\' as i32 {
                            // "\\" cancels itself: the second backslash escapes nothing.
                            last = 0;
                        }
                        if ch <= 0 {
                            break;
                        }
                        let more = (ch != quote && is_print(ch))
                            || last == b'\\' as i32
                            || ch == b'\n' as i32;
                        if !more {
                            break;
                        }
                    }
                    // Drop the closing quote (or whatever ended the string).
                    tok.pop();
                    if ch <= 0 {
                        kind = TokKind::None;
                    }
                    if kind != TokKind::DQuote {
                        return kind;
                    }
                    // "a" "b" is one string.
                    let save = self.pos;
                    loop {
                        ch = self.read_char();
                        if !is_space(ch) {
                            break;
                        }
                    }
                    if ch != b'"' as i32 {
                        self.pos = save;
                        return kind;
                    }
                }
            }
            TokKind::Space | TokKind::Item | TokKind::None => {}
        }
        while get_type(self.peek_char()) == kind {
            let n = self.read_char();
            tok.push(n as u8);
        }
        if kind == TokKind::Item {
            // libtraceevent's workaround for old mac80211 formats turns these three words into
            // strings, in filters too.
            let forced: Option<&[u8]> = match tok.as_slice() {
                b"LOCAL_PR_FMT" => Some(b"%s"),
                b"STA_PR_FMT" => Some(b" sta:%pM"),
                b"VIF_PR_FMT" => Some(b" vif:%p(%d)"),
                _ => None,
            };
            if let Some(f) = forced {
                tok.clear();
                tok.extend_from_slice(f);
                return TokKind::DQuote;
            }
        }
        kind
    }

    /// `read_token`: the next token that is not blank space.
    fn read_token(&mut self, tok: &mut Vec<u8>) -> TokKind {
        loop {
            let k = self.read_raw(tok);
            if k != TokKind::Space {
                return k;
            }
        }
    }

    /// `filter_read_token`: skips spaces and newlines; `=` or `!` followed by `~` is one token.
    pub fn next(&mut self, tok: &mut Vec<u8>) -> TokKind {
        let kind = loop {
            let k = self.read_token(tok);
            if k != TokKind::Newline && k != TokKind::Space {
                break k;
            }
        };
        if kind == TokKind::Op
            && (tok.as_slice() == b"=" || tok.as_slice() == b"!")
            && self.peek_char() == b'~' as i32
        {
            let first = tok[0];
            let mut tilde = Vec::new();
            self.read_token(&mut tilde);
            tok.clear();
            tok.push(first);
            tok.push(b'~');
        }
        kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &[u8]) -> Vec<(TokKind, String)> {
        let mut lx = Lexer::new(s);
        let mut out = Vec::new();
        let mut t = Vec::new();
        loop {
            let k = lx.next(&mut t);
            if k == TokKind::None {
                break;
            }
            out.push((k, String::from_utf8_lossy(&t).into_owned()));
        }
        out
    }

    use TokKind::*;

    // Token boundaries follow event-parse.c's __read_token (read in /work/ref/libtraceevent-*);
    // the filter oracle test checks their effect on whole filters against libtraceevent.
    #[test]
    fn operators() {
        let t = toks(b"a==1&&b!=2||c<=3 >>= << -> -- ++ -= =~ !~ ~ ! = .");
        let ops: Vec<&str> = t
            .iter()
            .filter(|(k, _)| *k == Op)
            .map(|(_, s)| s.as_str())
            .collect();
        assert_eq!(
            ops,
            [
                "==", "&&", "!=", "||", "<=", ">>=", "<<", "->", "--", "++", "-=", "=~", "!~", "~",
                "!", "=", "."
            ]
        );
    }

    #[test]
    fn strings() {
        assert_eq!(
            toks(br#"x == "a\"b" "c"  'd'"#),
            vec![
                (Item, "x".into()),
                (Op, "==".into()),
                (DQuote, "a\\\"bc".into()),
                (SQuote, "d".into())
            ]
        );
        // An unterminated string ends the input.
        assert_eq!(
            toks(br#"x == "abc"#),
            vec![(Item, "x".into()), (Op, "==".into())]
        );
        // A tab inside quotes ends the string as if it were the closing quote.
        assert_eq!(
            toks(b"\"a\tb"),
            vec![(DQuote, "a".into()), (Item, "b".into())]
        );
    }

    #[test]
    fn non_ascii_ends_input_but_reading_resumes() {
        let mut lx = Lexer::new("a \u{e9} b".as_bytes());
        let mut t = Vec::new();
        assert_eq!(lx.next(&mut t), Item);
        assert_eq!(lx.next(&mut t), None);
        assert_eq!(lx.next(&mut t), None);
        assert_eq!(lx.next(&mut t), Item);
        assert_eq!(t, b"b");
    }

    #[test]
    fn mac80211_words() {
        assert_eq!(toks(b"STA_PR_FMT"), vec![(DQuote, " sta:%pM".into())]);
    }
}
