//! The PostgreSQL backend: one connection owned by a thread of its own.
//!
//! The store is called synchronously, often from inside a tokio task. The `postgres` crate's
//! blocking calls start a runtime of their own and panic inside another one, so the client
//! never runs on the caller's thread: a dedicated OS thread owns it, and each call is a job
//! sent over a channel, answered over another. A transaction is a `BEGIN` job, the writer's
//! statements, then `COMMIT` (or `ROLLBACK`): jobs of one store run in order on one
//! connection, and a store is never shared by two writers at once (`&mut` or one engine).
//!
//! A connection that drops (a server restarted) is opened again on the next call; a read or
//! an autocommit statement that failed on the dead connection is retried once on the new one,
//! while a transaction that lost its connection fails with [`StoreError::ConnectionLost`]:
//! the server rolled it back, so nothing of it was written. Passwords come from the URL or
//! `PGPASSWORD` and are never printed: every message names the URL without them.

use std::collections::HashMap;
use std::error::Error as _;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use bytes::BytesMut;
use postgres::fallible_iterator::FallibleIterator as _;
use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, NoTls, Statement};

use super::sql::{Row, Val, to_dollar_placeholders};
use super::{Result, StoreError};

/// The channel editscope's writers notify on commit (payload: `REVISION PROJECT_ID`).
pub const CHANGES_CHANNEL: &str = "editscope_changes";

/// Whether `--db` names a PostgreSQL database rather than a file.
pub fn is_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// The URL as it may be shown: the password (if any) removed. Works on URLs that do not parse.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    // The userinfo ends at the last '@' before the path.
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            format!("{scheme}://{user}@{}", &rest[at + 1..])
        }
        None => url.to_string(),
    }
}

/// A PostgreSQL database to connect to: its parsed settings and how it is shown.
pub struct PgTarget {
    config: postgres::Config,
    display: String,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display)
    }
}

impl PgTarget {
    /// Parses a `postgres://` URL; a password missing from it is taken from `PGPASSWORD`.
    pub fn parse(url: &str) -> Result<PgTarget> {
        let display = redact(url);
        let mut config = postgres::Config::from_str(url).map_err(|e| StoreError::Invalid {
            what: format!("PostgreSQL URL '{display}'"),
            // The parser's messages name the offending key, never the password's value.
            reason: e.to_string(),
        })?;
        if config.get_password().is_none()
            && let Some(pw) = std::env::var_os("PGPASSWORD").filter(|p| !p.is_empty())
        {
            config.password(pw.to_string_lossy().as_bytes());
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        config.application_name("editscope");
        Ok(PgTarget { config, display })
    }

    /// The same database with every table in `schema` (created if missing): a bench run keeps
    /// its stores apart in one database this way. `schema` is a plain identifier.
    pub fn in_schema(&self, schema: &str) -> Result<PgTarget> {
        if schema.is_empty()
            || !schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(StoreError::Invalid {
                what: format!("schema name '{schema}'"),
                reason: "letters, digits and '_' only".into(),
            });
        }
        let mut client = self.connect()?;
        client
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .map_err(|e| sql_error(self, &e))?;
        let mut config = self.config.clone();
        config.options(&format!("-c search_path={schema}"));
        Ok(PgTarget {
            config,
            display: format!("{} (schema {schema})", self.display),
        })
    }

    /// Drops a schema made by [`PgTarget::in_schema`] and everything in it.
    pub fn drop_schema(&self, schema: &str) -> Result<()> {
        let mut client = self.connect()?;
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .map_err(|e| sql_error(self, &e))
    }

    /// The URL without its password.
    pub fn display(&self) -> &str {
        &self.display
    }

    fn user(&self) -> String {
        self.config
            .get_user()
            .map(str::to_string)
            .unwrap_or_else(|| "(the system user)".into())
    }

    /// Opens a client (on the calling thread: only the backend's own threads call this).
    fn connect(&self) -> Result<Client> {
        self.config
            .connect(NoTls)
            .map_err(|e| classify_connect(self, &e))
    }
}

fn classify_connect(target: &PgTarget, e: &postgres::Error) -> StoreError {
    let url = target.display.clone();
    let code = e.code().map(|c| c.code().to_string());
    let reason = match code.as_deref() {
        Some("28P01") | Some("28000") => format!(
            "authentication failed for user '{}' (check the password in the URL or PGPASSWORD)",
            target.user()
        ),
        Some("3D000") => "the database does not exist (create it with createdb)".to_string(),
        _ => match io_error(e) {
            Some(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                "connection refused (is the server running, on this host and port?)".to_string()
            }
            Some(io) => format!("{io}"),
            None if error_chain(e).contains("password missing") => format!(
                "the server asks for a password for user '{}' and none was given (put it in the URL or PGPASSWORD)",
                target.user()
            ),
            None => error_chain(e),
        },
    };
    StoreError::Connect { url, reason }
}

/// The error and its sources, as one line.
fn error_chain(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn io_error(e: &postgres::Error) -> Option<&std::io::Error> {
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        source = s.source();
    }
    None
}

/// Whether an error means the connection is gone (rather than a statement failing).
fn connection_lost(e: &postgres::Error) -> bool {
    e.is_closed()
        || io_error(e).is_some()
        || e.code()
            .is_some_and(|c| c.code().starts_with("57P") || c.code().starts_with("08"))
}

/// A statement's failure, with its SQLSTATE; a lock wait that timed out is [`StoreError::Locked`].
fn sql_error(target: &PgTarget, e: &postgres::Error) -> StoreError {
    sql_error_waited(target, e, 0)
}

fn sql_error_waited(target: &PgTarget, e: &postgres::Error, waited_ms: u64) -> StoreError {
    if e.code().is_some_and(|c| c.code() == "55P03") {
        return StoreError::Locked {
            path: target.display.clone(),
            waited_ms,
        };
    }
    let detail = match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    };
    let code = e.code().map(|c| c.code().to_string()).unwrap_or_default();
    StoreError::Postgres { code, detail }
}

impl ToSql for Val {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Val::Null => Ok(IsNull::Yes),
            Val::Int(i) => {
                if *ty == Type::INT4 {
                    i32::try_from(*i)?.to_sql(ty, out)
                } else if *ty == Type::INT2 {
                    i16::try_from(*i)?.to_sql(ty, out)
                } else if *ty == Type::BOOL {
                    (*i != 0).to_sql(ty, out)
                } else if *ty == Type::FLOAT8 {
                    (*i as f64).to_sql(ty, out)
                } else if *ty == Type::TEXT || *ty == Type::VARCHAR {
                    i.to_string().to_sql(ty, out)
                } else {
                    i.to_sql(ty, out)
                }
            }
            Val::Real(f) => {
                if *ty == Type::FLOAT4 {
                    (*f as f32).to_sql(ty, out)
                } else {
                    f.to_sql(ty, out)
                }
            }
            Val::Text(s) => s.to_sql(ty, out),
            Val::Bool(b) => {
                if *ty == Type::BOOL {
                    b.to_sql(ty, out)
                } else {
                    i64::from(*b).to_sql(ty, out)
                }
            }
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Val {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(if *ty == Type::INT8 {
            Val::Int(i64::from_sql(ty, raw)?)
        } else if *ty == Type::INT4 {
            Val::Int(i32::from_sql(ty, raw)?.into())
        } else if *ty == Type::INT2 {
            Val::Int(i16::from_sql(ty, raw)?.into())
        } else if *ty == Type::FLOAT8 {
            Val::Real(f64::from_sql(ty, raw)?)
        } else if *ty == Type::FLOAT4 {
            Val::Real(f32::from_sql(ty, raw)?.into())
        } else if *ty == Type::BOOL {
            Val::Bool(bool::from_sql(ty, raw)?)
        } else {
            // Text-like columns; queries cast anything else (uuid, jsonb, timestamps) in SQL.
            Val::Text(std::str::from_utf8(raw)?.to_string())
        })
    }

    fn from_sql_null(
        _: &Type,
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Val::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// The connection's state, on its own thread.
pub struct Session {
    target: Arc<PgTarget>,
    client: Option<Client>,
    statements: HashMap<String, Statement>,
    in_transaction: bool,
    /// Run on every new connection (session settings such as the lock timeout).
    on_connect: Option<String>,
    /// How long a writer waits for another's row lock (for the message when it gives up).
    lock_timeout_ms: u64,
}

impl Session {
    /// Sets what runs on every new connection, and runs it on the current one.
    pub fn set_lock_timeout_ms(&mut self, ms: u64) {
        self.lock_timeout_ms = ms;
    }

    pub fn set_on_connect(&mut self, sql: String) -> Result<()> {
        self.on_connect = Some(sql.clone());
        self.batch(&sql)
    }

    fn client(&mut self) -> Result<&mut Client> {
        if self.client.as_ref().is_some_and(Client::is_closed) {
            self.client = None;
        }
        if self.client.is_none() {
            if self.in_transaction {
                return Err(self.lost());
            }
            self.statements.clear();
            let mut client = self.target.connect()?;
            if let Some(sql) = &self.on_connect {
                client
                    .batch_execute(sql)
                    .map_err(|e| sql_error(&self.target, &e))?;
            }
            self.client = Some(client);
        }
        self.client
            .as_mut()
            .ok_or_else(|| StoreError::ConnectionLost {
                url: self.target.display.clone(),
            })
    }

    fn lost(&self) -> StoreError {
        StoreError::ConnectionLost {
            url: self.target.display.clone(),
        }
    }

    /// Runs `op` on the client; when the connection turns out to be dead, forgets it and (out
    /// of a transaction) runs `op` once more on a new one.
    fn run<R>(
        &mut self,
        mut op: impl FnMut(&mut Client, &mut HashMap<String, Statement>) -> Result<R, postgres::Error>,
    ) -> Result<R> {
        for attempt in 0..2 {
            self.client()?;
            let Session {
                client, statements, ..
            } = self;
            let Some(client) = client.as_mut() else {
                return Err(self.lost());
            };
            match op(client, statements) {
                Ok(r) => return Ok(r),
                Err(e) if connection_lost(&e) => {
                    self.client = None;
                    if self.in_transaction || attempt == 1 {
                        // The server rolls back a transaction whose connection dropped.
                        self.in_transaction = false;
                        return Err(self.lost());
                    }
                }
                Err(e) => {
                    return Err(sql_error_waited(&self.target, &e, self.lock_timeout_ms));
                }
            }
        }
        Err(self.lost())
    }

    pub fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>> {
        self.run(|client, statements| {
            let stmt = prepared(client, statements, sql)?;
            let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
            let rows = client.query(&stmt, &refs)?;
            rows.iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| r.try_get::<_, Val>(i))
                        .collect::<Result<Vec<_>, _>>()
                        .map(Row)
                })
                .collect()
        })
    }

    pub fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64> {
        self.run(|client, statements| {
            let stmt = prepared(client, statements, sql)?;
            let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
            client.execute(&stmt, &refs)
        })
    }

    pub fn batch(&mut self, sql: &str) -> Result<()> {
        self.run(|client, _| client.batch_execute(sql))
    }

    pub fn begin(&mut self, sql: &str) -> Result<()> {
        if self.in_transaction {
            return Err(StoreError::Invalid {
                what: "write".into(),
                reason: "a write transaction is already open on this connection (a write within a write)".into(),
            });
        }
        self.batch(sql)?;
        self.in_transaction = true;
        Ok(())
    }

    pub fn commit(&mut self) -> Result<()> {
        let r = self.batch("COMMIT");
        self.in_transaction = false;
        r
    }

    pub fn rollback(&mut self) {
        if self.in_transaction {
            let _ = self.batch("ROLLBACK");
        }
        self.in_transaction = false;
    }
}

fn prepared(
    client: &mut Client,
    statements: &mut HashMap<String, Statement>,
    sql: &str,
) -> Result<Statement, postgres::Error> {
    if let Some(s) = statements.get(sql) {
        return Ok(s.clone());
    }
    let stmt = client.prepare(&to_dollar_placeholders(sql))?;
    statements.insert(sql.to_string(), stmt.clone());
    Ok(stmt)
}

type Job = Box<dyn FnOnce(&mut Session) + Send>;

/// One connection on its own thread.
pub struct PgConn {
    jobs: mpsc::Sender<Job>,
    target: Arc<PgTarget>,
}

impl PgConn {
    /// Starts the thread and connects (a refused connection or wrong credentials fail here).
    pub fn open(target: Arc<PgTarget>) -> Result<PgConn> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let mut session = Session {
            target: target.clone(),
            client: None,
            statements: HashMap::new(),
            in_transaction: false,
            on_connect: None,
            lock_timeout_ms: 0,
        };
        std::thread::Builder::new()
            .name("editscope-postgres".into())
            .spawn(move || {
                for job in inbox {
                    job(&mut session);
                }
                // The store is gone: a transaction left open is rolled back with the connection.
            })
            .map_err(|source| StoreError::Io {
                path: target.display.clone(),
                source,
            })?;
        let conn = PgConn { jobs, target };
        conn.call(|s| s.client().map(|_| ()))?;
        Ok(conn)
    }

    pub fn target(&self) -> &Arc<PgTarget> {
        &self.target
    }

    /// Runs `f` on the connection's thread and waits for its answer.
    pub fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Session) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let (reply, answer) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |s| {
            let _ = reply.send(f(s));
        });
        self.jobs.send(job).map_err(|_| self.stopped())?;
        answer.recv().map_err(|_| self.stopped())?
    }

    fn stopped(&self) -> StoreError {
        StoreError::ConnectionLost {
            url: self.target.display.clone(),
        }
    }

    pub fn query(&self, sql: &str, params: &[Val]) -> Result<Vec<Row>> {
        let (sql, params) = (sql.to_string(), params.to_vec());
        self.call(move |s| s.query(&sql, &params))
    }

    pub fn execute(&self, sql: &str, params: &[Val]) -> Result<u64> {
        let (sql, params) = (sql.to_string(), params.to_vec());
        self.call(move |s| s.execute(&sql, &params))
    }

    pub fn batch(&self, sql: &str) -> Result<()> {
        let sql = sql.to_string();
        self.call(move |s| s.batch(&sql))
    }
}

/// A change another writer (or this one) committed: `project_id` at `revision`, or `None` when
/// notifications may have been missed (the listening connection was re-opened) and everything
/// should be read again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreChange {
    pub project_id: Option<String>,
    pub revision: i64,
}

/// Listens for committed changes on a connection of its own until the receiver is dropped.
/// Returns once the listener is in place (or after a few seconds of failing to connect; it
/// keeps trying then), so that a write committed after this returns is always heard.
pub fn listen(
    target: Arc<PgTarget>,
) -> std::io::Result<tokio::sync::mpsc::UnboundedReceiver<StoreChange>> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let (ready_tx, ready) = mpsc::sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("editscope-listen".into())
        .spawn(move || {
            let mut connected_before = false;
            while !tx.is_closed() {
                let mut client = match target.connect() {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::debug!("change listener cannot connect ({e}); retrying");
                        std::thread::sleep(Duration::from_secs(1));
                        continue;
                    }
                };
                if client
                    .batch_execute(&format!("LISTEN {CHANGES_CHANNEL}"))
                    .is_err()
                {
                    std::thread::sleep(Duration::from_secs(1));
                    continue;
                }
                if connected_before {
                    let _ = tx.send(StoreChange {
                        project_id: None,
                        revision: 0,
                    });
                }
                connected_before = true;
                let _ = ready_tx.try_send(());
                loop {
                    if tx.is_closed() {
                        return;
                    }
                    let next = client
                        .notifications()
                        .timeout_iter(Duration::from_millis(250))
                        .next();
                    match next {
                        Ok(Some(n)) => {
                            if let Some(change) = parse_payload(n.payload()) {
                                let _ = tx.send(change);
                            }
                        }
                        Err(_) => break,
                        Ok(None) if client.is_closed() => break,
                        Ok(None) => {}
                    }
                }
            }
        })?;
    let _ = ready.recv_timeout(Duration::from_secs(5));
    Ok(rx)
}

fn parse_payload(payload: &str) -> Option<StoreChange> {
    let (revision, project) = payload.split_once(' ')?;
    Some(StoreChange {
        project_id: Some(project.to_string()),
        revision: revision.parse().ok()?,
    })
}
