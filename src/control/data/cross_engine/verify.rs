//! Proving a clone into another engine holds what its source held: each table's columns in
//! one canonical text on both sides, hashed row by row in key order, and the columns that
//! differ named.

use super::TableCheck;
use crate::control::data::repartition::ident;
use crate::control::instances::connect::Connection;
use anyhow::Result;

/// One column as each side's catalog describes it.
#[derive(Debug, Clone)]
pub(super) struct Column {
    pub(super) name: String,
    /// MariaDB: `data_type`; PostgreSQL: `data_type` (`USER-DEFINED`, `ARRAY`, ...).
    pub(super) ty: String,
    /// MariaDB: `column_type` (`bit(8)`, `tinyint(1)`); PostgreSQL: `udt_name`.
    pub(super) detail: String,
}

const MY_INTEGERS: [&str; 6] = ["tinyint", "smallint", "mediumint", "int", "bigint", "year"];

const PG_NUMBERS: [&str; 4] = ["smallint", "integer", "bigint", "numeric"];

const MY_TEXTS: [&str; 7] = [
    "char",
    "varchar",
    "tinytext",
    "text",
    "mediumtext",
    "longtext",
    "enum",
];

const MY_BINARIES: [&str; 6] = [
    "binary",
    "varbinary",
    "tinyblob",
    "blob",
    "mediumblob",
    "longblob",
];

/// The same text for the same value on both sides: `(MariaDB expression, PostgreSQL
/// expression)` over the column, each NULL for NULL; None when no exact form is known.
///
/// Integers and decimals print alike. Floating-point values print their shortest digits in
/// either engine but in different notations, so both go through a decimal and lose their
/// trailing zeros. Booleans (pgloader's `tinyint(1)` and `bit(1)`) are 1 or 0; times and
/// timestamps are spelled out to the microsecond, timestamptz in UTC; zero dates are NULL,
/// as pgloader makes them; bytes are lowercase hex; sets are their members joined by commas.
pub(super) fn canonical(my: &Column, pg: &Column) -> Option<(String, String)> {
    let m = my_ident(&my.name);
    let p = ident(&pg.name);
    let (mt, pt) = (my.ty.as_str(), pg.ty.as_str());
    let pair = match (mt, pt) {
        (_, "boolean") if MY_INTEGERS.contains(&mt) || mt == "bit" => (
            format!("CASE WHEN {m} IS NULL THEN NULL WHEN {m} <> 0 THEN '1' ELSE '0' END"),
            format!("CASE WHEN {p} THEN '1' WHEN NOT {p} THEN '0' END"),
        ),
        _ if (MY_INTEGERS.contains(&mt) || mt == "decimal") && PG_NUMBERS.contains(&pt) => {
            (format!("CAST({m} AS CHAR)"), format!("{p}::text"))
        }
        ("float" | "double", "real" | "double precision" | "numeric") => (
            format!(
                "TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM CAST(CAST(CAST({m} AS CHAR) AS DECIMAL(65,30)) AS CHAR)))"
            ),
            format!("trim_scale(({p}::text)::numeric)::text"),
        ),
        _ if MY_TEXTS.contains(&mt)
            && matches!(
                pt,
                "text" | "character varying" | "character" | "json" | "USER-DEFINED"
            ) =>
        {
            (m.clone(), format!("{p}::text"))
        }
        ("set", "ARRAY") => (m.clone(), format!("array_to_string({p}, ',')")),
        ("set", "text" | "character varying") => (m.clone(), format!("{p}::text")),
        _ if MY_BINARIES.contains(&mt) && pt == "bytea" => {
            (format!("LOWER(HEX({m}))"), format!("encode({p}, 'hex')"))
        }
        ("date", "date") => (
            format!("NULLIF(DATE_FORMAT({m}, '%Y-%m-%d'), '0000-00-00')"),
            format!("to_char({p}, 'YYYY-MM-DD')"),
        ),
        ("datetime" | "timestamp", "timestamp with time zone" | "timestamp without time zone") => (
            format!(
                "NULLIF(DATE_FORMAT({m}, '%Y-%m-%d %H:%i:%s.%f'), '0000-00-00 00:00:00.000000')"
            ),
            if pt == "timestamp with time zone" {
                format!("to_char({p} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')")
            } else {
                format!("to_char({p}, 'YYYY-MM-DD HH24:MI:SS.US')")
            },
        ),
        ("time", "time without time zone") => (
            format!("TIME_FORMAT({m}, '%H:%i:%s.%f')"),
            format!("to_char({p}, 'HH24:MI:SS.US')"),
        ),
        ("bit", "bit" | "bit varying") => {
            let width: u32 = my
                .detail
                .trim_start_matches("bit(")
                .trim_end_matches(')')
                .parse()
                .ok()?;
            (
                format!("LPAD(BIN({m}), {width}, '0')"),
                format!("{p}::text"),
            )
        }
        ("uuid" | "inet6" | "inet4", "uuid" | "inet" | "text" | "character varying") => {
            (format!("CAST({m} AS CHAR)"), format!("{p}::text"))
        }
        _ => return None,
    };
    Some(pair)
}

/// The query giving a MariaDB table's row count, checksum and zero dates per date column.
pub(super) fn my_query(db: &str, table: &str, exprs: &[String], dates: &[String]) -> String {
    let row = row_text_my(exprs);
    let zeros: String = dates
        .iter()
        .map(|d| format!(", COALESCE(SUM(CAST({d} AS CHAR) LIKE '0000-00-00%'), 0)"))
        .collect();
    format!(
        "SELECT COUNT(*), COALESCE(SUM(CAST(CONV(LEFT(MD5({row}), 15), 16, 10) AS UNSIGNED)), 0){zeros} FROM {}.{}",
        my_ident(db),
        my_ident(table)
    )
}

fn row_text_my(exprs: &[String]) -> String {
    if exprs.is_empty() {
        return "''".into();
    }
    let parts: Vec<String> = exprs
        .iter()
        .map(|e| format!("COALESCE(CONVERT({e} USING utf8mb4), CHAR(30 USING utf8mb4))"))
        .collect();
    format!("CONCAT_WS(CHAR(31 USING utf8mb4), {})", parts.join(", "))
}

pub(super) fn pg_query(schema: &str, table: &str, exprs: &[String]) -> String {
    let row = if exprs.is_empty() {
        "''".to_string()
    } else {
        let parts: Vec<String> = exprs
            .iter()
            .map(|e| format!("coalesce({e}, chr(30))"))
            .collect();
        format!("concat_ws(chr(31), {})", parts.join(", "))
    };
    format!(
        "SELECT count(*), coalesce(sum(('x' || left(md5({row}), 15))::bit(60)::bigint), 0)::text FROM {}.{}",
        ident(schema),
        ident(table)
    )
}

/// Every table of one database counted and summed on both sides, at once.
pub(super) fn verify(
    my: &Connection,
    pg: &Connection,
    db: &str,
) -> Result<(Vec<TableCheck>, Vec<String>, String)> {
    let mut client = pg.pg_client(Some(db))?;
    let schema: String = client
        .query_opt(
            "SELECT nspname::text FROM pg_namespace WHERE lower(nspname) = lower($1) ORDER BY nspname = $1 DESC LIMIT 1",
            &[&db],
        )?
        .map(|r| r.get(0))
        .unwrap_or_else(|| "public".into());
    let mut pg_cols: std::collections::BTreeMap<String, Vec<Column>> = Default::default();
    for r in client.query(
        "SELECT c.table_name::text, c.column_name::text, c.data_type::text, c.udt_name::text
           FROM information_schema.columns c
           JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
          WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE'
          ORDER BY c.table_name, c.ordinal_position",
        &[&schema],
    )? {
        pg_cols
            .entry(r.get::<_, String>(0).to_lowercase())
            .or_default()
            .push(Column {
                name: r.get(1),
                ty: r.get(2),
                detail: r.get(3),
            });
    }
    let mut my_cols: std::collections::BTreeMap<String, Vec<Column>> = Default::default();
    for r in my.client_rows(
        &format!(
            "SELECT c.table_name, c.column_name, c.data_type, c.column_type
               FROM information_schema.columns c
               JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
              WHERE c.table_schema = '{db}' AND t.table_type = 'BASE TABLE'
              ORDER BY c.table_name, c.ordinal_position"
        ),
    )? {
        let [t, c, ty, detail] = <[String; 4]>::try_from(r)
            .map_err(|r| anyhow::anyhow!("an unexpected column list line: {r:?}"))?;
        my_cols.entry(t).or_default().push(Column {
            name: c,
            ty: ty.to_lowercase(),
            detail: detail.to_lowercase(),
        });
    }
    // Each table's expressions on both sides; what cannot be compared is named.
    struct Plan {
        table: String,
        /// Each compared column: its name and both sides' expressions.
        columns: Vec<(String, String, String)>,
        my_sql: String,
        pg_sql: Option<String>,
        uncompared: Vec<String>,
        dates: Vec<String>,
    }
    let mut plans = Vec::new();
    let mut notes = Vec::new();
    let mut saw_datetime = false;
    for (table, cols) in &my_cols {
        let target = pg_cols.get(&table.to_lowercase());
        let (mut mx, mut px, mut uncompared, mut dates) = (vec![], vec![], vec![], vec![]);
        let mut columns = Vec::new();
        // A table the copy lacks is marked so; its columns are not listed one by one.
        for c in cols.iter().filter(|_| target.is_some()) {
            let other =
                target.and_then(|cs| cs.iter().find(|p| p.name.eq_ignore_ascii_case(&c.name)));
            match other.and_then(|p| canonical(c, p)) {
                Some((m, p)) => {
                    columns.push((c.name.clone(), m.clone(), p.clone()));
                    mx.push(m);
                    px.push(p);
                }
                None if target.is_some() && other.is_none() => {
                    uncompared.push(format!("{} (missing in the copy)", c.name));
                }
                None => uncompared.push(format!(
                    "{} ({} → {})",
                    c.name,
                    c.detail,
                    other.map_or("?", |p| if p.ty == "USER-DEFINED" || p.ty == "ARRAY" {
                        p.detail.as_str()
                    } else {
                        p.ty.as_str()
                    })
                )),
            }
            if matches!(c.ty.as_str(), "date" | "datetime" | "timestamp") {
                dates.push(my_ident(&c.name));
            }
            if c.ty == "datetime" && !saw_datetime {
                saw_datetime = true;
                notes.push(format!(
                    "{db}: DATETIME values were read as UTC into timestamptz columns"
                ));
            }
            if c.detail == "tinyint(1)" || c.detail == "bit(1)" {
                if let Some(p) = other.filter(|p| p.ty == "boolean") {
                    notes.push(format!(
                        "{db}.{table}.{}: {} became boolean (nonzero is true)",
                        p.name, c.detail
                    ));
                }
            }
        }
        plans.push(Plan {
            table: table.clone(),
            columns,
            my_sql: my_query(db, table, &mx, &dates),
            pg_sql: target.map(|_| pg_query(&schema, &table.to_lowercase(), &px)),
            uncompared,
            dates,
        });
    }
    // MariaDB's side in one client run, PostgreSQL's beside it.
    let my_sql: String = plans
        .iter()
        .map(|p| format!("{};", p.my_sql))
        .collect::<Vec<_>>()
        .join("\n");
    let (my_rows, pg_rows) = std::thread::scope(|s| {
        let m = s.spawn(|| my.client_rows(&my_sql));
        let p: Result<Vec<Option<(i64, String)>>> = plans
            .iter()
            .map(|p| {
                p.pg_sql
                    .as_ref()
                    .map(|q| {
                        let r = client.query_one(q.as_str(), &[])?;
                        Ok((r.get::<_, i64>(0), r.get::<_, String>(1)))
                    })
                    .transpose()
            })
            .collect();
        (
            m.join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("the MariaDB count panicked"))),
            p,
        )
    });
    let (my_rows, pg_rows) = (my_rows?, pg_rows?);
    if my_rows.len() != plans.len() {
        anyhow::bail!(
            "the MariaDB counts of {db} came back as {} lines for {} tables",
            my_rows.len(),
            plans.len()
        );
    }
    let mut checks = Vec::new();
    for ((plan, mine), theirs) in plans.iter().zip(&my_rows).zip(&pg_rows) {
        let rows: i64 = mine.first().and_then(|v| v.parse().ok()).unwrap_or(-1);
        let sum = mine.get(1).cloned().unwrap_or_default();
        for (d, zeros) in plan.dates.iter().zip(mine.iter().skip(2)) {
            if zeros != "0" {
                notes.push(format!(
                    "{db}.{}.{}: {zeros} zero dates became NULL",
                    plan.table,
                    d.trim_matches('`')
                ));
            }
        }
        let (target_rows, equal) = match theirs {
            Some((n, s)) => (Some(*n), *s == sum),
            None => (None, false),
        };
        // The same rows, different values: which columns differ.
        let differing = if target_rows == Some(rows) && !equal {
            differing_columns(my, &mut client, db, &schema, &plan.table, &plan.columns)?
        } else {
            Vec::new()
        };
        checks.push(TableCheck {
            table: format!("{db}.{}", plan.table),
            source_rows: rows,
            target_rows,
            checksum_equal: equal,
            ok: target_rows == Some(rows) && equal,
            uncompared: plan.uncompared.clone(),
            differing,
        });
    }
    Ok((checks, notes, schema))
}

/// The columns of a table whose values differ between the sides: each column's own sum of
/// row hashes, compared.
fn differing_columns(
    my: &Connection,
    pg: &mut postgres::Client,
    db: &str,
    schema: &str,
    table: &str,
    columns: &[(String, String, String)],
) -> Result<Vec<String>> {
    if columns.is_empty() {
        return Ok(Vec::new());
    }
    let mine: Vec<String> = columns
        .iter()
        .map(|(_, m, _)| {
            format!(
                "COALESCE(SUM(CAST(CONV(LEFT(MD5({}), 15), 16, 10) AS UNSIGNED)), 0)",
                row_text_my(std::slice::from_ref(m))
            )
        })
        .collect();
    let theirs: Vec<String> = columns
        .iter()
        .map(|(_, _, p)| {
            format!(
                "coalesce(sum(('x' || left(md5(coalesce({p}, chr(30))), 15))::bit(60)::bigint), 0)::text"
            )
        })
        .collect();
    let mine = my
        .client_rows(&format!(
            "SELECT {} FROM {}.{}",
            mine.join(", "),
            my_ident(db),
            my_ident(table)
        ))?
        .into_iter()
        .next()
        .unwrap_or_default();
    let row = pg.query_one(
        &format!(
            "SELECT {} FROM {}.{}",
            theirs.join(", "),
            ident(schema),
            ident(&table.to_lowercase())
        ),
        &[],
    )?;
    Ok(columns
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            mine.get(*i).map(String::as_str) != Some(row.get::<_, String>(*i).as_str())
        })
        .map(|(_, (name, _, _))| name.clone())
        .collect())
}

pub(super) fn my_ident(s: &str) -> String {
    format!("`{}`", s.replace('`', "``"))
}
