//! Where in a TOML file an error lies: the 1-based line and column of a `toml` error, and
//! the key whose value holds it, for messages such as `plan.toml:3:1: key `sizes`: …`.
//!
//! The parser reports a syntax error where it noticed it, which is often the start of the
//! next key: an array left open on one line is found missing its comma at the key on the
//! line after. So the key named is the last assignment that begins before the error, unless
//! the error is about the key at its position itself (an unknown or repeated key, which the
//! parser's message already names).

/// A `toml` error placed in its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TomlErrorAt {
    /// 1-based line of the error's start.
    pub line: usize,
    /// 1-based column (in characters) of the error's start.
    pub column: usize,
    /// The parser's message, prefixed with ``key `K`: `` when it does not name the key
    /// whose value holds the error.
    pub message: String,
}

impl TomlErrorAt {
    /// Places `error`, raised while parsing `text`.
    pub fn locate(text: &str, error: &toml::de::Error) -> TomlErrorAt {
        let offset = error.span().map_or(0, |span| span.start).min(text.len());
        let offset = floor_char_boundary(text, offset);
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..offset].chars().count() + 1;

        let mut message = error.message().trim().to_owned();
        let names_key_at_error = key_starting_at(&text[offset..])
            .is_some_and(|key| message.contains(&format!("`{key}`")));
        if !names_key_at_error
            && let Some(key) = last_key_before(before)
            && !message.contains(&format!("`{key}`"))
        {
            message = format!("key `{key}`: {message}");
        }
        TomlErrorAt {
            line,
            column,
            message,
        }
    }
}

/// The 1-based line of the first top-level assignment of `key` in `text` (`key = …`).
pub fn line_of_key(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| assigned_key(line) == Some(key))
        .map(|index| index + 1)
}

/// The largest char boundary of `text` at or below `offset`.
fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The bare key assigned by the last line of `before` that has one (`key = …`), skipping
/// comments, table headers and the lines of a multi-line value.
fn last_key_before(before: &str) -> Option<&str> {
    before.lines().rev().find_map(assigned_key)
}

/// The bare key `rest` starts with, if it starts an assignment (`key = …`).
fn key_starting_at(rest: &str) -> Option<&str> {
    assigned_key(rest.lines().next().unwrap_or(""))
}

/// The key of a `key = value` line (bare keys: letters, digits, `_`, `-` and dotted parts).
fn assigned_key(line: &str) -> Option<&str> {
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    bare.then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code, reason = "only parsed, to raise errors")]
    struct Plan {
        threads: Option<u32>,
        sizes: Option<Vec<u32>>,
        seed: Option<u32>,
        name: Option<String>,
    }

    fn locate(text: &str) -> TomlErrorAt {
        let error = toml::from_str::<Plan>(text).expect_err("malformed");
        TomlErrorAt::locate(text, &error)
    }

    #[test]
    fn an_array_left_open_is_blamed_on_its_own_key() {
        // The parser notices the missing `]` at `seed`, on the next line.
        let at = locate("threads = 1\nsizes = [1024\nseed = 3\n");
        assert_eq!((at.line, at.column), (3, 1));
        assert!(at.message.starts_with("key `sizes`: "), "{}", at.message);
    }

    #[test]
    fn a_multi_line_array_names_the_key_it_opened_with() {
        let at = locate("threads = 1\nsizes = [\n  1024,\n  \"big\",\n]\n");
        assert_eq!(at.line, 4);
        assert!(at.message.starts_with("key `sizes`: "), "{}", at.message);
    }

    #[test]
    fn a_wrong_value_names_its_key_and_column() {
        let at = locate("# plan\nthreads = \"two\"\n");
        assert_eq!((at.line, at.column), (2, 11));
        assert!(at.message.starts_with("key `threads`: "), "{}", at.message);
    }

    #[test]
    fn an_unknown_key_is_named_once_by_the_parser() {
        let at = locate("threads = 1\nsizez = [1]\n");
        assert_eq!((at.line, at.column), (2, 1));
        assert!(
            at.message.starts_with("unknown field `sizez`"),
            "{}",
            at.message
        );
    }

    #[test]
    fn a_key_is_found_on_its_own_line_only() {
        let text = "# threads = 4\nname = \"threads = 2\"\nthreads = 0\n";
        assert_eq!(line_of_key(text, "threads"), Some(3));
        assert_eq!(line_of_key(text, "seed"), None);
    }

    #[test]
    fn multi_byte_text_before_the_error_counts_characters() {
        let at = locate("name = \"µ-plan\"\nthreads = x\n");
        assert_eq!((at.line, at.column), (2, 11));
        let at = locate("name = \"µµ\" x\n");
        assert_eq!(at.line, 1);
        assert_eq!(at.column, "name = \"µµ\" ".chars().count() + 1);
    }
}
