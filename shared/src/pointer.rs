//! JSON Pointers (RFC 6901): the paths reducers, upcasters and patches use.
//!
//! A pointer is `""` (the whole document) or `/` followed by reference
//! tokens separated by `/`; within a token, `~1` stands for `/` and `~0`
//! for `~`. Every module that reads or writes pointers does it here.

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
