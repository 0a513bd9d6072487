//! The catalog's connection to its database: an SQLite file in the home (one DBA, the
//! default) or a PostgreSQL database a team shares. Every table module writes its SQL once,
//! in the subset both speak (`?N` placeholders, `INSERT ... ON CONFLICT`, `RETURNING`), and
//! reads rows as [`Value`]s, so neither engine's types leak above this module.
//!
//! PostgreSQL gets the placeholders it spells `$N`, and its parameters are encoded as the
//! type the server infers for them (an integer bound where it wants text is sent as text),
//! as SQLite's dynamic typing would take them.

use anyhow::{anyhow, bail, Context, Result};
use std::cell::RefCell;

/// One value in or out of the database.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

/// What can be bound as a parameter.
pub trait ToValue {
    fn to_value(&self) -> Value;
}

/// What a column can be read as.
pub trait FromValue: Sized {
    /// # Errors
    /// The value is of another kind.
    fn from_value(v: &Value) -> Result<Self>;
}

macro_rules! int_values {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Int(*self as i64)
            }
        }
        impl FromValue for $t {
            fn from_value(v: &Value) -> Result<Self> {
                match v {
                    Value::Int(i) => <$t>::try_from(*i)
                        .map_err(|_| anyhow!("{i} does not fit a {}", stringify!($t))),
                    Value::Real(f) if f.fract() == 0.0 => Ok(*f as $t),
                    other => bail!("expected an integer, found {other:?}"),
                }
            }
        }
    )*};
}
int_values!(i64, i32, u32, u16, u64, usize);

impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}
impl FromValue for f64 {
    fn from_value(v: &Value) -> Result<Self> {
        match v {
            Value::Real(f) => Ok(*f),
            Value::Int(i) => Ok(*i as f64),
            other => bail!("expected a number, found {other:?}"),
        }
    }
}
impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}
impl FromValue for bool {
    fn from_value(v: &Value) -> Result<Self> {
        match v {
            Value::Int(i) => Ok(*i != 0),
            other => bail!("expected a boolean, found {other:?}"),
        }
    }
}
impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl FromValue for String {
    fn from_value(v: &Value) -> Result<Self> {
        match v {
            Value::Text(s) => Ok(s.clone()),
            other => bail!("expected text, found {other:?}"),
        }
    }
}
impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Result<Self> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}
impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

/// Parameters for a statement, as `params![a, b]` writes them.
pub type Params<'a> = &'a [&'a dyn ToValue];

/// What a statement's parameters can be given as: `params![...]`, `[]`, or an array of
/// values of one type (`[id]`).
pub trait IntoParams {
    fn values(&self) -> Vec<Value>;
}

impl IntoParams for &[&dyn ToValue] {
    fn values(&self) -> Vec<Value> {
        self.iter().map(|p| p.to_value()).collect()
    }
}

impl IntoParams for [&dyn ToValue; 0] {
    fn values(&self) -> Vec<Value> {
        Vec::new()
    }
}

macro_rules! array_params {
    ($($n:literal),*) => {$(
        impl<T: ToValue> IntoParams for [T; $n] {
            fn values(&self) -> Vec<Value> {
                self.iter().map(ToValue::to_value).collect()
            }
        }
    )*};
}
array_params!(1, 2, 3, 4, 5, 6, 7, 8);

/// The error a query that must return a row gives when it returns none.
#[derive(Debug)]
pub struct NoRows;

impl std::fmt::Display for NoRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the catalog has no such row")
    }
}

impl std::error::Error for NoRows {}

/// `.optional()` on a single-row query: no row is None, not an error.
pub trait OptionalExtension<T> {
    /// # Errors
    /// Any error but the query having returned no row.
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is::<NoRows>() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A statement to run with [`Stmt::query_map`] (the shape rusqlite gives it).
pub struct Stmt<'a> {
    conn: &'a Conn,
    sql: String,
}

impl Stmt<'_> {
    /// Every row, each made into a `T` by `f`.
    ///
    /// # Errors
    /// The query fails (a failing `f` is in the items).
    pub fn query_map<T>(
        &mut self,
        params: impl IntoParams,
        f: impl FnMut(&Row) -> Result<T>,
    ) -> Result<std::vec::IntoIter<Result<T>>> {
        let rows = self.conn.rows(&self.sql, &params.values())?;
        Ok(rows.iter().map(f).collect::<Vec<_>>().into_iter())
    }
}

/// `params![a, b, c]`: a statement's parameters, `?1`, `?2`, `?3` in order.
#[macro_export]
macro_rules! params {
    () => { &[] as &[&dyn $crate::catalog::db::ToValue] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::catalog::db::ToValue),+] as &[&dyn $crate::catalog::db::ToValue] };
}
pub use crate::params;

/// One row of a result.
pub struct Row {
    values: Vec<Value>,
}

impl Row {
    /// Column `i` as a `T`.
    ///
    /// # Errors
    /// No such column, or a value of another kind.
    pub fn get<T: FromValue>(&self, i: usize) -> Result<T> {
        let v = self
            .values
            .get(i)
            .ok_or_else(|| anyhow!("no column {i} in the row"))?;
        T::from_value(v).with_context(|| format!("reading column {i}"))
    }
}

/// Which database a connection speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

enum Backend {
    Sqlite(rusqlite::Connection),
    Postgres(Box<RefCell<postgres::Client>>),
}

/// A connection to the catalog's database.
pub struct Conn {
    backend: Backend,
}

/// What the PostgreSQL server (or the client library) said, in its own words, with what to
/// do: the library's own text is "db error" or "invalid configuration" alone.
fn pg_words(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let hint = match db.code().code() {
            "28P01" | "28000" => {
                "; check the user and password in DBCTL_CATALOG (or config.toml's `catalog`)"
            }
            "3D000" => "; create that database (`createdb NAME` on the server) or fix the URL",
            "42501" => "; grant the catalog's user the right to create tables in that database",
            _ => "",
        };
        return format!("{}{hint}", db.message());
    }
    // The cause under the library's summary: refused, timed out, a URL it cannot read.
    let mut said = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        said = c.to_string();
        cause = c.source();
    }
    let text = e.to_string();
    if text.contains("invalid configuration") || text.contains("invalid connection string") {
        format!("the catalog URL is not valid ({said}); write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE")
    } else if said.contains("refused") {
        format!("{said}; is the PostgreSQL server running, and listening where the URL says?")
    } else if said == text {
        said
    } else {
        format!("{text}: {said}")
    }
}

impl Conn {
    pub fn sqlite(conn: rusqlite::Connection) -> Self {
        Self {
            backend: Backend::Sqlite(conn),
        }
    }

    /// Connects to the PostgreSQL catalog at `url` (`postgres://user:password@host:port/db`).
    ///
    /// # Errors
    /// The server does not answer or refuses the login.
    pub fn postgres(url: &str) -> Result<Self> {
        let client = postgres::Client::connect(url, postgres::NoTls)
            .map_err(|e| anyhow!("connecting to the PostgreSQL catalog: {}", pg_words(&e)))?;
        Ok(Self {
            backend: Backend::Postgres(Box::new(RefCell::new(client))),
        })
    }

    pub fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The time now by the database's clock (RFC 3339, UTC, milliseconds): what leases and
    /// heartbeats are written and judged by, so control machines whose clocks disagree
    /// still agree on who holds what. An SQLite catalog is on this machine: its clock.
    ///
    /// # Errors
    /// The server does not answer.
    pub fn now(&self) -> Result<String> {
        match self.dialect() {
            Dialect::Sqlite => Ok(super::now()),
            Dialect::Postgres => self.query_row(
                "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
                [],
                |r| r.get(0),
            ),
        }
    }

    /// Runs one statement; the number of rows it changed.
    ///
    /// # Errors
    /// The statement fails.
    pub fn execute(&self, sql: &str, params: impl IntoParams) -> Result<usize> {
        let params = params.values();
        match &self.backend {
            Backend::Sqlite(c) => {
                Ok(c.execute(sql, rusqlite::params_from_iter(sqlite_params(&params)))?)
            }
            Backend::Postgres(c) => {
                let values = pg_params(&params);
                let refs = pg_refs(&values);
                let n = c
                    .borrow_mut()
                    .execute(&dollar_placeholders(sql), &refs)
                    .map_err(|e| pg_error(e, sql))?;
                Ok(n as usize)
            }
        }
    }

    /// Runs statements that take no parameters, one after another.
    ///
    /// # Errors
    /// One fails (those before it have run).
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Backend::Postgres(c) => c
                .borrow_mut()
                .batch_execute(sql)
                .map_err(|e| pg_error(e, sql)),
        }
    }

    /// Every row of a query, each made into a `T` by `f`.
    ///
    /// # Errors
    /// The query fails, or `f` does.
    pub fn query_all<T>(
        &self,
        sql: &str,
        params: impl IntoParams,
        mut f: impl FnMut(&Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.rows(sql, &params.values())?
            .iter()
            .map(&mut f)
            .collect()
    }

    /// A statement for [`Stmt::query_map`].
    ///
    /// # Errors
    /// Never: the statement is prepared when it runs.
    pub fn prepare(&self, sql: &str) -> Result<Stmt<'_>> {
        Ok(Stmt {
            conn: self,
            sql: sql.to_string(),
        })
    }

    /// The id the last INSERT on this connection gave its row.
    ///
    /// # Errors
    /// The database cannot say.
    pub fn last_insert_rowid(&self) -> Result<i64> {
        match &self.backend {
            Backend::Sqlite(c) => Ok(c.last_insert_rowid()),
            // The identity column's sequence, as this session last drew from it.
            Backend::Postgres(_) => self.query_row("SELECT lastval()", [], |r| r.get(0)),
        }
    }

    /// The first row of a query, if there is one.
    ///
    /// # Errors
    /// The query fails, or `f` does.
    pub fn query_opt<T>(
        &self,
        sql: &str,
        params: impl IntoParams,
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<Option<T>> {
        self.rows(sql, &params.values())?.first().map(f).transpose()
    }

    /// The first row of a query, which must be there.
    ///
    /// # Errors
    /// The query fails or returns nothing, or `f` fails.
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: impl IntoParams,
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<T> {
        self.query_opt(sql, params, f)?
            .ok_or_else(|| anyhow::Error::new(NoRows))
    }

    /// Runs an INSERT and returns the `id` the new row got.
    ///
    /// # Errors
    /// The insert fails.
    pub fn insert_id(&self, sql: &str, params: impl IntoParams) -> Result<i64> {
        self.query_row(&format!("{sql} RETURNING id"), params, |r| r.get(0))
    }

    fn rows(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        match &self.backend {
            Backend::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let n = st.column_count();
                let mut rows = st.query(rusqlite::params_from_iter(sqlite_params(params)))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let values = (0..n)
                        .map(|i| {
                            Ok(match r.get_ref(i)? {
                                rusqlite::types::ValueRef::Null => Value::Null,
                                rusqlite::types::ValueRef::Integer(i) => Value::Int(i),
                                rusqlite::types::ValueRef::Real(f) => Value::Real(f),
                                rusqlite::types::ValueRef::Text(t) => {
                                    Value::Text(String::from_utf8_lossy(t).into_owned())
                                }
                                rusqlite::types::ValueRef::Blob(b) => {
                                    Value::Text(String::from_utf8_lossy(b).into_owned())
                                }
                            })
                        })
                        .collect::<Result<Vec<_>>>()?;
                    out.push(Row { values });
                }
                Ok(out)
            }
            Backend::Postgres(c) => {
                let values = pg_params(params);
                let refs = pg_refs(&values);
                let rows = c
                    .borrow_mut()
                    .query(&dollar_placeholders(sql), &refs)
                    .map_err(|e| pg_error(e, sql))?;
                rows.iter()
                    .map(|r| {
                        let values = (0..r.len())
                            .map(|i| {
                                r.try_get::<_, PgValue>(i)
                                    .map(|v| v.0)
                                    .map_err(|e| anyhow!("reading column {i}: {e}"))
                            })
                            .collect::<Result<Vec<_>>>()?;
                        Ok(Row { values })
                    })
                    .collect()
            }
        }
    }

    /// Starts a transaction that writes, holding the catalog's one write lock until it
    /// ends: SQLite's IMMEDIATE lock, and on PostgreSQL an advisory lock that does the same.
    /// Every write transaction may then read, decide and write (a workflow's claim, a
    /// placement's re-check) as if it were alone, on either database.
    ///
    /// # Errors
    /// The database refuses.
    pub fn begin(&self) -> Result<()> {
        self.execute_batch(match self.dialect() {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN; SELECT pg_advisory_xact_lock(7326482191)",
        })
    }

    /// Begins a transaction that claims rows one by one instead of excluding every other
    /// writer: on PostgreSQL a plain transaction whose reads of the rows it claims say
    /// [`Conn::skip_locked`] (rows another claimer holds are passed over, not waited for);
    /// SQLite has only the one lock, IMMEDIATE.
    ///
    /// # Errors
    /// The database refuses.
    pub fn begin_claim(&self) -> Result<()> {
        self.execute_batch(match self.dialect() {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        })
    }

    /// What a query that claims the rows it reads ends with: `FOR UPDATE SKIP LOCKED` on
    /// PostgreSQL (a row another transaction is claiming is not returned), nothing on SQLite
    /// (its transaction already excludes every other writer).
    pub fn skip_locked(&self) -> &'static str {
        match self.dialect() {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// # Errors
    /// The commit fails (the transaction is then rolled back).
    pub fn commit(&self) -> Result<()> {
        self.execute_batch("COMMIT")
    }

    /// # Errors
    /// The database refuses.
    pub fn rollback(&self) -> Result<()> {
        self.execute_batch("ROLLBACK")
    }
}

fn sqlite_params(params: &[Value]) -> Vec<rusqlite::types::Value> {
    params
        .iter()
        .map(|p| match p {
            Value::Null => rusqlite::types::Value::Null,
            Value::Int(i) => rusqlite::types::Value::Integer(*i),
            Value::Real(f) => rusqlite::types::Value::Real(*f),
            Value::Text(s) => rusqlite::types::Value::Text(s.clone()),
        })
        .collect()
}

fn pg_params(params: &[Value]) -> Vec<PgValue> {
    params.iter().cloned().map(PgValue).collect()
}

fn pg_refs(values: &[PgValue]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    values
        .iter()
        .map(|v| v as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

/// The server's message, with the statement it was about (for whoever reads the log).
fn pg_error(e: postgres::Error, sql: &str) -> anyhow::Error {
    let what: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    let what: String = what.chars().take(160).collect();
    match e.as_db_error() {
        Some(db) => anyhow!("the PostgreSQL catalog: {} (in: {what})", db.message()),
        None => anyhow!("the PostgreSQL catalog: {e} (in: {what})"),
    }
}

/// The tail that makes an INSERT of `cols` replace the row with the same `key` (what
/// SQLite's `INSERT OR REPLACE` does, in the spelling both databases take).
pub fn on_conflict_replace(cols: &str, key: &[&str]) -> String {
    let sets: Vec<String> = cols
        .split(',')
        .map(str::trim)
        .filter(|c| !key.contains(c))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        " ON CONFLICT ({}) DO UPDATE SET {}",
        key.join(", "),
        sets.join(", ")
    )
}

/// SQLite's `?N` placeholders as PostgreSQL's `$N`; a bare `?` takes the next number.
/// Quoted text is left alone.
pub fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut quote: Option<char> = None;
    let mut next = 1;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), c) => out.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (None, '?') => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    digits = next.to_string();
                    next += 1;
                }
                out.push('$');
                out.push_str(&digits);
            }
            (None, c) => out.push(c),
        }
    }
    out
}

/// A [`Value`] as PostgreSQL sends and takes it: encoded as whatever type the server wants
/// for the parameter, decoded from the types the catalog's schema uses.
#[derive(Debug)]
struct PgValue(Value);

impl postgres::types::ToSql for PgValue {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>>
    {
        use postgres::types::{IsNull, Type};
        let bad = || format!("cannot send {:?} as {ty}", self.0);
        match (&self.0, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Int(i), &Type::INT8) => i.to_sql(ty, out),
            (Value::Int(i), &Type::INT4) => i32::try_from(*i).map_err(|_| bad())?.to_sql(ty, out),
            (Value::Int(i), &Type::INT2) => i16::try_from(*i).map_err(|_| bad())?.to_sql(ty, out),
            (Value::Int(i), &Type::FLOAT8) => (*i as f64).to_sql(ty, out),
            (Value::Int(i), &Type::BOOL) => (*i != 0).to_sql(ty, out),
            (Value::Int(i), _) => i.to_string().to_sql(&Type::TEXT, out),
            (Value::Real(f), &Type::FLOAT8) => f.to_sql(ty, out),
            (Value::Real(f), &Type::FLOAT4) => (*f as f32).to_sql(ty, out),
            (Value::Real(f), _) => f.to_string().to_sql(&Type::TEXT, out),
            (Value::Text(s), &Type::INT8) => s.parse::<i64>().map_err(|_| bad())?.to_sql(ty, out),
            (Value::Text(s), &Type::FLOAT8) => s.parse::<f64>().map_err(|_| bad())?.to_sql(ty, out),
            (Value::Text(s), _) => s.as_str().to_sql(&Type::TEXT, out),
        }
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

impl<'a> postgres::types::FromSql<'a> for PgValue {
    fn from_sql(
        ty: &postgres::types::Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::Type;
        Ok(PgValue(match *ty {
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Int(i64::from(i32::from_sql(ty, raw)?)),
            Type::INT2 => Value::Int(i64::from(i16::from_sql(ty, raw)?)),
            Type::BOOL => Value::Int(i64::from(bool::from_sql(ty, raw)?)),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Value::Real(f64::from(f32::from_sql(ty, raw)?)),
            _ => Value::Text(String::from_sql(ty, raw)?),
        }))
    }

    fn from_sql_null(
        _: &postgres::types::Type,
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(PgValue(Value::Null))
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars_outside_quotes() {
        assert_eq!(
            dollar_placeholders("SELECT a FROM t WHERE b = ?1 AND c = '?2' AND d IN (?, ?)"),
            "SELECT a FROM t WHERE b = $1 AND c = '?2' AND d IN ($1, $2)"
        );
    }

    #[test]
    fn rows_read_back_as_values_on_sqlite() {
        let c = Conn::sqlite(rusqlite::Connection::open_in_memory().unwrap());
        c.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, f REAL, s TEXT)")
            .unwrap();
        let id = c
            .insert_id(
                "INSERT INTO t (n, f, s) VALUES (?1, ?2, ?3)",
                params![7u32, 1.5, "x"],
            )
            .unwrap();
        let none: Option<String> = None;
        c.execute(
            "INSERT INTO t (n, f, s) VALUES (?1, ?2, ?3)",
            params![8i64, 2.0, none],
        )
        .unwrap();
        let rows = c
            .query_all("SELECT id, n, f, s FROM t ORDER BY id", [], |r| {
                Ok((
                    r.get::<i64>(0)?,
                    r.get::<u32>(1)?,
                    r.get::<f64>(2)?,
                    r.get::<Option<String>>(3)?,
                ))
            })
            .unwrap();
        assert_eq!(
            rows,
            vec![(id, 7, 1.5, Some("x".into())), (id + 1, 8, 2.0, None)]
        );
        assert!(c
            .query_opt("SELECT id FROM t WHERE n = ?1", params![99], |r| r
                .get::<i64>(0))
            .unwrap()
            .is_none());
    }
}
