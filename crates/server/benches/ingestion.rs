//! Audience measurement against the real release binary, over HTTP:
//!
//! (a) sustained ingestion through `POST /api/v1/events` (the per-address
//!     limit raised through `LOCADOCS_EVENTS_PER_ADDRESS`), then SIGTERM,
//!     then the rows counted: sent, accepted (202), stored, dropped, with
//!     SQLite and with PostgreSQL (a scratch database on
//!     `LOCADOCS_BENCH_POSTGRES_URL`, default the test server);
//! (b) guide page throughput with recording on and off, two servers on the
//!     same database, runs alternating, the median ratio of the rounds.
//!
//! `cargo build --release -p locadocs` first; `LOCADOCS_BIN` names the
//! binary (default `target/release/locadocs` of the target directory),
//! `BENCH_SECONDS` the length of each load run (5), `BENCH_CONNECTIONS`
//! the number of client connections (32), `BENCH_ROUNDS` the page rounds
//! (3). A minimal HTTP/1.1 client on keep-alive connections, so that the
//! client costs little next to the server on a small machine.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::{Connection, Row};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn binary() -> PathBuf {
    if let Ok(b) = std::env::var("LOCADOCS_BIN") {
        return PathBuf::from(b);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace().join("target"));
    target.join("release/locadocs")
}

/// One keep-alive connection speaking just enough HTTP/1.1.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(port: u16) -> Conn {
        let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Conn {
            stream,
            buf: Vec::with_capacity(64 * 1024),
        }
    }

    /// Sends a request, reads the answer: status and body.
    async fn call(&mut self, request: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        self.stream.write_all(request).await?;
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end])
                    .unwrap_or("")
                    .to_owned();
                let status: u16 = head
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                while self.buf.len() < end + 4 + len {
                    self.fill().await?;
                }
                let body = self.buf[end + 4..end + 4 + len].to_vec();
                self.buf.drain(..end + 4 + len);
                return Ok((status, body));
            }
            self.fill().await?;
        }
    }

    async fn fill(&mut self) -> std::io::Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").into_bytes()
}

fn post_event(body: &str) -> Vec<u8> {
    format!(
        "POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn run_of(html: &[u8]) -> String {
    let html = String::from_utf8_lossy(html);
    let key = "name=\"run\" value=\"";
    let at = html.find(key).expect("a run id in the guide page") + key.len();
    html[at..at + 38].to_owned()
}

fn locadocs(db: &str, args: &[&str]) {
    let status = Command::new(binary())
        .args(args)
        .env("LOCADOCS_DATABASE_URL", db)
        .stdout(Stdio::null())
        .status()
        .expect("run the locadocs binary (cargo build --release -p locadocs)");
    assert!(status.success(), "locadocs {args:?}");
}

/// A fresh database with the real communes and the demo data.
fn prepare(db: &str) {
    locadocs(db, &["migrate"]);
    let cog = workspace().join("node_modules/@etalab/decoupage-administratif/data");
    locadocs(db, &["import", "communes", cog.to_str().unwrap()]);
    locadocs(db, &["demo"]);
}

fn serve(db: &str, port: u16, analytics: &str) -> Child {
    Command::new(binary())
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("LOCADOCS_DATABASE_URL", db)
        .env("LOCADOCS_ANALYTICS", analytics)
        .env("LOCADOCS_EVENTS_PER_ADDRESS", "1000000000")
        .env("LOCADOCS_EVENTS_QUEUE", "1000000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server")
}

async fn wait_ready(port: u16) {
    for _ in 0..200 {
        if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)).await {
            let mut c = Conn {
                stream,
                buf: Vec::new(),
            };
            if let Ok((200, _)) = c.call(&get("/healthz")).await {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("server on port {port} did not start");
}

/// SIGTERM, then the server's last line of counts.
fn stop(child: Child) -> String {
    // SAFETY: signalling our own child process by its id.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let out = child.wait_with_output().expect("server exit");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find(|l| l.starts_with("events:"))
        .unwrap_or("")
        .to_owned()
}

fn count_in(line: &str, what: &str) -> u64 {
    line.split(',')
        .find_map(|part| {
            let part = part.trim().trim_start_matches("events:").trim();
            part.strip_prefix(what)?.trim().parse().ok()
        })
        .unwrap_or(0)
}

async fn ingestion(name: &str, db: &str, port: u16, seconds: u64, conns: usize) {
    prepare(db);
    let child = serve(db, port, "on");
    wait_ready(port).await;
    let mut runs = Vec::new();
    let mut c = Conn::open(port).await;
    for _ in 0..conns {
        let (_, html) = c.call(&get("/g/immobilier")).await.unwrap();
        runs.push(run_of(&html));
    }
    drop(c);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let tasks: Vec<_> = runs
        .into_iter()
        .map(|run| {
            tokio::spawn(async move {
                let mut c = Conn::open(port).await;
                let (mut sent, mut accepted, mut other) = (0u64, 0u64, 0u64);
                let mut seq = 0u64;
                while Instant::now() < deadline {
                    seq += 1;
                    let body = format!(
                        "{{\"type\":\"link_clicked\",\"run\":\"{run}\",\"seq\":{seq},\"guide\":\"immobilier\",\"step\":\"resultat\",\"service\":\"archives-rennes\",\"link\":\"website\",\"document_type\":\"permis-de-construire\"}}"
                    );
                    match c.call(&post_event(&body)).await {
                        Ok((202, _)) => accepted += 1,
                        Ok(_) => other += 1,
                        Err(_) => break,
                    }
                    sent += 1;
                }
                (sent, accepted, other)
            })
        })
        .collect();
    let (mut sent, mut accepted, mut other) = (0, 0, 0);
    for t in tasks {
        let (s, a, o) = t.await.unwrap();
        sent += s;
        accepted += a;
        other += o;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let line = stop(child);
    let pool = sqlx::AnyPool::connect(db).await.unwrap();
    let stored: i64 =
        sqlx::query("SELECT COUNT(*) FROM analytics_events WHERE kind = 'link_clicked'")
            .fetch_one(&pool)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
    pool.close().await;
    let dropped = count_in(&line, "dropped");
    let stored = stored as u64;
    println!(
        "  {name}: sent {sent} in {elapsed:.1} s ({:.0} events/s, {conns} connections; target >= 10,000), accepted (202) {accepted}, other answers {other}, stored {stored}, dropped {dropped}; sent = stored + dropped: {}; dropped = 0: {}",
        sent as f64 / elapsed,
        if sent == stored + dropped {
            "yes"
        } else {
            "NO"
        },
        if dropped == 0 { "yes" } else { "NO" },
    );
    println!("    server at shutdown: {line}");
}

/// Requests per second over `seconds`, each connection walking a guide run
/// (the first page, then each step with its run id, to the answer).
async fn pages_rps(port: u16, runs: &[String], seconds: u64) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let tasks: Vec<_> = runs
        .iter()
        .cloned()
        .map(|run| {
            tokio::spawn(async move {
                let steps = [
                    String::from("/g/immobilier"),
                    format!("/g/immobilier?run={run}&savoir=oui"),
                    format!("/g/immobilier?run={run}&savoir=oui&document=permis-de-construire"),
                    format!(
                        "/g/immobilier?run={run}&savoir=oui&document=permis-de-construire&urbanisme=ok"
                    ),
                    format!(
                        "/g/immobilier?run={run}&savoir=oui&document=permis-de-construire&urbanisme=ok&commune=35238"
                    ),
                    format!(
                        "/g/immobilier?run={run}&savoir=oui&document=permis-de-construire&urbanisme=ok&commune=35238&year=2015"
                    ),
                ];
                let requests: Vec<Vec<u8>> = steps.iter().map(|p| get(p)).collect();
                let mut c = Conn::open(port).await;
                let mut n = 0u64;
                'outer: while Instant::now() < deadline {
                    for r in &requests {
                        match c.call(r).await {
                            Ok((200, _)) => n += 1,
                            Ok((s, _)) => panic!("page answered {s}"),
                            Err(_) => break 'outer,
                        }
                    }
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / start.elapsed().as_secs_f64()
}

async fn page_throughput(db: &str, seconds: u64, conns: usize, rounds: usize) {
    let (on_port, off_port) = (18391, 18392);
    let on = serve(db, on_port, "on");
    let off = serve(db, off_port, "off");
    wait_ready(on_port).await;
    wait_ready(off_port).await;
    let mut c = Conn::open(on_port).await;
    let mut runs = Vec::new();
    for _ in 0..conns {
        let (_, html) = c.call(&get("/g/immobilier")).await.unwrap();
        runs.push(run_of(&html));
    }
    drop(c);
    let mut ratios = Vec::new();
    for r in 1..=rounds {
        let a = pages_rps(on_port, &runs, seconds).await;
        let b = pages_rps(off_port, &runs, seconds).await;
        println!("    round {r}: recording on {a:.0} pages/s, off {b:.0} pages/s");
        ratios.push(a / b);
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    println!(
        "  guide pages, recording on / off = {median:.3} (median of {rounds} rounds; target >= 0.90)"
    );
    println!("    recording-on server at shutdown: {}", stop(on));
    stop(off);
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken.
    let seconds = env_or("BENCH_SECONDS", 5u64);
    let conns = env_or("BENCH_CONNECTIONS", 32usize);
    let rounds = env_or("BENCH_ROUNDS", 3usize);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    sqlx::any::install_default_drivers();
    let dir = std::env::temp_dir().join(format!("locadocs-bench-events-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    rt.block_on(async {
        // `BENCH_PARTS=pages` (or `ingestion`) runs one part only.
        let parts = std::env::var("BENCH_PARTS").unwrap_or_else(|_| "ingestion,pages".into());
        if parts.contains("ingestion") {
            println!("== audience events: ingestion through POST /api/v1/events ==");
            let sqlite = format!("sqlite://{}?mode=rwc", dir.join("events.db").display());
            ingestion("SQLite", &sqlite, 18381, seconds, conns).await;
            let pg_admin = std::env::var("LOCADOCS_BENCH_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            match sqlx::AnyConnection::connect(&pg_admin).await {
                Ok(mut conn) => {
                    let name = "locadocs_bench_events";
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                        .execute(&mut conn)
                        .await
                        .unwrap();
                    let base = pg_admin
                        .rsplit_once('/')
                        .map(|(b, _)| b)
                        .unwrap_or(&pg_admin);
                    ingestion(
                        "PostgreSQL",
                        &format!("{base}/{name}"),
                        18382,
                        seconds,
                        conns,
                    )
                    .await;
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
                Err(e) => println!("  PostgreSQL: skipped ({e})"),
            }
        }
        if !parts.contains("pages") {
            return;
        }

        println!("== guide pages: recording on vs off ==");
        let pages_db = format!("sqlite://{}?mode=rwc", dir.join("pages.db").display());
        prepare(&pages_db);
        page_throughput(&pages_db, seconds, conns, rounds).await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}
