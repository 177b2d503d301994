//! The repository stands alone: cloned into an empty directory, it refers to
//! nothing outside itself, and the replay path (replay-server with its
//! default corpus → ingest → `RC`) runs from there.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Ingest, rc_count, wait_port};
use patrolchat_testkit::{ChildGuard, NatsServer, free_port, wait_until_async};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clone_refers_to_nothing_outside_it_and_replays_its_own_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let empty = tempfile::tempdir().expect("temp dir");
    let clone = empty.path().join("patrolchat");
    git(
        empty.path(),
        &[
            "clone",
            "--quiet",
            "--no-hardlinks",
            root.to_str().expect("utf-8 path"),
            clone.to_str().expect("utf-8 path"),
        ],
    );

    // Nothing tracked names the world outside: no sibling folders, no paths
    // of the machine it was written on.
    let grep = Command::new("git")
        .current_dir(&clone)
        .args(["grep", "-n", "-I", "-E", r#"\.\./shared|(^|[[:space:]'"(])/work/"#])
        .output()
        .expect("git grep runs");
    // git grep exits 1 when nothing matches.
    assert_eq!(grep.status.code(), Some(1), "git grep: {grep:?}");
    let outside = String::from_utf8_lossy(&grep.stdout);
    assert!(outside.is_empty(), "paths outside the repository:\n{outside}");
    let corpus = clone.join("data/rc");
    assert!(corpus.join("README.md").is_file(), "the corpus has its README");
    assert!(clone.join("docs/ARCHITECTURE.md").is_file());
    let readme = std::fs::read_to_string(clone.join("README.md")).expect("README");
    assert!(readme.contains("docs/ARCHITECTURE.md"), "README links the architecture");

    // The replay server's default corpus is the clone's own `data/rc`.
    let port = free_port();
    let mut cmd = Command::new(common::bin());
    cmd.current_dir(&clone)
        .env_remove("PATROLCHAT_CORPUS")
        .args(["replay-server", "--addr", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _replay = ChildGuard::spawn("replay-server", &mut cmd).expect("replay server starts");
    wait_port(port);

    let nats = NatsServer::start();
    let feed = format!("http://127.0.0.1:{port}/v2/stream/recentchange");
    let _ingest = Ingest::start(&nats.url(), &feed, &[]);
    let url = nats.url();
    let expected = common::corpus_expectation().len() as u64;
    wait_until_async(Duration::from_secs(60), "the clone's corpus in RC", || {
        let url = url.clone();
        async move { rc_count(&url).await >= expected }
    })
    .await;
}
