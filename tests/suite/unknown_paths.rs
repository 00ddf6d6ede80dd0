//! Paths no route takes: `GET /` says what the server is (a page for a browser, JSON
//! for a tool); any path under `/_` that names no control answers 404 naming every
//! control, whatever the method, and a path under `/_ui/` that names no page gets the
//! state browser's own 404 page. Each control listed answers at its path.

use serde_json::Value;

use crate::common::start;

#[tokio::test]
async fn a_path_under_the_controls_that_names_none_is_404_listing_them() {
    let s = start().await;
    let http = reqwest::Client::new();
    for (method, path) in [
        ("GET", "/_request"),
        ("GET", "/_fault"),
        ("GET", "/_healthz"),
        ("POST", "/_resets"),
        ("DELETE", "/_stat"),
    ] {
        let reply = http
            .request(method.parse().unwrap(), format!("{}{path}", s.url))
            .header("content-type", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status().as_u16(), 404, "{method} {path}");
        let body: Value = serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap();
        let message = body["error"].as_str().unwrap();
        assert!(
            message.contains(&format!("no control at {path}")),
            "{message}"
        );
        for control in ["POST /_reset", "GET|DELETE /_requests", "GET /_ui"] {
            assert!(message.contains(control), "{message}");
        }
    }

    let page = s.get("/_ui/nope").await;
    assert_eq!(page.status().as_u16(), 404);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let text = page.text().await.unwrap();
    assert!(
        text.contains("no page at") && text.contains("/_ui/nope"),
        "{text}"
    );

    // What the list names is served: no listed control is itself a 404.
    let listed = s.get("/_nothing").await;
    let body: Value = serde_json::from_slice(&listed.bytes().await.unwrap()).unwrap();
    let message = body["error"].as_str().unwrap().to_string();
    let list = message.split("The controls are: ").nth(1).unwrap();
    for entry in list.trim_end_matches('.').split(", ") {
        let (methods, path) = entry.split_once(' ').unwrap();
        let path = path.replace("{id}", "no-such-rule");
        for method in methods.split('|') {
            let reply = http
                .request(method.parse().unwrap(), format!("{}{path}", s.url))
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = reply.status().as_u16();
            let text = reply.text().await.unwrap();
            assert!(
                status != 404 || !text.contains("no control at"),
                "{method} {path} is listed but not served: {status} {text}"
            );
            assert_ne!(status, 405, "{method} {path}: {text}");
        }
    }
}

#[tokio::test]
async fn get_on_the_endpoint_says_what_it_is_to_browsers_and_tools_and_api_calls_are_unchanged() {
    let s = start().await;
    let home = s
        .http()
        .get(format!("{}/", s.url))
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(home.status().as_u16(), 200);
    assert!(home.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(home.headers()["x-frame-options"], "DENY");
    let text = home.text().await.unwrap();
    assert!(text.contains("href=\"/_ui\""), "{text}");
    assert!(text.contains("POST /_reset"), "{text}");
    assert!(
        text.contains("PhotonAdminProxyService.&lt;Operation&gt;"),
        "{text}"
    );

    // A tool that asks for no HTML gets the same in JSON.
    let about: Value = serde_json::from_slice(&s.get("/").await.bytes().await.unwrap()).unwrap();
    assert_eq!(about["state_browser"], "/_ui");
    assert_eq!(about["health"], "/_health");
    assert!(
        about["controls"]
            .as_array()
            .unwrap()
            .contains(&"POST /_reset".into()),
        "{about}"
    );

    // A POST to / without a target is still the API's own error, as SDKs expect.
    let reply = s.json_raw(None, b"{}".to_vec(), None).await;
    assert_eq!(reply.status, 400, "{reply:?}");
}
