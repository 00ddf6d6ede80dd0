//! `--verify-signatures`: real SigV4 signing by the Rust SDK (CBOR) and by aws-sigv4 over
//! raw JSON, with right and wrong secrets, unknown keys, no signature, and stale times;
//! and `--control-token` on the `/_` controls.

use std::time::{Duration, SystemTime};

use serde_json::json;

use crate::common::{sdk_refusal, start_with, TestServer};

async fn verifying() -> TestServer {
    let keys = appstream_local::identity::signatures::KeyStore::from_list(
        "AKIDEXAMPLE:secret,AKIDMAPPED:secret:123456789012",
    )
    .unwrap();
    start_with(appstream_local::Config {
        credentials: Some(std::sync::Arc::new(keys)),
        control_token: Some(appstream_local::config::ControlToken("let-me-in".into())),
        ..Default::default()
    })
    .await
}

#[tokio::test]
async fn the_rust_sdk_signs_right_and_wrong() {
    let s = verifying().await;
    let right = s.sdk();
    right.create_stack().name("signed").send().await.unwrap();
    // The credentials name an account for this key: its requests are that account's.
    let mapped = s.sdk_as("AKIDMAPPED", "eu-west-1");
    let created = mapped.create_stack().name("mapped").send().await.unwrap();
    assert_eq!(
        created.stack().unwrap().arn(),
        Some("arn:aws:appstream:eu-west-1:123456789012:stack/mapped")
    );

    let wrong_secret = {
        let config = right
            .config()
            .to_builder()
            .credentials_provider(aws_sdk_appstream::config::Credentials::new(
                "AKIDEXAMPLE",
                "not-the-secret",
                None,
                None,
                "test",
            ))
            .build();
        aws_sdk_appstream::Client::from_conf(config)
    };
    let (code, status) = sdk_refusal(wrong_secret.describe_stacks().send().await);
    assert_eq!((code.as_str(), status), ("InvalidSignatureException", 403));
    let (code, status) = sdk_refusal(
        s.sdk_as("AKIDUNKNOWN", "us-east-1")
            .describe_stacks()
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), status),
        ("UnrecognizedClientException", 403)
    );
    // Nothing a refused request asked for happened.
    let stacks = right.describe_stacks().send().await.unwrap();
    assert_eq!(stacks.stacks().len(), 1);
}

/// A raw AWS JSON request signed by aws-sigv4 as of `at` with `secret`.
async fn signed_json(s: &TestServer, secret: &str, at: SystemTime) -> (u16, serde_json::Value) {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    let body = br#"{}"#;
    let host = s.addr.to_string();
    let amz_date = chrono::DateTime::<chrono::Utc>::from(at)
        .format("%Y%m%dT%H%M%SZ")
        .to_string();
    let headers = [
        ("host", host.as_str()),
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", "PhotonAdminProxyService.DescribeStacks"),
        ("x-amz-date", amz_date.as_str()),
    ];
    let identity =
        aws_credential_types::Credentials::new("AKIDEXAMPLE", secret, None, None, "test").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("appstream")
        .time(at)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        "POST",
        format!("{}/", s.url),
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut request = s.http().post(format!("{}/", s.url)).body(body.to_vec());
    for (name, value) in headers.iter().skip(1) {
        request = request.header(*name, *value);
    }
    for (name, value) in instructions.headers() {
        if name != "x-amz-date" {
            request = request.header(name, value);
        }
    }
    let reply = request.send().await.unwrap();
    let status = reply.status().as_u16();
    (
        status,
        serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap(),
    )
}

#[tokio::test]
async fn raw_json_is_refused_unsigned_malformed_or_stale_as_aws_refuses_it() {
    let s = verifying().await;
    let now = SystemTime::now();
    let (status, body) = signed_json(&s, "secret", now).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = signed_json(&s, "wrong", now).await;
    assert_eq!(
        (status, &body["__type"]),
        (403, &json!("InvalidSignatureException"))
    );
    assert!(body["message"]
        .as_str()
        .unwrap()
        .starts_with("The request signature we calculated does not match"));
    for stale in [
        now - Duration::from_secs(20 * 60),
        now + Duration::from_secs(20 * 60),
    ] {
        let (status, body) = signed_json(&s, "secret", stale).await;
        assert_eq!(
            (status, &body["__type"]),
            (403, &json!("InvalidSignatureException"))
        );
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .starts_with("Signature expired: "),
            "{body}"
        );
    }
    let unsigned = s.json("DescribeStacks", json!({})).await;
    assert_eq!(
        (unsigned.status, unsigned.code()),
        (403, "MissingAuthenticationTokenException")
    );
    let malformed = s
        .http()
        .post(format!("{}/", s.url))
        .header("x-amz-target", "PhotonAdminProxyService.DescribeStacks")
        .header("content-type", "application/x-amz-json-1.1")
        .header("authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 403);
    assert_eq!(
        malformed.headers()["x-amzn-errortype"],
        "MissingAuthenticationTokenException"
    );
}

#[test]
fn debug_output_names_keys_but_never_secrets_or_the_token() {
    let keys =
        appstream_local::identity::signatures::KeyStore::from_list("AKIDEXAMPLE:hunter2").unwrap();
    let config = appstream_local::Config {
        credentials: Some(std::sync::Arc::new(keys)),
        control_token: Some(appstream_local::config::ControlToken("let-me-in".into())),
        ..Default::default()
    };
    let shown = format!("{config:?}");
    assert!(shown.contains("AKIDEXAMPLE"), "{shown}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("let-me-in"),
        "{shown}"
    );
}

#[tokio::test]
async fn the_control_token_guards_every_control_but_health() {
    let s = verifying().await;
    assert_eq!(s.get("/_health").await.status(), 200);
    for path in ["/_faults", "/_requests", "/_clock", "/_state"] {
        assert_eq!(s.get(path).await.status(), 401, "{path}");
        let allowed = s
            .http()
            .get(format!("{}{path}", s.url))
            .header("authorization", "Bearer let-me-in")
            .send()
            .await
            .unwrap();
        assert_eq!(allowed.status(), 200, "{path}");
    }
    let (status, _) = s.control("/_reset", "{}").await;
    assert_eq!(status, 401);
    let wrong = s
        .http()
        .post(format!("{}/_reset", s.url))
        .header("authorization", "Bearer let-me-out")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
}

#[tokio::test]
async fn a_browser_gives_the_control_token_once_and_keeps_it_for_the_state_browser_only() {
    let s = verifying().await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: &str, cookie: Option<&str>| {
        let request = browser.get(format!("{}{path}", s.url));
        match cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        }
        .send()
    };
    let refused = get("/_ui", None).await.unwrap();
    assert_eq!(refused.status(), 401);
    let page = refused.text().await.unwrap();
    assert!(page.contains("/_ui?control_token=TOKEN"), "{page}");
    let wrong = get("/_ui?control_token=let-me-out", None).await.unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().get("set-cookie").is_none());

    let given = get("/_ui?control_token=let-me-in", None).await.unwrap();
    assert_eq!(given.status(), 303);
    assert_eq!(given.headers()["location"], "/_ui");
    let set = given.headers()["set-cookie"].to_str().unwrap().to_string();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/_ui"] {
        assert!(set.contains(part), "{set}");
    }
    let cookie = set.split(';').next().unwrap();
    let overview = get("/_ui", Some(cookie)).await.unwrap();
    assert_eq!(overview.status(), 200);
    assert!(overview.text().await.unwrap().contains("Emulated state"));
    // The cookie opens nothing else, and no control that changes state.
    assert_eq!(get("/_state", Some(cookie)).await.unwrap().status(), 401);
    let reset = browser
        .post(format!("{}/_reset", s.url))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 401);
    let forged = get("/_ui", Some("appstream_local_control=let-me-out"))
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
}

#[tokio::test]
async fn two_embedded_servers_stay_independent() {
    let a = appstream_local::Server::builder()
        .port(0)
        .start()
        .await
        .unwrap();
    let b = appstream_local::Server::builder()
        .port(0)
        .transition_seconds(0.0)
        .start()
        .await
        .unwrap();
    assert_ne!(a.url(), b.url());
    let (ta, tb) = (
        TestServer::at(&a.addr().to_string()),
        TestServer::at(&b.addr().to_string()),
    );
    ta.json("CreateStack", json!({"Name": "only-in-a"})).await;
    let in_b = tb.json("DescribeStacks", json!({})).await;
    assert_eq!(in_b.body["Stacks"], json!([]));
    a.shutdown().await;
    // b still serves after a has stopped.
    let still = tb.json("DescribeStacks", json!({})).await;
    assert_eq!(still.status, 200);
    assert!(ta
        .try_call(crate::common::Wire::Json, "DescribeStacks", json!({}))
        .await
        .is_err());
    b.shutdown().await;
}
