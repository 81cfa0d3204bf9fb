//! The PostgreSQL backend's pure helpers: URL redaction and placeholder rewriting.

use editscope::store::pg::{is_url, redact};
use editscope::store::sql::to_dollar_placeholders;

#[test]
fn a_password_in_a_url_is_never_shown() {
    assert_eq!(
        redact("postgres://me:s3cret@db.local:5432/editscope"),
        "postgres://me@db.local:5432/editscope"
    );
    // An '@' inside the password, and a query string.
    assert_eq!(
        redact("postgresql://me:p@ss:w@127.0.0.1/db?sslmode=disable"),
        "postgresql://me@127.0.0.1/db?sslmode=disable"
    );
    assert_eq!(
        redact("postgres://me@127.0.0.1:5432/db"),
        "postgres://me@127.0.0.1:5432/db"
    );
    assert_eq!(redact("/tmp/editscope.db"), "/tmp/editscope.db");
}

#[test]
fn only_postgres_urls_select_postgres() {
    assert!(is_url("postgres://h/db") && is_url("postgresql://h/db"));
    assert!(!is_url("/tmp/postgres://x") && !is_url("editscope.db"));
}

#[test]
fn numbered_placeholders_become_dollar_placeholders() {
    assert_eq!(
        to_dollar_placeholders("SELECT a FROM t WHERE x = ?1 AND y > ?12 AND z = '?'"),
        "SELECT a FROM t WHERE x = $1 AND y > $12 AND z = '?'"
    );
}
