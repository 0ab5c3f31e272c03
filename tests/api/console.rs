//! The console's files as the binary serves them (the pages themselves are tested in Chromium: console/test/).

use crate::helpers::*;

#[tokio::test]
async fn the_console_is_served_from_the_binary_under_a_policy_that_allows_only_this_origin() {
    let app = TestApp::spawn_with(|s| s.env = "production".into()).await;
    let page = app.get("/").await;
    assert_eq!(page.status().as_u16(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self';",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    let html = page.text().await.unwrap();
    assert!(html.contains("/console/console.js") && html.contains("/console/console.css"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page names no other host"
    );

    let script = app.get("/console/console.js").await;
    assert_eq!(script.status().as_u16(), 200);
    assert_eq!(
        script.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let etag = script.headers()["etag"].clone();
    let again = app
        .client
        .get(format!("{}/console/console.js", app.url))
        .header("If-None-Match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 304);
    assert_eq!(app.get("/console/favicon.svg").await.status().as_u16(), 200);
    let licences = app
        .get("/console/THIRD-PARTY-LICENSES.txt")
        .await
        .text()
        .await
        .unwrap();
    assert!(licences.contains("govuk-frontend@") && licences.contains("graphql-ws@"));
    // The pages are served only at their own paths, with their policy; nothing else is there.
    for path in [
        "/console/console.html",
        "/console/nothing.js",
        "/console/../Cargo.toml",
    ] {
        assert_eq!(app.get(path).await.status().as_u16(), 404, "{path}");
    }
}

#[tokio::test]
async fn graphiql_is_served_in_production_only_when_configured() {
    let prod = TestApp::spawn_with(|s| s.env = "production".into()).await;
    assert_eq!(prod.get("/graphiql").await.status().as_u16(), 404);
    let configured = TestApp::spawn_with(|s| {
        s.env = "production".into();
        s.graphiql = Some(true);
    })
    .await;
    let page = configured.get("/graphiql").await;
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("/console/graphiql.js"));
    let dev_off = TestApp::spawn_with(|s| s.graphiql = Some(false)).await;
    assert_eq!(dev_off.get("/graphiql").await.status().as_u16(), 404);
}
