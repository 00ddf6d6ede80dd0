//! Streaming URLs over HTTP, as a browser follows them: the URL points at the emulator,
//! opening it connects the session and forwards to its page, the page's buttons
//! disconnect, reconnect and end it, and what the API reports follows every step.
//! Refused URLs get a 403 or 404 page; builder URLs open builder pages.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{cbor_epoch, start_with, TestServer, Wire, WIRES};
/// A client that shows redirects instead of following them, as the tests check each hop.
pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The response to GET `url`: status, Location, body.
pub(crate) async fn open(url: &str) -> (u16, String, String) {
    let reply = browser().get(url).send().await.unwrap();
    let status = reply.status().as_u16();
    let location = reply
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location, reply.text().await.unwrap())
}

/// Follows a streaming URL as a browser does: the 303 to the page, then the page. Returns
/// the page's address and its HTML.
pub(crate) async fn follow(s: &TestServer, url: &str) -> (String, String) {
    let (status, location, _) = open(url).await;
    assert_eq!(status, 303, "{url}");
    let page_url = format!("{}{location}", s.url);
    let (status, _, page) = open(&page_url).await;
    assert_eq!(status, 200, "{page}");
    (page_url, page)
}

/// A page's form fields: its signed `parameters` and `signature`.
pub(crate) fn signed_fields(page: &str) -> String {
    let field = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        let start = page.find(&marker).unwrap() + marker.len();
        let end = start + page[start..].find('"').unwrap();
        format!("{name}={}", &page[start..end])
    };
    format!("{}&{}", field("parameters"), field("signature"))
}

/// Presses the page's `action` button: POSTs its form.
pub(crate) async fn press(s: &TestServer, action: &str, form: &str) -> (u16, String, String) {
    let reply = browser()
        .post(format!("{}/streaming/{action}", s.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_string())
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    let location = reply
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location, reply.text().await.unwrap())
}

pub(crate) async fn fast_server() -> TestServer {
    start_with(appstream_local::Config {
        transition_delay: Duration::ZERO,
        ..Default::default()
    })
    .await
}

/// A running fleet `fl` on stack `st`, with a theme and user settings.
pub(crate) async fn stack_and_fleet(s: &TestServer, wire: Wire) {
    s.ok(
        wire,
        "CreateStack",
        json!({"Name": "st", "DisplayName": "Sales <desk>",
            "UserSettings": [{"Action": "FILE_DOWNLOAD", "Permission": "DISABLED"},
                {"Action": "PRINTING_TO_LOCAL_DEVICE", "Permission": "DISABLED"}]}),
    )
    .await;
    s.ok(
        wire,
        "CreateThemeForStack",
        json!({"StackName": "st", "TitleText": "Sales & Co. Portal",
            "ThemeStyling": "PINK",
            "OrganizationLogoS3Location": {"S3Bucket": "bkt", "S3Key": "logo.png"},
            "FaviconS3Location": {"S3Bucket": "bkt", "S3Key": "f.ico"},
            "FooterLinks": [{"DisplayName": "Help", "FooterLinkURL": "https://help.example.com"},
                {"DisplayName": "Sneaky", "FooterLinkURL": "javascript:alert(1)"}]}),
    )
    .await;
    s.ok(
        wire,
        "CreateFleet",
        json!({"Name": "fl", "InstanceType": "stream.standard.medium", "StreamView": "DESKTOP",
            "ImageName": "AppStream-WinServer2022-10-08-2025", "MaxUserDurationInSeconds": 7200,
            "ComputeCapacity": {"DesiredInstances": 1}}),
    )
    .await;
    s.ok(
        wire,
        "AssociateFleet",
        json!({"StackName": "st", "FleetName": "fl"}),
    )
    .await;
    s.ok(wire, "StartFleet", json!({"Name": "fl"})).await;
}

pub(crate) async fn sessions(s: &TestServer, wire: Wire) -> Vec<Value> {
    s.ok(
        wire,
        "DescribeSessions",
        json!({"StackName": "st", "FleetName": "fl"}),
    )
    .await["Sessions"]
        .as_array()
        .unwrap()
        .clone()
}

pub(crate) fn url_of(created: &Value) -> String {
    created["StreamingURL"].as_str().unwrap().to_string()
}

/// The URL `operation` (one of the three Create*StreamingURL) hands out for `input`.
pub(crate) async fn streaming_url(
    s: &TestServer,
    wire: Wire,
    operation: &str,
    input: Value,
) -> String {
    url_of(&s.ok(wire, operation, input).await)
}

#[tokio::test]
async fn a_session_page_connects_disconnects_and_ends_as_the_api_reports() {
    for wire in WIRES {
        let s = fast_server().await;
        stack_and_fleet(&s, wire).await;
        let url = streaming_url(
            &s,
            wire,
            "CreateStreamingURL",
            json!({"StackName": "st", "FleetName": "fl", "UserId": "alice"}),
        )
        .await;
        assert!(
            url.starts_with(&format!("{}/authenticate?parameters=", s.url)),
            "{url}"
        );
        assert!(!url.contains("alice") && !url.contains("fl&"), "{url}");
        let pending = &sessions(&s, wire).await[0];
        assert_eq!(pending["State"], "PENDING");
        assert_eq!(pending["ConnectionState"], "NOT_CONNECTED");
        assert!(pending.get("StartTime").is_none(), "{pending}");

        // Opening the URL connects, then forwards to the page.
        let (status, location, _) = open(&url).await;
        assert_eq!(status, 303);
        assert!(location.starts_with("/streaming?parameters="), "{location}");
        let active = &sessions(&s, wire).await[0];
        assert_eq!(active["State"], "ACTIVE");
        assert_eq!(active["ConnectionState"], "CONNECTED");
        let started = cbor_epoch(wire, &active["StartTime"]);
        let ends = cbor_epoch(wire, &active["MaxExpirationTime"]);
        assert_eq!(
            ends - started,
            7200.0,
            "the fleet's MaxUserDurationInSeconds"
        );

        let page_url = format!("{}{location}", s.url);
        let (status, _, page) = open(&page_url).await;
        assert_eq!(status, 200);
        for shown in [
            "Signed in as <strong>alice</strong>",
            "<h1>Sales &amp; Co. Portal</h1>",
            "(Sales &lt;desk&gt;)",
            "background:#c2366f",
            "<div class=\"icon\">D</div>Desktop",
            "<span class=\"chip off\" title=\"FILE_DOWNLOAD\">",
            "<span class=\"chip off\" title=\"PRINTING_TO_LOCAL_DEVICE\">",
            "<span class=\"chip on\" title=\"FILE_UPLOAD\">",
            "<a href=\"https://help.example.com\"",
            "<span>Sneaky</span>",
            ">CONNECTED<",
            "Disconnect",
        ] {
            assert!(page.contains(shown), "{shown} in {page}");
        }
        assert!(!page.contains("<script>") && !page.contains("javascript:"));

        // Disconnect, reconnect, end: each shows through the API and on the page.
        let form = signed_fields(&page);
        let (status, back, _) = press(&s, "disconnect", &form).await;
        assert_eq!((status, back.as_str()), (303, location.as_str()));
        assert_eq!(
            sessions(&s, wire).await[0]["ConnectionState"],
            "NOT_CONNECTED"
        );
        assert_eq!(sessions(&s, wire).await[0]["State"], "ACTIVE");
        let (_, _, page) = open(&page_url).await;
        assert!(page.contains(">NOT_CONNECTED<") && page.contains("Reconnect"));
        press(&s, "reconnect", &form).await;
        assert_eq!(sessions(&s, wire).await[0]["ConnectionState"], "CONNECTED");
        // The session started once: reconnecting keeps its StartTime.
        let again = &sessions(&s, wire).await[0];
        assert_eq!(again["StartTime"], active["StartTime"]);
        // Opening the URL again while it is valid reconnects the same session.
        press(&s, "disconnect", &form).await;
        assert_eq!(open(&url).await.0, 303);
        let reopened = sessions(&s, wire).await;
        assert_eq!(reopened.len(), 1);
        assert_eq!(reopened[0]["ConnectionState"], "CONNECTED");
        assert_eq!(reopened[0]["StartTime"], active["StartTime"]);
        let (status, _, _) = press(&s, "end", &form).await;
        assert_eq!(status, 303);
        assert!(sessions(&s, wire).await.is_empty());
        let (status, _, page) = open(&page_url).await;
        assert_eq!(status, 200);
        assert!(page.contains("has ended"), "{page}");
        let (status, _, page) = press(&s, "disconnect", &form).await;
        assert_eq!(status, 404, "{page}");
        assert!(page.contains("has ended"), "{page}");
    }
}

#[tokio::test]
async fn a_session_ended_through_the_api_shows_as_ended_and_its_url_opens_no_more() {
    let s = fast_server().await;
    stack_and_fleet(&s, Wire::Json).await;
    let url = streaming_url(
        &s,
        Wire::Json,
        "CreateStreamingURL",
        json!({"StackName": "st", "FleetName": "fl", "UserId": "bob"}),
    )
    .await;
    let (page_url, _) = follow(&s, &url).await;
    let id = sessions(&s, Wire::Json).await[0]["Id"].clone();
    s.ok(Wire::Json, "ExpireSession", json!({ "SessionId": id }))
        .await;
    let (status, _, page) = open(&page_url).await;
    assert_eq!(status, 200);
    assert!(page.contains("has ended") && !page.contains("http-equiv=\"refresh\""));
    // The URL itself, still within its validity, starts nothing again.
    let (status, _, page) = open(&url).await;
    assert_eq!(status, 200);
    assert!(page.contains("has ended"));
    assert!(sessions(&s, Wire::Json).await.is_empty());
}

#[tokio::test]
async fn expired_forged_and_unknown_urls_get_clear_403_and_404_pages() {
    let s = fast_server().await;
    stack_and_fleet(&s, Wire::Json).await;
    let url = streaming_url(
        &s,
        Wire::Json,
        "CreateStreamingURL",
        json!({"StackName": "st", "FleetName": "fl", "UserId": "carol", "Validity": 30}),
    )
    .await;
    let (query_start, signature) = url.rsplit_once("&signature=").unwrap();
    let mut flipped = signature.to_string();
    let first = if flipped.starts_with('A') { "B" } else { "A" };
    flipped.replace_range(..1, first);
    let forged_signature = format!("{query_start}&signature={flipped}");
    let parameters = query_start.split_once("parameters=").unwrap().1;
    let forged_parameters = url.replacen(parameters, &format!("{parameters}A"), 1);
    let other_process = {
        let t = fast_server().await;
        stack_and_fleet(&t, Wire::Json).await;
        streaming_url(
            &t,
            Wire::Json,
            "CreateStreamingURL",
            json!({"StackName": "st", "FleetName": "fl", "UserId": "carol"}),
        )
        .await
        .replace(&t.url, &s.url)
    };
    for forged in [forged_signature, forged_parameters, other_process] {
        let (status, _, page) = open(&forged).await;
        assert_eq!(status, 403, "{forged}");
        assert!(page.contains("signature does not match"), "{page}");
    }
    for unknown in [
        "/authenticate",
        "/authenticate?parameters=abc&signature=%%%",
        "/streaming?parameters=x",
        "/streaming/nothing",
    ] {
        let (status, _, page) = open(&format!("{}{unknown}", s.url)).await;
        assert!(status == 404 || status == 405, "{unknown}: {status}");
        if status == 404 {
            assert!(page.contains("not a streaming URL"), "{unknown}: {page}");
        }
    }
    // A page's grant does not open as a URL, nor a URL's as a page.
    let entry_query = url.split_once('?').unwrap().1;
    let (status, _, _) = open(&format!("{}/streaming?{entry_query}", s.url)).await;
    assert_eq!(status, 404);

    // Past its validity on the emulator's clock, the URL is refused and connects nothing.
    let (status, _) = s.control("/_clock", r#"{"advance_seconds": 31}"#).await;
    assert_eq!(status, 200);
    let (status, _, page) = open(&url).await;
    assert_eq!(status, 403);
    assert!(page.contains("has expired"), "{page}");
    assert_eq!(sessions(&s, Wire::Json).await[0]["State"], "PENDING");
}

#[tokio::test]
async fn urls_point_where_the_client_reached_the_server_or_where_it_is_told() {
    let s = start_with(appstream_local::Config {
        transition_delay: Duration::ZERO,
        allowed_hosts: vec!["appstream.test".into()],
        ..Default::default()
    })
    .await;
    stack_and_fleet(&s, Wire::Json).await;
    let request = json!({"StackName": "st", "FleetName": "fl", "UserId": "dan"});
    for wire in WIRES {
        for (host, expected) in [
            (
                "appstream.test:8080",
                "http://appstream.test:8080/authenticate?",
            ),
            ("127.0.0.1:4600", "http://127.0.0.1:4600/authenticate?"),
        ] {
            let reply = s
                .call_with_header(wire, "CreateStreamingURL", &request, ("host", host))
                .await;
            assert_eq!(reply.status, 200, "{wire:?} {host}: {reply:?}");
            let url = url_of(&reply.body);
            assert!(url.starts_with(expected), "{wire:?} {host}: {url}");
        }
        // A Host that is not one of the server's own names is refused before any URL is
        // made (a Host that is no plain host and port would point nowhere: the unit
        // tests of streaming.rs show it ignored).
        let reply = s
            .call_with_header(
                wire,
                "CreateStreamingURL",
                &request,
                ("host", "evil.test/x?y="),
            )
            .await;
        assert_eq!(reply.status, 403, "{wire:?}: {reply:?}");
    }

    for (base, style, expected) in [
        (
            Some("http://appstream:4599/"),
            appstream_local::identity::streaming::UrlStyle::Emulator,
            "http://appstream:4599/authenticate?parameters=",
        ),
        (
            None,
            appstream_local::identity::streaming::UrlStyle::Aws,
            "https://appstream2.us-east-1.aws.amazon.com/authenticate?parameters=",
        ),
    ] {
        let mut config = appstream_local::Config {
            transition_delay: Duration::ZERO,
            ..Default::default()
        };
        config.streaming.base = base.map(str::to_string);
        config.streaming.style = style;
        let t = start_with(config).await;
        stack_and_fleet(&t, Wire::Cbor).await;
        if let Some(base) = base {
            // The base's host is one of the server's names: browsers reach it there.
            let host = base.trim_start_matches("http://").trim_end_matches('/');
            let reply = t
                .call_with_header(Wire::Json, "DescribeStacks", &json!({}), ("host", host))
                .await;
            assert_eq!(reply.status, 200, "{host}");
        }
        let url = streaming_url(&t, Wire::Cbor, "CreateStreamingURL", request.clone()).await;
        assert!(url.starts_with(expected), "{url}");
        // Whatever the host, the query opens here.
        let here = format!("{}/authenticate?{}", t.url, url.split_once('?').unwrap().1);
        assert_eq!(open(&here).await.0, 303);
    }
}
