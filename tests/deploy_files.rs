//! The deployment files in `deploy/` stay true to the code: the example
//! environment file lists every setting with its real default, the compose
//! file, Kubernetes manifests and systemd units name only real settings and
//! parse, and every shipped nats-server config is accepted by nats-server.
//! (No container engine or Kubernetes runs here: those files are parsed and
//! checked, not run.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use patrolchat_testkit::{nats_server_binary, redis_server_binary, repo_root};
use serde_json::Value;

/// Every `env = "PATROLCHAT_…"` of a clap attribute in the services' code.
fn settings_in_code() -> BTreeSet<String> {
    let root = repo_root();
    let mut files = Vec::new();
    for dir in ["src", "ingest/src", "router/src", "api/src"] {
        rust_files(&root.join(dir), &mut files);
    }
    let mut names = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read a source file");
        for (i, _) in text.match_indices("env = \"PATROLCHAT_") {
            let rest = &text[i + "env = \"".len()..];
            let end = rest.find('"').expect("closing quote");
            names.insert(rest[..end].to_owned());
        }
    }
    assert!(names.len() > 40, "found only {names:?}");
    names
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read a source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The `PATROLCHAT_…` names in a text.
fn names_in(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (i, _) in text.match_indices("PATROLCHAT_") {
        let name: String = text[i..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        let name = name.trim_end_matches('_');
        // "every `PATROLCHAT_` setting" names the prefix, not a setting.
        if name != "PATROLCHAT" {
            names.insert(name.to_owned());
        }
    }
    names
}

/// Each setting's default as `patrolchat <command> --help` shows it
/// (empty when it has none).
fn defaults_from_help(settings: &BTreeSet<String>) -> BTreeMap<String, String> {
    let mut defaults: BTreeMap<String, String> = BTreeMap::new();
    for command in [
        "all",
        "ingest",
        "router",
        "api",
        "rebuild",
        "export",
        "bot-token",
        "replay-server",
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_patrolchat"));
        cmd.args([command, "--help"]);
        for name in settings {
            cmd.env_remove(name);
        }
        let out = cmd.output().expect("run patrolchat --help");
        assert!(out.status.success(), "patrolchat {command} --help failed");
        let help = String::from_utf8(out.stdout).expect("utf-8 help");
        let mut current: Option<String> = None;
        for line in help.lines().map(str::trim) {
            // A flag starts a new argument; "- text: ..." lists possible values.
            if line.starts_with('-') && !line.starts_with("- ") {
                current = None;
            }
            if let Some(rest) = line.strip_prefix("[env: ") {
                // `[env: NAME=value]`, or `[env: NAME]` when values are hidden.
                let name = rest.split(['=', ']']).next().unwrap_or_default().to_owned();
                defaults.entry(name.clone()).or_default();
                current = Some(name);
                // A short help puts both on one line.
                if let Some(d) = line.split("[default: ").nth(1) {
                    set_default(&mut defaults, current.as_deref(), d, command);
                }
            } else if let Some(d) = line.strip_prefix("[default: ") {
                set_default(&mut defaults, current.as_deref(), d, command);
            }
        }
    }
    defaults
}

fn set_default(
    defaults: &mut BTreeMap<String, String>,
    name: Option<&str>,
    d: &str,
    command: &str,
) {
    let Some(name) = name else { return };
    let value = d.trim_end_matches(']').trim_matches('"').to_owned();
    let old = defaults.insert(name.to_owned(), value.clone());
    if let Some(old) = old.filter(|o| !o.is_empty()) {
        assert_eq!(
            old, value,
            "{name} has different defaults in different commands (seen in {command})"
        );
    }
}

#[test]
fn env_example_lists_every_setting_with_its_default() {
    let settings = settings_in_code();
    let defaults = defaults_from_help(&settings);
    for name in &settings {
        assert!(defaults.contains_key(name), "{name} is not in any --help");
    }

    let example = std::fs::read_to_string(repo_root().join("deploy/patrolchat.env.example"))
        .expect("read deploy/patrolchat.env.example");
    let mut listed = BTreeSet::new();
    for line in example.lines() {
        let (commented, line) = match line.strip_prefix('#') {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        if !name.starts_with("PATROLCHAT_") || name.contains(' ') {
            continue;
        }
        assert!(
            settings.contains(name),
            "deploy/patrolchat.env.example lists {name}, which patrolchat does not read"
        );
        assert!(listed.insert(name.to_owned()), "{name} listed twice");
        // A commented line shows the default; a set line is a deliberate
        // choice. (clap shows no default for a few settings, e.g. flags.)
        if commented && !defaults[name].is_empty() {
            assert_eq!(
                value, defaults[name],
                "deploy/patrolchat.env.example: the default of {name}"
            );
        }
    }
    let missing: Vec<_> = settings.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "deploy/patrolchat.env.example misses {missing:?}"
    );

    // The guide names every setting too.
    let guide = std::fs::read_to_string(repo_root().join("deploy/README.md"))
        .expect("read deploy/README.md");
    let unknown: Vec<_> = names_in(&guide).difference(&settings).cloned().collect();
    assert!(
        unknown.is_empty(),
        "deploy/README.md names settings patrolchat does not read: {unknown:?}"
    );
}

#[test]
fn deployment_files_name_only_real_settings() {
    let settings = settings_in_code();
    let root = repo_root().join("deploy");
    let mut files = vec![root.join("compose.yaml"), root.join("Dockerfile")];
    for dir in ["k8s", "systemd"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("read a deploy dir") {
            files.push(entry.expect("entry").path());
        }
    }
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read a deploy file");
        let unknown: Vec<_> = names_in(&text).difference(&settings).cloned().collect();
        assert!(
            unknown.is_empty(),
            "{} names settings patrolchat does not read: {unknown:?}",
            file.display()
        );
    }
}

/// The YAML documents of each file, parsed by PyYAML (the repository's
/// `.venv`, else the system's python3).
fn parse_yaml(files: &[PathBuf]) -> BTreeMap<String, Vec<Value>> {
    let venv = repo_root().join(".venv/bin/python");
    let python = if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    };
    let script = "import json, sys, yaml\n\
                  out = {}\n\
                  for path in sys.argv[1:]:\n\
                  \x20   with open(path) as f:\n\
                  \x20       out[path] = [d for d in yaml.safe_load_all(f) if d is not None]\n\
                  print(json.dumps(out))\n";
    let out = Command::new(&python)
        .arg("-c")
        .arg(script)
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "YAML does not parse (PyYAML, installed by deploy/install-deps.sh):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: BTreeMap<String, Vec<Value>> =
        serde_json::from_slice(&out.stdout).expect("JSON from the parser");
    files
        .iter()
        .map(|f| {
            let key = f.display().to_string();
            let docs = parsed[&key].clone();
            let name = f
                .strip_prefix(repo_root())
                .expect("under the repository")
                .display()
                .to_string();
            (name, docs)
        })
        .collect()
}

#[test]
fn compose_file_parses_and_points_at_real_files() {
    let deploy = repo_root().join("deploy");
    let docs = parse_yaml(&[deploy.join("compose.yaml")]);
    let compose = &docs["deploy/compose.yaml"][0];
    let services = compose["services"].as_object().expect("services");
    for name in [
        "nats-1",
        "nats-2",
        "nats-3",
        "redis",
        "redis-replica",
        "sentinel-1",
        "sentinel-2",
        "sentinel-3",
        "ingest",
        "router",
        "api",
    ] {
        assert!(services.contains_key(name), "compose has no {name}");
    }
    // Redis under Sentinel: the replica follows `redis`, each sentinel
    // starts from deploy/sentinel.conf, and the services ask the three.
    let replica: Vec<&str> = services["redis-replica"]["command"]
        .as_array()
        .expect("command")
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    assert!(
        replica
            .windows(3)
            .any(|w| w == ["--replicaof", "redis", "6379"]),
        "{replica:?}"
    );
    let sentinel_conf =
        std::fs::read_to_string(deploy.join("sentinel.conf")).expect("deploy/sentinel.conf");
    assert!(sentinel_conf.contains("sentinel monitor patrolchat redis 6379 2"));
    for n in 1..=3 {
        let s = &services[&format!("sentinel-{n}")];
        let script = s["command"][2].as_str().expect("sh -c script");
        assert!(script.contains("--sentinel"), "sentinel-{n}: {script}");
        assert!(
            s["volumes"][0]
                .as_str()
                .is_some_and(|v| v.starts_with("./sentinel.conf:")),
            "sentinel-{n}"
        );
    }
    for n in 1..=3 {
        let nats = &services[&format!("nats-{n}")];
        assert!(
            nats["image"]
                .as_str()
                .is_some_and(|i| i.starts_with("nats:2.1"))
        );
        let config = nats["command"][1].as_str().expect("-c path");
        let local = config.replace("/etc/patrolchat/nats/", "");
        assert!(deploy.join("nats").join(&local).is_file(), "no {local}");
    }
    for name in ["ingest", "router", "api"] {
        let service = &services[name];
        assert_eq!(service["build"]["dockerfile"], "deploy/Dockerfile");
        assert_eq!(
            service["environment"]["PATROLCHAT_RC_REPLICAS"], "3",
            "{name}"
        );
        assert_eq!(
            service["environment"]["PATROLCHAT_STREAM_REPLICAS"], "3",
            "{name}"
        );
        assert_eq!(service["command"][0], name);
        let redis_url = service["environment"]["PATROLCHAT_REDIS_URL"]
            .as_str()
            .expect("PATROLCHAT_REDIS_URL");
        assert!(
            redis_url.starts_with("redis+sentinel://")
                && redis_url
                    .ends_with("@sentinel-1:26379,sentinel-2:26379,sentinel-3:26379/patrolchat"),
            "{name}: {redis_url}"
        );
    }
    assert_eq!(services["ingest"]["deploy"]["replicas"], 2);
    assert_eq!(services["router"]["deploy"]["replicas"], 2);
    // Every service has metrics on an address of its own, never published;
    // the api publishes its HTTP port only.
    for name in ["ingest", "router", "api"] {
        let service = &services[name];
        assert_eq!(
            service["environment"]["PATROLCHAT_METRICS_ADDR"], "0.0.0.0:9100",
            "{name}"
        );
        for port in service["ports"].as_array().into_iter().flatten() {
            let port = port.as_str().expect("short port syntax");
            assert!(!port.ends_with(":9100"), "{name} publishes its metrics");
        }
    }
    assert_ne!(
        services["api"]["environment"]["PATROLCHAT_HTTP_ADDR"],
        services["api"]["environment"]["PATROLCHAT_METRICS_ADDR"]
    );
    // Every file mounted from the repository exists.
    for service in services.values() {
        for volume in service["volumes"].as_array().into_iter().flatten() {
            let source = volume.as_str().expect("short volume syntax");
            if let Some(rel) = source.strip_prefix("./") {
                let rel = rel.split(':').next().expect("source");
                assert!(deploy.join(rel).exists(), "compose mounts missing ./{rel}");
            }
        }
    }
    assert!(deploy.join("Dockerfile").is_file());
}

#[test]
fn kubernetes_files_parse_and_hold_together() {
    let k8s = repo_root().join("deploy/k8s");
    let docs = parse_yaml(&[
        k8s.join("patrolchat.yaml"),
        k8s.join("nats-values.yaml"),
        k8s.join("redis-values.yaml"),
    ]);
    let manifests = &docs["deploy/k8s/patrolchat.yaml"];
    let by_kind = |kind: &str| -> Vec<&Value> {
        manifests
            .iter()
            .filter(|d| d["kind"] == kind)
            .collect::<Vec<_>>()
    };
    let deployments = by_kind("Deployment");
    let replicas: BTreeMap<&str, u64> = deployments
        .iter()
        .map(|d| {
            (
                d["metadata"]["name"].as_str().expect("name"),
                d["spec"]["replicas"].as_u64().expect("replicas"),
            )
        })
        .collect();
    assert_eq!(replicas["patrolchat-ingest"], 2);
    assert_eq!(replicas["patrolchat-router"], 2);
    assert!(replicas["patrolchat-api"] >= 2);

    let pdbs = by_kind("PodDisruptionBudget");
    for d in &deployments {
        let labels = &d["spec"]["selector"]["matchLabels"];
        assert_eq!(
            &d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"],
            &labels["app.kubernetes.io/name"]
        );
        assert!(
            pdbs.iter()
                .any(|p| &p["spec"]["selector"]["matchLabels"] == labels),
            "no PodDisruptionBudget for {}",
            d["metadata"]["name"]
        );
        let container = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(
            container["envFrom"][0]["configMapRef"]["name"],
            "patrolchat-env"
        );
        assert!(container["resources"]["requests"]["memory"].is_string());
        assert!(
            d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"].as_u64() >= Some(30)
        );
    }
    let api = deployments
        .iter()
        .find(|d| d["metadata"]["name"] == "patrolchat-api")
        .expect("api deployment");
    let container = &api["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    let service = by_kind("Service")[0];
    assert_eq!(
        service["spec"]["selector"]["app.kubernetes.io/name"],
        "patrolchat-api"
    );
    // Prometheus is pointed at each pod's metrics port, which serves
    // PATROLCHAT_METRICS_ADDR; the api's Service carries HTTP only.
    for d in &deployments {
        let name = d["metadata"]["name"].as_str().expect("name");
        let container = &d["spec"]["template"]["spec"]["containers"][0];
        let metrics_port = container["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == "metrics")
            .and_then(|p| p["containerPort"].as_u64())
            .unwrap_or_else(|| panic!("{name} has no metrics port"));
        let annotations = &d["spec"]["template"]["metadata"]["annotations"];
        assert_eq!(
            annotations["prometheus.io/port"],
            metrics_port.to_string(),
            "{name}"
        );
        assert_eq!(annotations["prometheus.io/path"], "/metrics", "{name}");
        let addr = container["env"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["name"] == "PATROLCHAT_METRICS_ADDR")
            .and_then(|e| e["value"].as_str())
            .unwrap_or_else(|| panic!("{name} does not set PATROLCHAT_METRICS_ADDR"));
        assert_eq!(addr, format!("0.0.0.0:{metrics_port}"), "{name}");
    }
    for port in service["spec"]["ports"].as_array().expect("ports") {
        assert_eq!(port["targetPort"], "http", "the Service exposes {port}");
    }

    let env = &by_kind("ConfigMap")[0]["data"];
    assert_eq!(env["PATROLCHAT_RC_REPLICAS"], "3");
    assert_eq!(env["PATROLCHAT_STREAM_REPLICAS"], "3");

    let nats = &docs["deploy/k8s/nats-values.yaml"][0]["config"];
    assert_eq!(nats["cluster"]["replicas"], 3);
    assert_eq!(nats["jetstream"]["enabled"], true);
    let bot = &nats["merge"]["accounts"]["PATROLCHAT"]["users"][1];
    assert_eq!(bot["user"], "bot");
    assert_eq!(bot["permissions"]["subscribe"]["allow"][0], "wf.>");
    assert_eq!(bot["permissions"]["publish"]["deny"][0], ">");

    let redis = docs["deploy/k8s/redis-values.yaml"][0]["commonConfiguration"]
        .as_str()
        .expect("redis configuration")
        .to_owned();
    for line in [
        "appendonly yes",
        "appendfsync everysec",
        "maxmemory-policy noeviction",
    ] {
        assert!(redis.contains(line), "redis-values.yaml lacks {line:?}");
    }
}

#[test]
fn every_shipped_nats_config_is_valid() {
    let nats = repo_root().join("deploy/nats");
    for config in [
        "single.conf",
        "single-auth.conf",
        "cluster/node-1.conf",
        "cluster/node-2.conf",
        "cluster/node-3.conf",
    ] {
        let out = Command::new(nats_server_binary())
            .arg("-t")
            .arg("-c")
            .arg(nats.join(config))
            .env("NATS_SERVICE_PASSWORD", "pcService")
            .env("NATS_BOT_PASSWORD", "pcBot")
            .env("NATS_SYS_PASSWORD", "pcSys")
            .output()
            .expect("run nats-server -t");
        assert!(
            out.status.success(),
            "{config}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Without the passwords the accounts refuse to load.
    let out = Command::new(nats_server_binary())
        .arg("-t")
        .arg("-c")
        .arg(nats.join("single-auth.conf"))
        .env_remove("NATS_SERVICE_PASSWORD")
        .env_remove("NATS_BOT_PASSWORD")
        .env_remove("NATS_SYS_PASSWORD")
        .output()
        .expect("run nats-server -t");
    assert!(!out.status.success(), "accounts loaded without passwords");
}

#[test]
fn systemd_units_verify() {
    let Ok(probe) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("systemd-analyze is not installed: the units are not verified");
        return;
    };
    assert!(probe.status.success());
    // systemd-analyze checks that ExecStart's binary exists: point the
    // units at the ones here.
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut units = Vec::new();
    for entry in std::fs::read_dir(repo_root().join("deploy/systemd")).expect("read units") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read a unit");
        let text = text
            .replace(
                "/usr/local/bin/patrolchat",
                env!("CARGO_BIN_EXE_patrolchat"),
            )
            .replace(
                "/usr/local/bin/nats-server",
                &nats_server_binary().display().to_string(),
            )
            .replace(
                "/usr/bin/redis-server",
                &redis_server_binary().display().to_string(),
            );
        let copy = dir.path().join(path.file_name().expect("file name"));
        std::fs::write(&copy, text).expect("write a unit");
        units.push(copy);
    }
    assert!(units.len() >= 4, "units: {units:?}");
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .args(&units)
        .output()
        .expect("run systemd-analyze verify");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "systemd-analyze verify:\n{stderr}"
    );
}

#[test]
fn every_service_unit_serves_metrics_on_its_own_loopback_port() {
    let mut seen = BTreeMap::new();
    for unit in ["ingest", "router", "api", "all"] {
        let path = repo_root().join(format!("deploy/systemd/patrolchat-{unit}.service"));
        let text = std::fs::read_to_string(&path).expect("read a unit");
        let addr = text
            .lines()
            .find_map(|l| l.strip_prefix("Environment=PATROLCHAT_METRICS_ADDR="))
            .unwrap_or_else(|| panic!("patrolchat-{unit}.service sets no metrics address"));
        let port = addr
            .strip_prefix("127.0.0.1:")
            .unwrap_or_else(|| panic!("{unit}: metrics on {addr}, not the loopback"));
        if let Some(other) = seen.insert(port.to_owned(), unit) {
            panic!("{unit} and {other} share metrics port {port}");
        }
        assert_ne!(port, "8080", "{unit}: metrics on the HTTP port");
    }
}
