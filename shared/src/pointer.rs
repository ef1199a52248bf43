//! JSON Pointers (RFC 6901): the paths reducers, upcasters and patches use.
//!
//! A pointer is `""` (the whole document) or `/` followed by reference
//! tokens separated by `/`; within a token, `~1` stands for `/` and `~0`
//! for `~`. Every module that reads or writes pointers does it here.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// A reference token as it appears in a pointer (`a/b` -> `a~1b`).
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A reference token as written in a pointer, decoded (`a~1b` -> `a/b`).
pub fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// The decoded tokens of a pointer (`"/a/b~1c"` -> `["a", "b/c"]`); `None`
/// for text that is not a pointer (it does not start with `/` and is not
/// empty).
pub fn tokens(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    let rest = pointer.strip_prefix('/')?;
    Some(rest.split('/').map(unescape).collect())
}

/// The pointer of a list of decoded tokens (the inverse of [`tokens`]).
pub fn join<S: AsRef<str>>(tokens: &[S]) -> String {
    tokens
        .iter()
        .map(|t| format!("/{}", escape(t.as_ref())))
        .collect()
}

/// The pointer of a parent pointer and one more decoded token.
pub fn child(parent: &str, token: &str) -> String {
    format!("{parent}/{}", escape(token))
}

/// The parent pointer and the decoded last token of a non-empty pointer.
pub fn split_last(pointer: &str) -> Option<(&str, String)> {
    let (parent, last) = pointer.rsplit_once('/')?;
    Some((parent, unescape(last)))
}

/// The slot at `path`, creating missing objects on the way; `Value::Null`
/// when the last member does not exist yet.
pub fn slot<'a>(
    state: &'a mut Value,
    path: &[String],
) -> std::result::Result<&'a mut Value, String> {
    let mut here = state;
    for (depth, token) in path.iter().enumerate() {
        if here.is_null() {
            *here = Value::Object(Map::new());
        }
        here = match here {
            // Look the member up before making a key for it: most steps
            // write a member that exists.
            Value::Object(map) => {
                if !map.contains_key(token) {
                    map.insert(token.clone(), Value::Null);
                }
                map.get_mut(token).expect("inserted above")
            }
            Value::Array(items) => {
                let index = token
                    .parse::<usize>()
                    .ok()
                    .filter(|&i| i < items.len())
                    .ok_or_else(|| {
                        format!("{} is not an index of the array", join(&path[..=depth]))
                    })?;
                &mut items[index]
            }
            other => {
                return Err(format!(
                    "{} holds {}, not an object",
                    join(&path[..depth]),
                    crate::json::type_name(other)
                ))
            }
        };
    }
    Ok(here)
}

/// A JSON pointer argument: empty (the whole value) or starting with `/`.
pub fn check_argument(field: &str, p: &str) -> Result<()> {
    if p.is_empty() || p.starts_with('/') {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("is not a JSON pointer: {p:?}"),
            "A JSON pointer starts with /, e.g. \"/data/price\".",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        for p in ["", "/a", "/a/b~1c/~0d", "/", "/items/0"] {
            assert_eq!(join(&tokens(p).unwrap()), p, "{p}");
        }
        assert_eq!(tokens("/a~1b/~01").unwrap(), vec!["a/b", "~1"]);
        assert_eq!(tokens("a/b"), None);
        assert_eq!(child("/x", "a/b"), "/x/a~1b");
        assert_eq!(split_last("/x/a~1b"), Some(("/x", "a/b".to_string())));
        assert_eq!(split_last(""), None);
    }
}
