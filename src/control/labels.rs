//! `--label KEY=VALUE`: read and checked once for every command that takes labels.

use super::error::invalid;
use anyhow::Result;

/// `KEY=VALUE` pairs as given: a key of 1-63 lowercase letters, digits and `._-/`, a value
/// of up to 63 letters, digits and `._-`.
///
/// # Errors
/// [`super::error::Invalid`] naming the first bad one.
pub fn parse(given: &[String]) -> Result<Vec<(String, String)>> {
    given
        .iter()
        .map(|l| {
            let bad = || {
                invalid(
                    format!("`{l}` is not a label"),
                    "give KEY=VALUE: a key of lowercase letters, digits and ._-/ (up to 63), a value of letters, digits and ._- (up to 63)",
                )
            };
            let (k, v) = l.split_once('=').ok_or_else(bad)?;
            let key_ok = (1..=63).contains(&k.len())
                && k.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c));
            let value_ok = v.len() <= 63
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
            if key_ok && value_ok {
                Ok((k.to_string(), v.to_string()))
            } else {
                Err(bad())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_key_equals_value() {
        assert_eq!(
            parse(&["env=prod".into(), "team/db=core".into()]).unwrap(),
            vec![
                ("env".into(), "prod".into()),
                ("team/db".into(), "core".into())
            ]
        );
        for bad in ["env", "=x", "Env=prod", "env=pr od", "env=a;b"] {
            assert!(parse(&[bad.to_string()]).is_err(), "{bad}");
        }
    }
}
