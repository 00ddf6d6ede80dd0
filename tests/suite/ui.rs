//! The state browser at `/_ui`, over HTTP: it lists what every account holds, escapes
//! every value, links each resource to its description, and refreshes itself only while
//! a transition is under way (every 2 s) or a session lives (every 5 s).

use std::time::Duration;

use serde_json::json;

use crate::common::{start_with, TestServer, Wire};

async fn page(s: &TestServer, path: &str) -> (u16, String) {
    let reply = s.get(path).await;
    let status = reply.status().as_u16();
    let kind = reply.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(kind.starts_with("text/html"), "{path}: {kind}");
    (status, reply.text().await.unwrap())
}

#[tokio::test]
async fn the_state_browser_lists_hundreds_of_resources_and_escapes_every_value() {
    let s = start_with(appstream_local::Config {
        transition_delay: Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    let (status, empty) = page(&s, "/_ui").await;
    assert_eq!(status, 200);
    assert!(empty.contains("No account has state yet"));

    for i in 0..300 {
        s.ok(
            Wire::Json,
            "CreateStack",
            json!({"Name": format!("stack-{i:03}")}),
        )
        .await;
    }
    s.ok(
        Wire::Cbor,
        "CreateStack",
        json!({"Name": "hostile", "Description": "<script>alert(1)</script>",
            "DisplayName": "\"><img src=x onerror=alert(2)>", "Tags": {"team": "design"}}),
    )
    .await;
    s.json_as(
        "CreateStack",
        json!({"Name": "elsewhere"}),
        Some(("111111111111", "eu-west-1")),
    )
    .await;
    s.ok(
        Wire::Json,
        "CreateFleet",
        json!({"Name": "f", "InstanceType": "stream.standard.medium",
            "ImageName": "AppStream-WinServer2022-10-08-2025",
            "ComputeCapacity": {"DesiredInstances": 1}}),
    )
    .await;
    s.ok(
        Wire::Json,
        "AssociateFleet",
        json!({"FleetName": "f", "StackName": "hostile"}),
    )
    .await;
    s.ok(Wire::Json, "StartFleet", json!({"Name": "f"})).await;

    let (_, html) = page(&s, "/_ui").await;
    let rows = html.matches("/_ui/000000000000/us-east-1/stacks/").count();
    assert_eq!(rows, 301, "every stack of the account links to its page");
    assert!(html.contains("Account 111111111111 · eu-west-1"));
    assert!(html.contains("/_ui/111111111111/eu-west-1/stacks/elsewhere"));
    // Values are text, never markup.
    assert!(
        !html.contains("<img") && !html.contains("<script"),
        "a value became markup"
    );
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
    assert!(html.contains("team=design"));
    // The association and the fleet's STARTING state, which makes the page refresh.
    assert!(html.contains("Associations: stack ↔ fleet"));
    assert!(html.contains(r#"<span class="state busy">STARTING</span>"#));
    assert!(html.contains(r#"<meta http-equiv="refresh" content="2">"#));
    // Nothing is loaded from the network.
    assert!(!html.contains("http://") && !html.contains("https://"));

    tokio::time::sleep(Duration::from_millis(350)).await;
    let (_, settled) = page(&s, "/_ui").await;
    assert!(settled.contains(r#"<span class="state ok">RUNNING</span>"#));
    assert!(!settled.contains("http-equiv"), "nothing moves: no refresh");
    // A live session can change whenever its user acts: the page looks every 5 s.
    s.ok(
        Wire::Json,
        "CreateStreamingURL",
        json!({"StackName": "hostile", "FleetName": "f", "UserId": "watcher"}),
    )
    .await;
    let (_, live) = page(&s, "/_ui").await;
    assert!(live.contains(r#"<meta http-equiv="refresh" content="5">"#));

    let (status, hostile) = page(&s, "/_ui/000000000000/us-east-1/stacks/hostile").await;
    assert_eq!(status, 200);
    assert!(hostile.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(hostile.contains(
        "&quot;Arn&quot;: &quot;arn:aws:appstream:us-east-1:000000000000:stack/hostile&quot;"
    ));
    let (status, fleet) = page(&s, "/_ui/000000000000/us-east-1/fleets/f").await;
    assert_eq!(status, 200);
    assert!(fleet.contains("&quot;InstanceType&quot;: &quot;stream.standard.medium&quot;"));
    let (status, missing) = page(&s, "/_ui/000000000000/us-east-1/stacks/%3Cb%3Enope").await;
    assert_eq!(status, 404);
    assert!(missing.contains("<code>&lt;b&gt;nope</code>"));
    let (status, _) = page(&s, "/_ui/000000000000/us-east-1/passwords/x").await;
    assert_eq!(status, 404);
}
