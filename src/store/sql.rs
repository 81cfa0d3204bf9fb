//! The backend-neutral shape of a query: parameters and row values as one small enum, so that
//! every typed read and write is written once and runs on SQLite or PostgreSQL alike.
//!
//! Queries are written with SQLite's numbered placeholders (`?1`, `?2`); the PostgreSQL backend
//! rewrites them to `$1`, `$2` (see [`to_dollar_placeholders`]). Everything else in them is SQL
//! both dialects read the same way (no `max(a, b)` scalar, no `rowid`).

use super::StoreError;

/// One parameter or one column value.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Val {
    #[default]
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bool(bool),
}

/// A parameter value, taken by reference (the `vals!` macro borrows each argument).
pub trait ToVal {
    fn to_val(&self) -> Val;
}

impl ToVal for i64 {
    fn to_val(&self) -> Val {
        Val::Int(*self)
    }
}
impl ToVal for f64 {
    fn to_val(&self) -> Val {
        Val::Real(*self)
    }
}
impl ToVal for bool {
    fn to_val(&self) -> Val {
        Val::Bool(*self)
    }
}
impl ToVal for str {
    fn to_val(&self) -> Val {
        Val::Text(self.to_string())
    }
}
impl ToVal for String {
    fn to_val(&self) -> Val {
        Val::Text(self.clone())
    }
}
impl ToVal for Val {
    fn to_val(&self) -> Val {
        self.clone()
    }
}
impl<T: ToVal + ?Sized> ToVal for &T {
    fn to_val(&self) -> Val {
        (**self).to_val()
    }
}
impl<T: ToVal> ToVal for Option<T> {
    fn to_val(&self) -> Val {
        self.as_ref().map(ToVal::to_val).unwrap_or(Val::Null)
    }
}

/// `vals![a, b, c]`: a parameter list (each argument is borrowed, not moved).
macro_rules! vals {
    ($($v:expr),* $(,)?) => { [$($crate::store::sql::ToVal::to_val(&$v)),*] };
}
pub(crate) use vals;

/// One result row; columns are taken out by index.
#[derive(Debug, Default)]
pub struct Row(pub Vec<Val>);

impl Row {
    /// Takes column `i` (leaving a null behind) as a `T`.
    pub fn get<T: FromVal>(&mut self, i: usize) -> Result<T, StoreError> {
        let v = self.0.get_mut(i).map(std::mem::take).ok_or_else(|| {
            StoreError::Decode(format!(
                "column {i} is missing from a row of {}",
                self.0.len()
            ))
        })?;
        T::from_val(v).map_err(|found| {
            StoreError::Decode(format!(
                "column {i}: expected {}, found {found:?}",
                std::any::type_name::<T>()
            ))
        })
    }
}

/// A Rust value read back from a column.
pub trait FromVal: Sized {
    fn from_val(v: Val) -> Result<Self, Val>;
}

impl FromVal for i64 {
    fn from_val(v: Val) -> Result<Self, Val> {
        match v {
            Val::Int(i) => Ok(i),
            Val::Bool(b) => Ok(i64::from(b)),
            other => Err(other),
        }
    }
}
impl FromVal for f64 {
    fn from_val(v: Val) -> Result<Self, Val> {
        match v {
            Val::Real(f) => Ok(f),
            Val::Int(i) => Ok(i as f64),
            other => Err(other),
        }
    }
}
impl FromVal for bool {
    fn from_val(v: Val) -> Result<Self, Val> {
        match v {
            Val::Bool(b) => Ok(b),
            Val::Int(i) => Ok(i != 0),
            other => Err(other),
        }
    }
}
impl FromVal for String {
    fn from_val(v: Val) -> Result<Self, Val> {
        match v {
            Val::Text(s) => Ok(s),
            other => Err(other),
        }
    }
}
impl<T: FromVal> FromVal for Option<T> {
    fn from_val(v: Val) -> Result<Self, Val> {
        match v {
            Val::Null => Ok(None),
            other => T::from_val(other).map(Some),
        }
    }
}
impl FromVal for Val {
    fn from_val(v: Val) -> Result<Self, Val> {
        Ok(v)
    }
}

/// Rewrites `?N` placeholders to PostgreSQL's `$N`. Our SQL has no `?` inside string literals
/// (checked by the store tests, which run every query on both backends).
pub fn to_dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}
