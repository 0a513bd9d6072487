//! Validation of user-chosen names (instances, hosts): DNS-label rules.

use crate::control::base::error::invalid;
use anyhow::Result;

/// # Errors
/// [`crate::control::base::error::Invalid`] naming the rule that `name` breaks.
pub fn check(kind: &str, name: &str) -> Result<()> {
    let fix = "use 1-63 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen";
    let problem = if name.is_empty() {
        Some("is empty")
    } else if name.len() > 63 {
        Some("is longer than 63 characters")
    } else if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        Some("does not start with a lowercase letter")
    } else if name.ends_with('-') {
        Some("ends with a hyphen")
    } else if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        Some("has characters other than a-z, 0-9 and -")
    } else {
        None
    };
    match problem {
        Some(p) => Err(invalid(
            format!("invalid {kind} name `{name}`: it {p}"),
            fix,
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_label_rules() {
        for ok in ["a", "prod", "db-1", "a1b2", &"a".repeat(63)] {
            assert!(check("instance", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1db",
            "-a",
            "a-",
            "Prod",
            "a_b",
            "a.b",
            "a b",
            &"a".repeat(64),
        ] {
            assert!(check("instance", bad).is_err(), "{bad}");
        }
    }
}
