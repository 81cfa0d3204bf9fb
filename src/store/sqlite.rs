//! The SQLite side of the neutral query shape ([`super::sql`]).

use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, ToSql};

use super::sql::{Row, Val};

impl ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Val::Null => ToSqlOutput::Owned(Value::Null),
            Val::Int(i) => ToSqlOutput::Owned(Value::Integer(*i)),
            Val::Real(f) => ToSqlOutput::Owned(Value::Real(*f)),
            Val::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Val::Bool(b) => ToSqlOutput::Owned(Value::Integer(i64::from(*b))),
        })
    }
}

fn val_of(v: ValueRef<'_>) -> Val {
    match v {
        ValueRef::Null => Val::Null,
        ValueRef::Integer(i) => Val::Int(i),
        ValueRef::Real(f) => Val::Real(f),
        ValueRef::Text(t) | ValueRef::Blob(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
    }
}

/// Runs a query and returns its rows (the statement is cached on the connection).
pub fn query(conn: &Connection, sql: &str, params: &[Val]) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let n = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut row = Vec::with_capacity(n);
        for i in 0..n {
            row.push(val_of(r.get_ref(i)?));
        }
        out.push(Row(row));
    }
    Ok(out)
}

/// Runs a statement; returns the number of rows it changed.
pub fn execute(conn: &Connection, sql: &str, params: &[Val]) -> rusqlite::Result<u64> {
    let mut stmt = conn.prepare_cached(sql)?;
    Ok(stmt.execute(rusqlite::params_from_iter(params.iter()))? as u64)
}
