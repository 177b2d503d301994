//! The harness against real servers: each test starts its own nats-server or
//! redis-server, talks to it over raw TCP, and kills and restarts it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use patrolchat_testkit::{NatsServer, RedisServer, nats_server_binary, nats_version, rss_kib};

/// Connects to a NATS server and returns the INFO line it greets with.
fn nats_info(port: u16) -> String {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to nats-server");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("set read timeout");
    let mut line = String::new();
    BufReader::new(stream)
        .read_line(&mut line)
        .expect("read INFO line");
    assert!(line.starts_with("INFO {"), "greeting: {line}");
    line
}

/// The `"version":"x.y.z"` field of an INFO line.
fn info_version(info: &str) -> (u32, u32, u32) {
    let start = info.find("\"version\":\"").expect("INFO has a version") + "\"version\":\"".len();
    let rest = &info[start..];
    let version = &rest[..rest.find('"').expect("version string is closed")];
    let mut parts = version.split('.').map(|p| {
        p.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse::<u32>()
            .expect("numeric version part")
    });
    let mut next = || parts.next().expect("three version parts");
    (next(), next(), next())
}

/// Sends one RESP command and returns the raw reply (a single read is
/// enough for the short replies used here).
fn redis_command(port: u16, args: &[&str]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to redis-server");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("set read timeout");
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    stream
        .write_all(request.as_bytes())
        .expect("send RESP command");
    let mut reply = [0_u8; 512];
    let n = stream.read(&mut reply).expect("read RESP reply");
    String::from_utf8_lossy(&reply[..n]).into_owned()
}

#[test]
fn nats_greets_with_jetstream_enabled_and_a_recent_version() {
    let nats = NatsServer::start();
    assert_eq!(nats.url(), format!("nats://127.0.0.1:{}", nats.port()));
    let info = nats_info(nats.port());
    assert!(info.contains("\"jetstream\":true"), "INFO: {info}");
    assert!(info_version(&info) >= (2, 10, 0), "INFO: {info}");
    assert_eq!(
        Some(info_version(&info)),
        nats_version(&nats_server_binary())
    );
    assert!(nats.store_dir().join("jetstream").is_dir());
    assert!(nats.log_path().is_file());
    assert!(rss_kib(nats.pid()).is_some_and(|kib| kib > 0));
}

#[test]
fn nats_restarts_on_the_same_port_after_kill() {
    let mut nats = NatsServer::start();
    let (port, first_pid) = (nats.port(), nats.pid());
    nats_info(port);

    let status = nats.kill();
    assert!(!status.success());
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port still answers after kill"
    );

    nats.restart();
    assert_eq!(nats.port(), port);
    assert_ne!(nats.pid(), first_pid);
    assert!(nats_info(port).contains("\"jetstream\":true"));
}

#[test]
fn nats_terminate_then_restart() {
    let mut nats = NatsServer::start();
    let port = nats.port();
    nats.terminate();
    nats.restart();
    assert_eq!(nats.port(), port);
    nats_info(port);
}

#[test]
fn two_nats_servers_get_distinct_ports_and_dirs() {
    let a = NatsServer::start();
    let b = NatsServer::start();
    assert_ne!(a.port(), b.port());
    assert_ne!(a.store_dir(), b.store_dir());
    assert_ne!(nats_info(a.port()), nats_info(b.port()));
}

#[test]
fn dropping_nats_stops_the_server_and_removes_its_dir() {
    let nats = NatsServer::start();
    let (port, store) = (nats.port(), nats.store_dir());
    drop(nats);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    assert!(!store.exists());
}

#[test]
fn redis_keeps_acknowledged_writes_across_kill_9() {
    let mut redis = RedisServer::start();
    let port = redis.port();
    assert_eq!(redis.url(), format!("redis://127.0.0.1:{port}"));
    assert_eq!(
        redis_command(port, &["SET", "patrolchat:test", "survives"]),
        "+OK\r\n"
    );

    let status = redis.kill();
    assert!(!status.success());
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());

    redis.restart();
    assert_eq!(redis.port(), port);
    assert_eq!(
        redis_command(port, &["GET", "patrolchat:test"]),
        "$8\r\nsurvives\r\n"
    );
    assert!(redis.data_dir().join("appendonlydir").is_dir());
}

#[test]
fn redis_terminate_reports_a_clean_exit() {
    let mut redis = RedisServer::start();
    assert!(redis.terminate().success());
    redis.restart();
    assert_eq!(redis_command(redis.port(), &["PING"]), "+PONG\r\n");
}
