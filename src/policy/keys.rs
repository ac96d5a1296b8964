//! Key spellings: the camelCase alias of each snake_case key, and the
//! nearest valid name for a misspelt one.

/// Converts a snake_case key to the camelCase spelling TypeScript callers
/// use: `inside_worktree` becomes `insideWorktree`.
pub(crate) fn camel_case(snake: &str) -> String {
    let mut camel = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            camel.extend(c.to_uppercase());
            upper = false;
        } else {
            camel.push(c);
        }
    }
    camel
}

/// Returns the canonical key that `raw` spells, in snake_case or camelCase.
pub(crate) fn canonical_key(raw: &str, keys: &[&'static str]) -> Option<&'static str> {
    keys.iter().copied().find(|key| *key == raw || camel_case(key) == raw)
}

/// Returns the valid name closest to `raw` by edit distance, if it is close
/// enough to be a likely typo. A camelCase `raw` gets a camelCase suggestion.
pub(crate) fn nearest_key(raw: &str, keys: &[&'static str]) -> Option<String> {
    let camel = raw.chars().any(|c| c.is_ascii_uppercase());
    let spell = |key: &str| if camel { camel_case(key) } else { key.to_string() };
    nearest(raw, keys.iter().map(|key| spell(key)))
}

/// Returns the candidate closest to `raw` if at most about a third of its
/// characters differ.
pub(crate) fn nearest(raw: &str, candidates: impl IntoIterator<Item = String>) -> Option<String> {
    let limit = (raw.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(&raw.to_lowercase(), &candidate.to_lowercase()), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance, counted in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (cb, pair) in b.iter().zip(previous.windows(2)) {
            let (diagonal, above) = match pair {
                [diagonal, above] => (*diagonal, *above),
                _ => continue,
            };
            let left = current.last().copied().unwrap_or(i + 1);
            let substitution = diagonal + usize::from(ca != *cb);
            current.push(substitution.min(above + 1).min(left + 1));
        }
        previous = current;
    }
    previous.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_joins_words() {
        assert_eq!(camel_case("inside_worktree"), "insideWorktree");
        assert_eq!(camel_case("other"), "other");
    }

    #[test]
    fn nearest_key_matches_spelling_style() {
        let keys = ["file_edit", "file_read", "network_access"];
        assert_eq!(nearest_key("file_edt", &keys), Some("file_edit".to_string()));
        assert_eq!(nearest_key("fileEdt", &keys), Some("fileEdit".to_string()));
        assert_eq!(nearest_key("budget", &keys), None);
    }

    #[test]
    fn edit_distance_counts_changes() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
