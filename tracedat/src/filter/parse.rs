//! The filter-expression parser of libtraceevent's src/parse-filter.c (`process_filter`,
//! `create_arg_item`, `add_left`, `add_right`, `collapse_tree`, `test_arg`, `reparent_op_arg`)
//! and its printer (`arg_to_str`, used by `report -T`).
//!
//! The C parser is not a grammar with precedence: it is a token-driven state machine with three
//! registers (`current_op`, `current_exp`, `left_item`), and its oddities decide what a filter
//! means, so they are kept as they are: `&&` and `||` associate left with no precedence
//! (`a || b && c` is `(a || b) && c`); `left_item` is not cleared by an operator, so
//! `prev_pid > -1` parses as `prev_pid - 1`; a second complete comparison with no `&&`/`||`
//! between replaces the first; arithmetic cannot be compared (`a + 1 == 2` is a syntax error)
//! and a field on the right of a comparison is a syntax error (C reads the field pointer as a
//! value type); a field the event does not have becomes FALSE, and `collapse_tree` folds those
//! away. The tree lives in an arena so the C's in-place rewrites (`*parent = *arg`) map onto
//! index assignments.
//!
//! Where the C dereferences NULL while parsing (an unfinished expression such as `pid ==`
//! reaching `test_arg`), trace-cmd dies with SIGSEGV; here that is the error
//! [`super::FilterErrorKind::ReferenceCrash`].

use super::lex::{Lexer, TokKind};
use super::posix::PosixRegex;
use super::{CrashReason, FilterErrorKind as E};
use crate::format::{EventFormat, FieldFlags};

pub(crate) type Id = u32;

/// Stand-in for the address of the comm string libtraceevent returns (`get_value` on `COMM`
/// yields the pointer). Real values are heap or library addresses of x86-64 processes,
/// between 0x5500_0000_0000 and 0x8000_0000_0000; comparisons with smaller numbers come out as
/// they do in C.
pub(crate) const COMM_ADDR: u64 = 0x5555_5556_0000;
/// Stand-in for the heap address of a one-character `'x'` literal, which C compares as a
/// number (the union member `val` aliases the `str` pointer). Distinct from [`COMM_ADDR`].
pub(crate) const CHAR_ADDR: u64 = 0x5555_5557_0000;

#[derive(Clone, Debug)]
pub(crate) enum Value {
    Number(u64),
    /// A double-quoted string: its address is used where a number is needed.
    Str(Box<[u8]>),
    /// A single-quoted string.
    Char(Box<[u8]>),
    /// A one-character single-quoted string turned into a number: its address.
    CharAddr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldKind {
    Event,
    /// The pseudo-field `COMM`: the task name of the record's pid.
    Comm,
    /// The pseudo-field `CPU`: the record's CPU.
    Cpu,
}

/// A field as the filter reads it: a copy of what it needs from the format.
#[derive(Clone, Debug)]
pub(crate) struct FieldRef {
    pub kind: FieldKind,
    pub name: Box<str>,
    pub offset: u32,
    pub size: u32,
    pub flags: FieldFlags,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BoolOp {
    And,
    Or,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExpOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Rshift,
    Lshift,
    And,
    Or,
    Xor,
    /// `~`: accepted by the parser, an error when evaluated.
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Regex,
    NotRegex,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StrCmp {
    Match,
    NotMatch,
    Regex,
    NotRegex,
}

/// `struct tep_filter_arg`.
#[derive(Clone, Debug)]
pub(crate) enum Arg {
    /// A node the C would have freed (or zeroed with `memset`).
    Free,
    Boolean(bool),
    Value(Value),
    Field(FieldRef),
    Exp {
        op: ExpOp,
        left: Option<Id>,
        right: Option<Id>,
    },
    Op {
        op: BoolOp,
        left: Option<Id>,
        right: Option<Id>,
    },
    Num {
        cmp: Cmp,
        left: Option<Id>,
        right: Option<Id>,
    },
    Str {
        cmp: StrCmp,
        field: FieldRef,
        val: Box<[u8]>,
        regex: Option<PosixRegex>,
    },
}

/// A parsed and collapsed filter for one event.
#[derive(Clone, Debug)]
pub(crate) struct Tree {
    pub nodes: Vec<Arg>,
    pub root: Id,
}

/// Result of `test_arg`: `FILTER_VAL_NORM`, `FILTER_VAL_FALSE`, `FILTER_VAL_TRUE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tv {
    Norm,
    False,
    True,
}

/// What `show_error` last wrote: the message and the reader position.
#[derive(Clone, Debug)]
pub(crate) struct ParseError {
    pub kind: E,
    pub message: Option<String>,
    pub position: usize,
}

/// `(return code, *parg)` of `process_filter`: `Err(UnbalancedParen)` with a node is the
/// C's way of saying "stopped at `)`".
type Ret = (Result<(), E>, Option<Id>);

/// Regexes already compiled for other events of the same filter (libtraceevent compiles the
/// same text once per event; `.*:COMM =~ "x"` would otherwise compile it thousands of times).
pub(crate) type RegexCache =
    std::collections::HashMap<Box<[u8]>, Result<PosixRegex, super::posix::BreError>>;

struct Parser<'a, 'e> {
    lex: Lexer<'a>,
    event: &'e EventFormat,
    regexes: &'e mut RegexCache,
    nodes: Vec<Arg>,
    tok: Vec<u8>,
    error: Option<(String, usize)>,
}

/// Parses `body` (the text after `:`) for `event`, as `process_event` does.
pub(crate) fn parse_event(
    body: &[u8],
    event: &EventFormat,
    regexes: &mut RegexCache,
) -> Result<Tree, ParseError> {
    let mut p = Parser {
        lex: Lexer::new(body),
        event,
        regexes,
        nodes: Vec::new(),
        tok: Vec::new(),
        error: None,
    };
    let (ret, parg) = p.process_filter(false);
    if let Err(kind) = ret {
        let (message, position) = match p.error.take() {
            Some((m, pos)) => (Some(m), pos),
            None => (None, p.lex.pos()),
        };
        return Err(ParseError {
            kind,
            message,
            position,
        });
    }
    let root = match parg {
        Some(r) => r,
        None => p.alloc(Arg::Boolean(false)),
    };
    Ok(Tree {
        nodes: p.nodes,
        root,
    })
}

enum OpType {
    Bool(BoolOp),
    Not,
    Exp(ExpOp),
    Cmp(Cmp),
    None,
}

fn process_op(tok: &[u8]) -> OpType {
    match tok {
        b"&&" => OpType::Bool(BoolOp::And),
        b"||" => OpType::Bool(BoolOp::Or),
        b"!" => OpType::Not,
        b"+" => OpType::Exp(ExpOp::Add),
        b"-" => OpType::Exp(ExpOp::Sub),
        b"*" => OpType::Exp(ExpOp::Mul),
        b"/" => OpType::Exp(ExpOp::Div),
        b"%" => OpType::Exp(ExpOp::Mod),
        b">>" => OpType::Exp(ExpOp::Rshift),
        b"<<" => OpType::Exp(ExpOp::Lshift),
        b"&" => OpType::Exp(ExpOp::And),
        b"|" => OpType::Exp(ExpOp::Or),
        b"^" => OpType::Exp(ExpOp::Xor),
        b"~" => OpType::Exp(ExpOp::Not),
        b"==" => OpType::Cmp(Cmp::Eq),
        b"!=" => OpType::Cmp(Cmp::Ne),
        b"<" => OpType::Cmp(Cmp::Lt),
        b">" => OpType::Cmp(Cmp::Gt),
        b"<=" => OpType::Cmp(Cmp::Le),
        b">=" => OpType::Cmp(Cmp::Ge),
        b"=~" => OpType::Cmp(Cmp::Regex),
        b"!~" => OpType::Cmp(Cmp::NotRegex),
        _ => OpType::None,
    }
}

impl Parser<'_, '_> {
    fn alloc(&mut self, a: Arg) -> Id {
        self.nodes.push(a);
        (self.nodes.len() - 1) as Id
    }

    fn show_error(&mut self, msg: String) {
        self.error = Some((msg, self.lex.pos()));
    }

    fn fail_syntax(&mut self) -> Ret {
        self.show_error("Syntax error".into());
        (Err(E::SyntaxError), None)
    }

    fn create_arg_item(&mut self, kind: TokKind) -> Result<Id, E> {
        let tok = &self.tok;
        let arg = match kind {
            TokKind::SQuote => Arg::Value(Value::Char(tok.as_slice().into())),
            TokKind::DQuote => Arg::Value(Value::Str(tok.as_slice().into())),
            TokKind::Item if tok.first().is_some_and(u8::is_ascii_digit) => {
                Arg::Value(Value::Number(crate::cnum::strtoull(tok, 0)))
            }
            TokKind::Item => {
                let found = self
                    .event
                    .common_fields
                    .iter()
                    .chain(self.event.fields.iter())
                    .find(|f| f.name.as_bytes() == tok.as_slice());
                match found {
                    Some(f) => Arg::Field(FieldRef {
                        kind: FieldKind::Event,
                        name: f.name.clone(),
                        offset: f.offset,
                        size: f.size,
                        flags: f.flags,
                    }),
                    None if tok.as_slice() == b"COMM" || tok.as_slice() == b"CPU" => {
                        let comm = tok.as_slice() == b"COMM";
                        Arg::Field(FieldRef {
                            kind: if comm {
                                FieldKind::Comm
                            } else {
                                FieldKind::Cpu
                            },
                            name: if comm { "COMM".into() } else { "CPU".into() },
                            offset: 0,
                            size: 0,
                            flags: FieldFlags(0),
                        })
                    }
                    // Not a field of this event: FALSE.
                    None => Arg::Boolean(false),
                }
            }
            _ => {
                let t = String::from_utf8_lossy(tok).into_owned();
                self.show_error(format!("expected a value but found {t}"));
                return Err(E::UnexpectedType);
            }
        };
        Ok(self.alloc(arg))
    }

    /// `add_left`.
    fn add_left(&mut self, op: Id, arg: Option<Id>) -> Result<(), E> {
        let mut arg = arg;
        let rotate = |nodes: &mut Vec<Arg>, a: Option<Id>, b: Id| -> Option<Id> {
            // rotate_op_right: a's right child moves out, b takes its place.
            let a = a?;
            if let Arg::Op { right, .. } = &mut nodes[a as usize] {
                right.replace(b)
            } else {
                None
            }
        };
        let arg_is_op = |nodes: &Vec<Arg>, a: Option<Id>| {
            a.is_some_and(|a| matches!(nodes[a as usize], Arg::Op { .. }))
        };
        match &self.nodes[op as usize] {
            Arg::Exp { .. } => {
                if arg_is_op(&self.nodes, arg) {
                    arg = rotate(&mut self.nodes, arg, op);
                }
                if let Arg::Exp { left, .. } = &mut self.nodes[op as usize] {
                    *left = arg;
                }
            }
            Arg::Op { .. } => {
                if let Arg::Op { left, .. } = &mut self.nodes[op as usize] {
                    *left = arg;
                }
            }
            Arg::Num { .. } => {
                if arg_is_op(&self.nodes, arg) {
                    arg = rotate(&mut self.nodes, arg, op);
                }
                let ok = arg.is_some_and(|a| {
                    matches!(self.nodes[a as usize], Arg::Field(_) | Arg::Boolean(_))
                });
                if !ok {
                    return Err(E::InvalidArgType);
                }
                if let Arg::Num { left, .. } = &mut self.nodes[op as usize] {
                    *left = arg;
                }
            }
            _ => return Err(E::InvalidArgType),
        }
        Ok(())
    }

    fn out_fail(&mut self) -> Result<(), E> {
        self.show_error("Syntax error".into());
        Err(E::SyntaxError)
    }

    /// `add_right`, including the conversion of a comparison with a string into a string
    /// comparison.
    fn add_right(&mut self, op: Id, arg: Option<Id>) -> Result<(), E> {
        match self.nodes[op as usize] {
            Arg::Exp { right, .. } | Arg::Op { right, .. } => {
                if right.is_some() {
                    return self.out_fail();
                }
                match &mut self.nodes[op as usize] {
                    Arg::Exp { right, .. } | Arg::Op { right, .. } => *right = arg,
                    _ => {}
                }
                Ok(())
            }
            Arg::Num { cmp, left, right } => {
                if right.is_some() {
                    return self.out_fail();
                }
                let Some(arg) = arg else {
                    return Err(E::ReferenceCrash(CrashReason::NullArgument));
                };
                let value = match &self.nodes[arg as usize] {
                    Arg::Value(v) => v.clone(),
                    // C switches on `arg->value.type`, which for a field aliases the low bits
                    // of its pointer: never a valid value type.
                    Arg::Field(_) => return self.out_fail(),
                    _ => {
                        self.show_error("Illegal rvalue".into());
                        return Err(E::IllegalRvalue);
                    }
                };
                let is_regex = matches!(cmp, Cmp::Regex | Cmp::NotRegex);
                let s = match value {
                    Value::Char(s) if s.len() == 1 && !is_regex => {
                        self.nodes[arg as usize] = Arg::Value(Value::CharAddr);
                        return self.set_num_right(op, cmp, arg);
                    }
                    Value::Char(s) | Value::Str(s) => s,
                    Value::Number(_) | Value::CharAddr => return self.set_num_right(op, cmp, arg),
                };
                // The op node is zeroed before anything is checked.
                self.nodes[op as usize] = Arg::Free;
                let Some(left) = left else {
                    return Err(E::ReferenceCrash(CrashReason::NullArgument));
                };
                let field = match &self.nodes[left as usize] {
                    Arg::Boolean(_) => {
                        // Comparing a field the event lacks: the whole comparison is FALSE.
                        self.nodes[op as usize] = Arg::Boolean(false);
                        return Ok(());
                    }
                    Arg::Field(f) => f.clone(),
                    _ => {
                        self.show_error("Illegal lvalue for string comparison".into());
                        return Err(E::IllegalLvalue);
                    }
                };
                let (scmp, regex) = match cmp {
                    Cmp::Eq => (StrCmp::Match, None),
                    Cmp::Ne => (StrCmp::NotMatch, None),
                    Cmp::Regex | Cmp::NotRegex => match self
                        .regexes
                        .entry(s.clone())
                        .or_insert_with(|| PosixRegex::new(&s))
                        .clone()
                    {
                        Ok(r) => (
                            if cmp == Cmp::Regex {
                                StrCmp::Regex
                            } else {
                                StrCmp::NotRegex
                            },
                            Some(r),
                        ),
                        Err(super::posix::BreError::Invalid(_)) => {
                            let t = String::from_utf8_lossy(&s).into_owned();
                            self.show_error(format!("RegEx '{t}' did not compute"));
                            return Err(E::InvalidRegex);
                        }
                        Err(_) => {
                            return Err(E::UnsupportedRegex);
                        }
                    },
                    _ => {
                        self.show_error("Illegal comparison for string".into());
                        return Err(E::IllegalStringCmp);
                    }
                };
                self.nodes[op as usize] = Arg::Str {
                    cmp: scmp,
                    field,
                    val: s,
                    regex,
                };
                self.nodes[left as usize] = Arg::Free;
                self.nodes[arg as usize] = Arg::Free;
                Ok(())
            }
            _ => self.out_fail(),
        }
    }

    fn set_num_right(&mut self, op: Id, cmp: Cmp, arg: Id) -> Result<(), E> {
        if matches!(cmp, Cmp::Regex | Cmp::NotRegex) {
            self.show_error("Op not allowed with integers".into());
            return Err(E::IllegalIntegerCmp);
        }
        if let Arg::Num { right, .. } = &mut self.nodes[op as usize] {
            *right = Some(arg);
        }
        Ok(())
    }

    fn check_op_done(&self, a: Id) -> bool {
        match &self.nodes[a as usize] {
            Arg::Exp { right, .. } | Arg::Op { right, .. } | Arg::Num { right, .. } => {
                right.is_some()
            }
            Arg::Str { .. } | Arg::Boolean(_) => true,
            _ => false,
        }
    }

    /// `process_filter`.
    fn process_filter(&mut self, not: bool) -> Ret {
        let mut current_op: Option<Id> = None;
        let mut current_exp: Option<Id> = None;
        let mut left_item: Option<Id> = None;

        loop {
            let mut tok = std::mem::take(&mut self.tok);
            let kind = self.lex.next(&mut tok);
            self.tok = tok;
            match kind {
                TokKind::SQuote | TokKind::DQuote | TokKind::Item => {
                    let arg = match self.create_arg_item(kind) {
                        Ok(a) => a,
                        Err(e) => return (Err(e), None),
                    };
                    if left_item.is_none() {
                        left_item = Some(arg);
                    } else if let Some(ce) = current_exp {
                        if let Err(e) = self.add_right(ce, Some(arg)) {
                            return (Err(e), None);
                        }
                        left_item = None;
                        // A `!` takes exactly one expression.
                        if not {
                            if current_op.is_some() {
                                return self.fail_syntax();
                            }
                            return (Ok(()), Some(ce));
                        }
                    } else {
                        return self.fail_syntax();
                    }
                }
                TokKind::Delim => match self.tok.first() {
                    Some(b',') => {
                        self.show_error("Illegal token ','".into());
                        return (Err(E::IllegalToken), None);
                    }
                    Some(b'(') => {
                        if left_item.is_some() {
                            self.show_error("Open paren can not come after item".into());
                            return (Err(E::InvalidParen), None);
                        }
                        if current_exp.is_some() {
                            self.show_error("Open paren can not come after expression".into());
                            return (Err(E::InvalidParen), None);
                        }
                        let (ret, arg) = self.process_filter(false);
                        match ret {
                            Err(E::UnbalancedParen) => {}
                            Ok(()) => {
                                self.show_error("Unbalanced number of '('".into());
                                return (Err(E::UnbalancedParen), None);
                            }
                            Err(e) => return (Err(e), None),
                        }
                        if not {
                            if current_op.is_some() {
                                return self.fail_syntax();
                            }
                            return (Ok(()), arg);
                        }
                        if let Some(co) = current_op {
                            if let Err(e) = self.add_right(co, arg) {
                                return (Err(e), None);
                            }
                        } else {
                            current_exp = arg;
                        }
                    }
                    _ => {
                        // ')'
                        if current_op.is_none() && current_exp.is_none() {
                            return self.fail_syntax();
                        }
                        if current_exp.is_some_and(|e| !self.check_op_done(e)) {
                            return self.fail_syntax();
                        }
                        if current_op.is_some_and(|o| !self.check_op_done(o)) {
                            return self.fail_syntax();
                        }
                        return (Err(E::UnbalancedParen), current_op.or(current_exp));
                    }
                },
                TokKind::Op => {
                    let op_type = process_op(&self.tok);
                    match op_type {
                        OpType::Bool(_) => {
                            if current_exp.is_none() && current_op.is_none() {
                                return self.fail_syntax();
                            }
                            if left_item.is_some() {
                                return self.fail_syntax();
                            }
                        }
                        OpType::Not => {
                            if left_item.is_some() {
                                return self.fail_syntax();
                            }
                        }
                        OpType::Exp(_) | OpType::Cmp(_) => {
                            if left_item.is_none() {
                                return self.fail_syntax();
                            }
                        }
                        OpType::None => {
                            let t = String::from_utf8_lossy(&self.tok).into_owned();
                            self.show_error(format!("Unknown op token {t}"));
                            return (Err(E::UnknownToken), None);
                        }
                    }
                    match op_type {
                        OpType::Bool(b) => {
                            let arg = self.alloc(Arg::Op {
                                op: b,
                                left: None,
                                right: None,
                            });
                            let _ = self.add_left(arg, current_op.or(current_exp));
                            current_op = Some(arg);
                            current_exp = None;
                        }
                        OpType::Not => {
                            let arg = self.alloc(Arg::Op {
                                op: BoolOp::Not,
                                left: None,
                                right: None,
                            });
                            if let Some(co) = current_op {
                                if let Err(e) = self.add_right(co, Some(arg)) {
                                    return (Err(e), None);
                                }
                            }
                            current_exp = Some(arg);
                            let (ret, sub) = self.process_filter(true);
                            if let Err(e) = ret {
                                return (Err(e), None);
                            }
                            if let Err(e) = self.add_right(arg, sub) {
                                return (Err(e), None);
                            }
                        }
                        OpType::Exp(_) | OpType::Cmp(_) => {
                            let node = match op_type {
                                OpType::Exp(op) => Arg::Exp {
                                    op,
                                    left: None,
                                    right: None,
                                },
                                OpType::Cmp(cmp) => Arg::Num {
                                    cmp,
                                    left: None,
                                    right: None,
                                },
                                _ => unreachable!("checked above"),
                            };
                            let arg = self.alloc(node);
                            if let Some(co) = current_op {
                                if let Err(e) = self.add_right(co, Some(arg)) {
                                    return (Err(e), None);
                                }
                            }
                            if self.add_left(arg, left_item).is_err() {
                                return self.fail_syntax();
                            }
                            current_exp = Some(arg);
                        }
                        OpType::None => {}
                    }
                }
                TokKind::None => break,
                TokKind::Space | TokKind::Newline => return self.fail_syntax(),
            }
        }

        let Some(root) = current_op.or(current_exp) else {
            return self.fail_syntax();
        };
        match self.collapse_tree(root) {
            Ok(r) => (Ok(()), Some(r)),
            Err(e) => (Err(e), None),
        }
    }

    /// `collapse_tree`: folds the FALSE of missing fields into the tree.
    fn collapse_tree(&mut self, root: Id) -> Result<Id, E> {
        match self.test_arg(root, Some(root))? {
            Tv::Norm => Ok(root),
            tv => Ok(self.alloc(Arg::Boolean(tv == Tv::True))),
        }
    }

    fn children(&self, a: Id) -> (Option<Id>, Option<Id>) {
        match &self.nodes[a as usize] {
            Arg::Exp { left, right, .. }
            | Arg::Op { left, right, .. }
            | Arg::Num { left, right, .. } => (*left, *right),
            _ => (None, None),
        }
    }

    fn set_child(&mut self, a: Id, right_side: bool, v: Option<Id>) {
        if let Arg::Exp { left, right, .. }
        | Arg::Op { left, right, .. }
        | Arg::Num { left, right, .. } = &mut self.nodes[a as usize]
        {
            if right_side {
                *right = v;
            } else {
                *left = v;
            }
        }
    }

    /// `test_arg`. Children are re-read after each recursive call because a reparent below
    /// can rewrite them, as the C's pointers see.
    fn test_arg(&mut self, parent: Id, arg: Option<Id>) -> Result<Tv, E> {
        let Some(arg) = arg else {
            return Err(E::ReferenceCrash(CrashReason::UnfinishedExpression));
        };
        match &self.nodes[arg as usize] {
            Arg::Boolean(b) => Ok(if *b { Tv::True } else { Tv::False }),
            Arg::Str { .. } | Arg::Value(_) | Arg::Field(_) => Ok(Tv::Norm),
            Arg::Exp { .. } | Arg::Num { .. } => {
                let l = self.test_arg(arg, self.children(arg).0)?;
                if l != Tv::Norm {
                    return Ok(l);
                }
                let r = self.test_arg(arg, self.children(arg).1)?;
                if r != Tv::Norm {
                    return Ok(r);
                }
                Ok(Tv::Norm)
            }
            &Arg::Op { op, .. } => {
                if op != BoolOp::Not {
                    let l = self.test_arg(arg, self.children(arg).0)?;
                    match l {
                        Tv::Norm => {}
                        Tv::True | Tv::False => {
                            if (l == Tv::True && op == BoolOp::Or)
                                || (l == Tv::False && op == BoolOp::And)
                            {
                                return Ok(l);
                            }
                            let r = self.test_arg(arg, self.children(arg).1)?;
                            if r != Tv::Norm {
                                return Ok(r);
                            }
                            let right = self.children(arg).1;
                            return self.reparent(parent, arg, right);
                        }
                    }
                }
                let r = self.test_arg(arg, self.children(arg).1)?;
                match r {
                    Tv::Norm => Ok(Tv::Norm),
                    Tv::True | Tv::False => {
                        if r == Tv::True && op == BoolOp::Or {
                            return Ok(Tv::True);
                        }
                        if r == Tv::False && op == BoolOp::And {
                            return Ok(Tv::False);
                        }
                        if op == BoolOp::Not {
                            return Ok(if r == Tv::True { Tv::False } else { Tv::True });
                        }
                        let left = self.children(arg).0;
                        self.reparent(parent, arg, left)
                    }
                }
            }
            Arg::Free => {
                self.show_error("bad arg in filter tree".into());
                Err(E::BadFilterArg)
            }
        }
    }

    /// `reparent_op_arg`: replaces `old_child` by its child `arg`.
    fn reparent(&mut self, parent: Id, old_child: Id, arg: Option<Id>) -> Result<Tv, E> {
        let Some(arg) = arg else {
            return Err(E::ReferenceCrash(CrashReason::UnfinishedExpression));
        };
        let is_op = |a: &Arg| matches!(a, Arg::Op { .. });
        if !is_op(&self.nodes[parent as usize]) && !is_op(&self.nodes[arg as usize]) {
            self.show_error("can not reparent other than OP".into());
            return Err(E::ReparentNotOp);
        }
        let (ol, or) = self.children(old_child);
        let right_side = if or == Some(arg) {
            true
        } else if ol == Some(arg) {
            false
        } else {
            self.show_error("Error in reparent op, find other child".into());
            return Err(E::ReparentFailed);
        };
        self.set_child(old_child, right_side, None);
        if parent == old_child {
            let moved = std::mem::replace(&mut self.nodes[arg as usize], Arg::Free);
            self.nodes[parent as usize] = moved;
            return Ok(Tv::Norm);
        }
        let (pl, pr) = self.children(parent);
        if pr == Some(old_child) {
            self.set_child(parent, true, Some(arg));
        } else if pl == Some(old_child) {
            self.set_child(parent, false, Some(arg));
        } else {
            self.show_error("Error in reparent op".into());
            return Err(E::ReparentFailed);
        }
        self.nodes[old_child as usize] = Arg::Free;
        Ok(Tv::Norm)
    }
}

impl Tree {
    pub(crate) fn node(&self, id: Id) -> &Arg {
        &self.nodes[id as usize]
    }

    /// `arg_to_str`: the text `report -T` prints for this event's filter (`None` where the C
    /// returns NULL and prints nothing).
    pub(crate) fn to_text(&self) -> Option<String> {
        self.arg_to_str(Some(self.root))
    }

    fn arg_to_str(&self, arg: Option<Id>) -> Option<String> {
        let arg = arg?;
        match self.node(arg) {
            Arg::Boolean(b) => Some(if *b { "TRUE" } else { "FALSE" }.into()),
            Arg::Op { op, left, right } => self.op_to_str(*op, *left, *right),
            Arg::Num { cmp, left, right } => {
                let l = self.arg_to_str(*left)?;
                let r = self.arg_to_str(*right)?;
                let op = match cmp {
                    Cmp::Eq => "==",
                    Cmp::Ne => "!=",
                    Cmp::Gt => ">",
                    Cmp::Lt => "<",
                    Cmp::Ge => ">=",
                    Cmp::Le => "<=",
                    Cmp::Regex | Cmp::NotRegex => return None,
                };
                Some(format!("{l} {op} {r}"))
            }
            Arg::Str {
                cmp, field, val, ..
            } => {
                let op = match cmp {
                    StrCmp::Match => "==",
                    StrCmp::NotMatch => "!=",
                    StrCmp::Regex => "=~",
                    StrCmp::NotRegex => "!~",
                };
                Some(format!(
                    "{} {op} \"{}\"",
                    field.name,
                    String::from_utf8_lossy(val)
                ))
            }
            // `%lld` of the union: strings print their address.
            Arg::Value(v) => Some(match v {
                Value::Number(n) => (*n as i64).to_string(),
                Value::CharAddr | Value::Char(_) => (CHAR_ADDR as i64).to_string(),
                Value::Str(_) => (CHAR_ADDR as i64).to_string(),
            }),
            Arg::Field(f) => Some(f.name.to_string()),
            Arg::Exp { op, left, right } => {
                let l = self.arg_to_str(*left)?;
                let r = self.arg_to_str(*right)?;
                let op = match op {
                    ExpOp::Add => "+",
                    ExpOp::Sub => "-",
                    ExpOp::Mul => "*",
                    ExpOp::Div => "/",
                    ExpOp::Mod => "%",
                    ExpOp::Rshift => ">>",
                    ExpOp::Lshift => "<<",
                    ExpOp::And => "&",
                    ExpOp::Or => "|",
                    ExpOp::Xor => "^",
                    ExpOp::Not => "[ERROR IN EXPRESSION TYPE]",
                };
                Some(format!("{l} {op} {r}"))
            }
            Arg::Free => None,
        }
    }

    fn op_to_str(&self, op: BoolOp, left: Option<Id>, right: Option<Id>) -> Option<String> {
        let val_of = |s: &str| match s {
            "TRUE" => Some(true),
            "FALSE" => Some(false),
            _ => None,
        };
        match op {
            BoolOp::And | BoolOp::Or => {
                let l = self.arg_to_str(left)?;
                let r = self.arg_to_str(right)?;
                let (lv, rv) = (val_of(&l), val_of(&r));
                let and = op == BoolOp::And;
                if let Some(lv) = lv {
                    if (and && !lv) || (!and && lv) {
                        return Some(l);
                    }
                    if let Some(rv) = rv {
                        let v = if and { lv && rv } else { lv || rv };
                        return Some(if v { "TRUE" } else { "FALSE" }.into());
                    }
                }
                if let Some(rv) = rv {
                    if (and && !rv) || (!and && rv) {
                        return Some(r);
                    }
                    return Some(l);
                }
                Some(format!("({l}) {} ({r})", if and { "&&" } else { "||" }))
            }
            BoolOp::Not => {
                let r = self.arg_to_str(right)?;
                match val_of(&r) {
                    Some(v) => Some(if v { "FALSE" } else { "TRUE" }.into()),
                    None => Some(format!("!({r})")),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn strtoull_base0() {
        assert_eq!(crate::cnum::strtoull(b"0x1f", 0), 31);
        assert_eq!(crate::cnum::strtoull(b"010", 0), 8);
        assert_eq!(crate::cnum::strtoull(b"09", 0), 0);
        assert_eq!(crate::cnum::strtoull(b"0x", 0), 0);
        assert_eq!(crate::cnum::strtoull(b"0xg", 0), 0);
        assert_eq!(crate::cnum::strtoull(b"12abc", 0), 12);
        assert_eq!(
            crate::cnum::strtoull(b"99999999999999999999999", 0),
            u64::MAX
        );
        assert_eq!(crate::cnum::strtoull(b"0", 0), 0);
    }
}
