//! A real PostgreSQL server for the tests: `initdb` on a temporary directory, `pg_ctl start` on
//! a free loopback port (unix sockets in that directory), stopped when the test binary exits.
//!
//! One shared server per test binary (one database per test); tests that must restart a server
//! or need password authentication start a private one. The server refuses to run as root, so
//! as root it runs as the `postgres` system user (`runuser`). Without PostgreSQL installed the
//! tests that need it say they skipped, except in CI (`CI` set), where that is a failure:
//! `.ci/run` installs it.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A running server.
pub struct PgServer {
    pub port: u16,
    pub dir: PathBuf,
    bin: PathBuf,
    run_as: Option<String>,
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// The folder of `initdb` and `pg_ctl`: on PATH, or Debian's /usr/lib/postgresql/N/bin.
fn bin_dir() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("pg_ctl").exists() && dir.join("initdb").exists() {
                return Some(dir);
            }
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|b| b.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl PgServer {
    /// Starts a server. `password`: the superuser `postgres` gets it and TCP connections must
    /// give it (scram); without, TCP connections are trusted. `None` when PostgreSQL is not
    /// installed (a failure in CI).
    pub fn start(password: Option<&str>) -> Option<PgServer> {
        let Some(bin) = bin_dir() else {
            assert!(
                !in_ci(),
                "PostgreSQL is not installed (initdb/pg_ctl not found); .ci/run installs it"
            );
            eprintln!("skipped: PostgreSQL is not installed (no initdb/pg_ctl)");
            return None;
        };
        let run_as = is_root().then(|| "postgres".to_string());
        let dir = tempfile::Builder::new()
            .prefix("editscope-pg-")
            .tempdir()
            .expect("temp dir")
            .keep();
        let data = dir.join("data");
        if let Some(user) = &run_as {
            let ok = Command::new("chown")
                .arg(format!("{user}:"))
                .arg(&dir)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "cannot give {} to the {user} user", dir.display());
        }
        let mut initdb = vec![
            bin.join("initdb").display().to_string(),
            "-D".into(),
            data.display().to_string(),
            "-U".into(),
            "postgres".into(),
            "--auth-local=trust".into(),
            "--no-sync".into(),
            "-E".into(),
            "UTF8".into(),
        ];
        if let Some(pw) = password {
            let pwfile = dir.join("pw");
            std::fs::write(&pwfile, pw).expect("password file");
            if let Some(user) = &run_as {
                let _ = Command::new("chown")
                    .arg(format!("{user}:"))
                    .arg(&pwfile)
                    .status();
            }
            initdb.push("--auth-host=scram-sha-256".into());
            initdb.push(format!("--pwfile={}", pwfile.display()));
        } else {
            initdb.push("--auth-host=trust".into());
        }
        let server = PgServer {
            port: free_port(),
            dir: dir.clone(),
            bin,
            run_as,
        };
        server.run(&initdb, "initdb");
        server.start_again();
        server.reap_on_exit();
        Some(server)
    }

    fn command(&self, args: &[String]) -> Command {
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).args(args);
                c
            }
            None => {
                let mut c = Command::new(&args[0]);
                c.args(&args[1..]);
                c
            }
        }
    }

    fn run(&self, args: &[String], what: &str) {
        let out = self
            .command(args)
            .current_dir(&self.dir)
            .output()
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            out.status.success(),
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn pg_ctl(&self, action: &[&str]) -> Vec<String> {
        let mut args = vec![
            self.bin.join("pg_ctl").display().to_string(),
            "-D".into(),
            self.dir.join("data").display().to_string(),
        ];
        args.extend(action.iter().map(|s| s.to_string()));
        args
    }

    /// (Re)starts the server on its port.
    pub fn start_again(&self) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log").display().to_string();
        let args = self.pg_ctl(&["-w", "-l", &log, "-o", &options, "start"]);
        self.run(&args, "pg_ctl start");
    }

    /// Stops the server now (fast: open sessions are ended).
    pub fn stop(&self) {
        let args = self.pg_ctl(&["-w", "-m", "fast", "stop"]);
        self.run(&args, "pg_ctl stop");
    }

    /// A watcher that outlives nothing: once this test binary has exited (however it ended), it
    /// stops the server and removes its directory.
    fn reap_on_exit(&self) {
        let stop = self.pg_ctl(&["-m", "immediate", "stop"]);
        let stop = match &self.run_as {
            Some(user) => format!("runuser -u {user} -- {}", shell_words(&stop)),
            None => shell_words(&stop),
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            dir = self.dir.display()
        );
        let _ = Command::new("sh")
            .args(["-c", &script])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }

    /// A URL for `db` as `user` (`password` in the URL when given).
    pub fn url(&self, db: &str, password: Option<&str>) -> String {
        match password {
            Some(pw) => format!("postgres://postgres:{pw}@127.0.0.1:{}/{db}", self.port),
            None => format!("postgres://postgres@127.0.0.1:{}/{db}", self.port),
        }
    }

    /// Runs SQL as the superuser over the server's unix socket (trusted), off any runtime.
    pub fn psql(&self, db: &str, sql: &str) {
        let (dir, port, db, sql) = (self.dir.clone(), self.port, db.to_string(), sql.to_string());
        std::thread::spawn(move || {
            let mut client = postgres::Config::new()
                .host_path(&dir)
                .port(port)
                .user("postgres")
                .dbname(&db)
                .connect(postgres::NoTls)
                .expect("connect over the socket");
            client.batch_execute(&sql).expect("sql");
        })
        .join()
        .expect("psql thread");
    }

    /// A new empty database; returns its URL.
    pub fn fresh_db(&self, prefix: &str) -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!("{prefix}_{}", N.fetch_add(1, Ordering::Relaxed));
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        self.url(&name, None)
    }
}

fn shell_words(args: &[String]) -> String {
    args.iter()
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The shared server of this test binary (trusted TCP connections), started on first use.
pub fn shared() -> Option<&'static PgServer> {
    static SERVER: OnceLock<Option<PgServer>> = OnceLock::new();
    SERVER.get_or_init(|| PgServer::start(None)).as_ref()
}

/// A new database on the shared server, or `None` (skipped) without PostgreSQL.
pub fn fresh_db(prefix: &str) -> Option<String> {
    shared().map(|s| s.fresh_db(prefix))
}
