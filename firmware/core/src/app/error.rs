//! The protocol's error codes.

/// An error answer's code: the number hosts match on, and a name for people.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// More than `MAX_LINE - 1` bytes before `\n`; the line was dropped.
    LineTooLong = 1,
    /// A byte outside 0x20..=0x7E in the line.
    BadByte = 2,
    /// The line does not start with an id from 1 to 4294967295.
    BadId = 3,
    /// The command word is not known.
    UnknownCommand = 4,
    /// `kernel=` names a kernel the board does not have.
    UnknownKernel = 5,
    /// `dtype=` is not one the board supports.
    UnsupportedDtype = 6,
    /// `n`, `runs`, `batch` or `warmup` above the board's limit.
    TooLarge = 7,
    /// A key missing, unknown, repeated or with a value that does not parse.
    BadArgument = 8,
}

impl ErrorCode {
    /// The code's number on the wire.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The code's name, as the protocol's table has it.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::LineTooLong => "line-too-long",
            ErrorCode::BadByte => "bad-byte",
            ErrorCode::BadId => "bad-id",
            ErrorCode::UnknownCommand => "unknown-command",
            ErrorCode::UnknownKernel => "unknown-kernel",
            ErrorCode::UnsupportedDtype => "unsupported-dtype",
            ErrorCode::TooLarge => "too-large",
            ErrorCode::BadArgument => "bad-argument",
        }
    }
}

/// Why a request was refused: the code, and a short reason for people.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Refusal<'a> {
    pub(crate) code: ErrorCode,
    /// What was wrong, e.g. `missing key`.
    pub(crate) reason: &'static str,
    /// The key or token concerned (from the request), or empty.
    pub(crate) subject: &'a str,
}

impl<'a> Refusal<'a> {
    pub(crate) fn new(code: ErrorCode, reason: &'static str, subject: &'a str) -> Self {
        Refusal {
            code,
            reason,
            subject,
        }
    }
}
