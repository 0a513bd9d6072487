//! `dbctl check`: the engine's own integrity checks of an instance's data and the DBA's
//! queries, run on its host (`Op::Check`); what a drill runs on its scratch copy.

use crate::control::base::error::invalid;
use crate::control::base::home::Ctx;
use crate::wire::{CheckReport, CheckSpec, Op};
use anyhow::{Context, Result};
use std::path::Path;

/// The statements of a file of SQL: split at each `;` outside quotes and comments, blank
/// ones dropped.
pub fn statements(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                cur.push(c);
                if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' | '`' => {
                    quote = Some(c);
                    cur.push(c);
                }
                '-' if chars.peek() == Some(&'-') => {
                    // A comment to the end of the line.
                    for n in chars.by_ref() {
                        if n == '\n' {
                            cur.push('\n');
                            break;
                        }
                    }
                }
                ';' => out.push(std::mem::take(&mut cur)),
                _ => cur.push(c),
            },
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The queries in `file`, read and split.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] when the file cannot be read or holds no query.
pub fn queries_in(file: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading {}", file.display()))
        .map_err(|e| {
            invalid(
                format!("{e:#}"),
                "give a file of SQL queries separated by `;`",
            )
        })?;
    let qs = statements(&text);
    if qs.is_empty() {
        return Err(invalid(
            format!("{} holds no query", file.display()),
            "put one or more queries in it, separated by `;`",
        ));
    }
    Ok(qs)
}

/// Runs the checks of instance `name` on its host.
///
/// # Errors
/// Unknown instance or one not running; its host does not answer.
pub fn run(
    ctx: &Ctx,
    name: &str,
    database: Option<&str>,
    queries: Vec<String>,
) -> Result<CheckReport> {
    let inst = crate::control::base::lookup::instance(ctx, name)?;
    let host_id = inst.host_id.ok_or_else(|| {
        invalid(
            format!("instance `{name}` has no host"),
            "see `dbctl describe`",
        )
    })?;
    let host = crate::catalog::hosts::get(ctx.catalog.conn(), host_id)?;
    let v = crate::control::hosts::reach::call(
        &host,
        Op::Check(CheckSpec {
            instance: inst.uid.clone(),
            database: database.map(str::to_string),
            queries,
        }),
    )
    .map_err(|e| match e {
        crate::transport::CallError::Remote(w)
            if w.code == crate::wire::ErrorCode::InvalidInput =>
        {
            invalid(
                format!("{name}: {}", w.message),
                w.hint.map(|h| h.replace("NAME", name)).unwrap_or_else(|| {
                    format!("name a database it has (`dbctl connect {name} -- -l` lists them)")
                }),
            )
        }
        e => crate::control::hosts::reach::explain_for(&host, e),
    })?;
    Ok(serde_json::from_value(v)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_at_semicolons_outside_quotes_and_comments() {
        let text = "select 1;\n-- a note; not a split\nselect 'a;b' = 'a;b';\n\nselect \"x;\" from t -- trailing; here\n;  ;";
        assert_eq!(
            statements(text),
            vec!["select 1", "select 'a;b' = 'a;b'", "select \"x;\" from t"]
        );
        assert!(statements(" ; \n-- only a comment\n").is_empty());
    }
}
