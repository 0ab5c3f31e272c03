//! The shape of `src/` stays as docs/architecture.md draws it: a module may use its own layer and those below,
//! never one above. Reads every `crate::` path outside comments.

/// Layers, lowest first; a module may reach its own layer and lower ones.
const LAYERS: &[(&str, u8)] = &[
    ("domain", 0),
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

/// Departures known today, each to be removed (the types belong in `domain`); none may be added.
const KNOWN: &[(&str, &str)] = &[("graphql", "db"), ("auth", "db")];

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
                if theirs > own && !KNOWN.contains(&(module.as_str(), target.as_str())) {
                    upward.insert(format!("{rel}: {module} uses {target}"));
                }
            }
        }
    }
    assert!(upward.is_empty(), "uses of a higher layer: {upward:#?}");
}

#[test]
fn the_known_departures_still_exist_so_the_list_shrinks_when_they_go() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for (from, to) in KNOWN {
        let mut files = vec![];
        sources(&src.join(from), &mut files);
        let found = files.iter().any(|f| {
            std::fs::read_to_string(f).unwrap().lines().any(|l| {
                l.split("//")
                    .next()
                    .unwrap()
                    .contains(&format!("crate::{to}::"))
            })
        });
        assert!(found, "{from} no longer uses {to}: remove it from KNOWN");
    }
}
