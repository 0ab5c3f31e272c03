//! The shape of `src/` stays as docs/architecture.md draws it: a module may use its own layer and those below,
//! never one above. Reads every `crate::` path outside comments.

/// Layers, lowest first; a module may reach its own layer and lower ones.
const LAYERS: &[(&str, u8)] = &[
    ("domain", 0),
    ("codes", 0),
    ("error", 0),
    ("secret", 0),
    ("metrics", 0),
    ("db", 1),
    ("auth", 1),
    ("service", 2),
    ("graphql", 3),
    ("jobs", 3),
    ("http", 4),
    ("config", 5),
    ("startup", 6),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![];
    sources(&src, &mut files);
    let mut upward = std::collections::BTreeSet::new();
    for file in files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .to_string();
        let module = rel
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        let Some(own) = layer(&module) else {
            assert!(
                ["lib", "main"].contains(&module.as_str()),
                "{rel}: a module missing from LAYERS"
            );
            continue;
        };
        for line in std::fs::read_to_string(&file).unwrap().lines() {
            let code = line.split("//").next().unwrap();
            for used in code.split("crate::").skip(1) {
                let target: String = used
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let Some(theirs) = layer(&target) else {
                    continue;
                };
                if theirs > own {
                    upward.insert(format!("{rel}: {module} uses {target}"));
                }
            }
        }
    }
    assert!(upward.is_empty(), "uses of a higher layer: {upward:#?}");
}

/// Every `crate::` module each top-level module of `src/` names outside comments.
fn uses() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![];
    sources(&src, &mut files);
    let mut out: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    for file in files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .to_string();
        let module = rel
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        for line in std::fs::read_to_string(&file).unwrap().lines() {
            let code = line.split("//").next().unwrap();
            for used in code.split("crate::").skip(1) {
                let target: String = used
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if layer(&target).is_some() && target != module {
                    out.entry(module.clone()).or_default().insert(target);
                }
            }
        }
    }
    out
}

#[test]
fn no_two_modules_of_one_layer_use_each_other() {
    let uses = uses();
    let mut circles = vec![];
    for (from, targets) in &uses {
        for to in targets {
            if from < to && uses.get(to).is_some_and(|t| t.contains(from)) {
                circles.push(format!("{from} <-> {to}"));
            }
        }
    }
    assert!(circles.is_empty(), "import circles: {circles:?}");
}

/// Access is decided in `auth/` (the policy): no other module matches on a role. Naming a role to build the
/// service's own principal or seed data is not a decision, and is allowed where listed.
#[test]
fn no_module_outside_auth_decides_by_role() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![];
    sources(&src, &mut files);
    let mut found = vec![];
    for file in files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .to_string();
        if rel.starts_with("auth/") || rel == "service/seed.rs" {
            continue;
        }
        for (n, line) in std::fs::read_to_string(&file).unwrap().lines().enumerate() {
            let code = line.split("//").next().unwrap();
            if code.contains("Role::") && !code.trim_start().starts_with("role: Role::") {
                found.push(format!("{rel}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "role decisions outside auth::policy: {found:#?}"
    );
}

/// GraphQL object types sit below the operations: nothing under `graphql/objects/` names an area's queries,
/// mutations or subscriptions.
#[test]
fn graphql_object_types_never_use_an_operation() {
    let objects = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/graphql/objects");
    let mut files = vec![];
    sources(&objects, &mut files);
    assert!(files.len() >= 5);
    let operations = [
        "alerts",
        "breaches",
        "deadlines",
        "audit",
        "query",
        "mutation",
        "delivery",
        "statistics",
        "applications",
        "subjects",
    ];
    let mut found = vec![];
    for file in files {
        for (n, line) in std::fs::read_to_string(&file).unwrap().lines().enumerate() {
            let code = line.split("//").next().unwrap();
            let upward = code.contains("super::super::")
                || operations
                    .iter()
                    .any(|op| code.contains(&format!("crate::graphql::{op}::")));
            if upward {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "object types using operations: {found:#?}"
    );
}

/// A file past 400 lines says why in its module comment ("Past 400 lines"), and a function longer than 80 lines
/// says why in the comment above it ("Longer than 80 lines"), so that size is a choice someone made.
#[test]
fn long_files_and_functions_say_why() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![];
    sources(&root, &mut files);
    let mut unexplained = vec![];
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let name = path.strip_prefix(&root).unwrap().display().to_string();
        let head = lines
            .iter()
            .take(20)
            .copied()
            .collect::<Vec<_>>()
            .join("\n");
        if lines.len() > 400 && !head.contains("Past 400 lines") {
            unexplained.push(format!("{name}: {} lines", lines.len()));
        }
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            let body = line.trim_start();
            let indent = &line[..line.len() - body.len()];
            let is_fn = [
                "fn ",
                "pub fn ",
                "async fn ",
                "pub async fn ",
                "pub(crate) fn ",
                "pub(super) fn ",
                "pub(crate) async fn ",
                "pub(super) async fn ",
            ]
            .iter()
            .any(|p| body.starts_with(p));
            if !is_fn || body.ends_with(';') {
                i += 1;
                continue;
            }
            let close = format!("{indent}}}");
            let end = (i + 1..lines.len())
                .find(|&j| lines[j] == close)
                .unwrap_or(i);
            let before = lines[i.saturating_sub(8)..i].join("\n");
            if end - i + 1 > 80 && !before.contains("Longer than 80") {
                unexplained.push(format!(
                    "{name}:{}: a function of {} lines",
                    i + 1,
                    end - i + 1
                ));
            }
            i = end.max(i) + 1;
        }
    }
    assert!(
        unexplained.is_empty(),
        "split these or say why at their top:\n{}",
        unexplained.join("\n")
    );
}
