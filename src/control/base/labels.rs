//! `--label KEY=VALUE`: read and checked once for every command that takes labels.

use crate::control::base::error::invalid;
use anyhow::Result;

/// `KEY=VALUE` pairs as given: a key of 1-63 lowercase letters, digits and `._-/`, a value
/// of up to 63 letters, digits and `._-`.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] naming the first bad one.
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

/// What `dbctl label` changes labels on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    Instance,
    Host,
    Snapshot,
}

/// Changes the labels of the instance, host or snapshot `name` as kubectl's `label` does:
/// `KEY=VALUE` sets a label (a key given again takes the new value), `KEY-` takes one off.
/// All of them or none, and one event saying what changed. Returns the labels after.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] for an unknown name, a bad change, or none at all.
pub fn change(
    ctx: &mut crate::control::base::home::Ctx,
    on: On,
    name: &str,
    changes: &[String],
) -> Result<std::collections::BTreeMap<String, String>> {
    use crate::catalog::labels::{self as rows, kind};
    if changes.is_empty() {
        return Err(invalid(
            "no label to change",
            "give KEY=VALUE to set a label, KEY- to take one off",
        ));
    }
    let mut set = Vec::new();
    let mut unset = Vec::new();
    for c in changes {
        match c.strip_suffix('-').filter(|k| !k.contains('=')) {
            Some(key) => {
                // A key to take off is checked as a key to set would be.
                parse(&[format!("{key}=x")]).map_err(|_| {
                    invalid(
                        format!("`{c}` is not a label key to take off"),
                        "give KEY- with a key of lowercase letters, digits and ._-/",
                    )
                })?;
                unset.push(key.to_string());
            }
            None => set.extend(parse(std::slice::from_ref(c))?),
        }
    }
    if let Some(k) = unset.iter().find(|k| set.iter().any(|(s, _)| s == *k)) {
        return Err(invalid(
            format!("label `{k}` is both set and taken off"),
            "give each key once",
        ));
    }
    let (what, id, instance) = match on {
        On::Instance => {
            let i = crate::control::base::lookup::instance(ctx, name)?;
            (kind::INSTANCE, i.id, Some((i.id, i.name)))
        }
        On::Host => (
            kind::HOST,
            crate::control::base::lookup::host(ctx, name)?.id,
            None,
        ),
        On::Snapshot => {
            let s = name
                .parse::<i64>()
                .ok()
                .and_then(|id| crate::catalog::snapshots::find(ctx.catalog.conn(), id).transpose())
                .transpose()?
                .ok_or_else(|| {
                    invalid(
                        format!("no snapshot {name}"),
                        "`dbctl snapshot list` shows the snapshots and their ids",
                    )
                })?;
            (kind::SNAPSHOT, s.id, Some((s.instance_id, s.instance_name)))
        }
    };
    let mut said: Vec<String> = set.iter().map(|(k, v)| format!("{k}={v}")).collect();
    said.extend(unset.iter().map(|k| format!("{k}-")));
    ctx.catalog.write(|tx| {
        rows::set(tx, what, id, &set)?;
        for k in &unset {
            rows::remove(tx, what, id, k)?;
        }
        crate::catalog::events::add(
            tx,
            instance.as_ref().map(|(i, n)| (*i, n.as_str())),
            None,
            "labels_changed",
            &format!("{what} {name}: {}", said.join(" ")),
        )
    })?;
    rows::of(ctx.catalog.conn(), what, id)
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
