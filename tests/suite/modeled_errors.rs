//! Every error an operation answers is one the model (with its overlay) lists for it, or
//! one every operation may answer. Each implemented operation is called with its minimal
//! valid input, and with every top-level string set to the name of an existing resource
//! in each state, so that its not-found, in-use, not-permitted and conflict paths run.

use std::time::Duration;

use appstream_local::api::dispatch::{answerable, IMPLEMENTED};
use appstream_local::error::ApiError;
use appstream_local::model::schema::ShapeKind;
use serde_json::{json, Value};

use crate::common::{start_with, TestServer, Wire, WIRES};
use crate::validation::Examples;

const IMAGE: &str = "AppStream-WinServer2019-10-08-2025";

/// Names of resources in every state the families have: a running fleet associated with
/// a stack, a stopped fleet, a starting one, a running and a pending image builder, a
/// private image, and a user.
const NAMES: &[&str] = &[
    "stack",
    "running",
    "stopped",
    "starting",
    "builder",
    "pending-builder",
    "mine",
    IMAGE,
    "user@example.com",
    "nothing-by-this-name",
];

async fn populated(s: &TestServer, wire: Wire) {
    let fleet = |name: &str| json!({"Name": name, "ImageName": IMAGE, "InstanceType": "stream.standard.small", "ComputeCapacity": {"DesiredInstances": 1}});
    s.ok(wire, "CreateStack", json!({"Name": "stack"})).await;
    for name in ["running", "stopped", "starting"] {
        s.ok(wire, "CreateFleet", fleet(name)).await;
    }
    s.ok(wire, "StartFleet", json!({"Name": "running"})).await;
    s.ok(
        wire,
        "CreateImageBuilder",
        json!({"Name": "builder", "ImageName": IMAGE, "InstanceType": "stream.standard.large"}),
    )
    .await;
    s.ok(
        wire,
        "CreateUpdatedImage",
        json!({"existingImageName": IMAGE, "newImageName": "mine"}),
    )
    .await;
    s.ok(
        wire,
        "CreateUser",
        json!({"UserName": "user@example.com", "AuthenticationType": "USERPOOL"}),
    )
    .await;
    // Let the first transitions end, then start the ones that stay in progress.
    tokio::time::sleep(Duration::from_millis(400)).await;
    s.ok(
        wire,
        "AssociateFleet",
        json!({"StackName": "stack", "FleetName": "running"}),
    )
    .await;
    s.ok(wire, "StartFleet", json!({"Name": "starting"})).await;
    s.ok(wire, "CreateImageBuilder", json!({"Name": "pending-builder", "ImageName": IMAGE, "InstanceType": "stream.standard.large"})).await;
}

/// The minimal valid input, then one variant per (top-level string member, name).
fn inputs(ex: &Examples, op: appstream_local::generated::operations::Operation) -> Vec<Value> {
    let base = ex.valid(op.input());
    let mut all = vec![base.clone()];
    let ShapeKind::Structure { members, .. } = &op.input().shape().kind else {
        return all;
    };
    for member in members.iter() {
        if !matches!(member.target.shape().kind, ShapeKind::String { .. }) {
            continue;
        }
        for name in NAMES {
            let mut input = base.clone();
            input[member.name] = json!(name);
            all.push(input);
        }
    }
    all
}

#[tokio::test]
async fn every_error_an_operation_answers_is_one_it_may_answer() {
    let ex = Examples::load();
    let mut errors_seen = 0;
    for wire in WIRES {
        let s = start_with(appstream_local::Config {
            transition_delay: Duration::from_millis(300),
            ..Default::default()
        })
        .await;
        populated(&s, wire).await;
        for op in IMPLEMENTED {
            for input in inputs(&ex, *op) {
                let reply = s.call(wire, op.name(), input.clone()).await;
                if reply.status == 200 {
                    continue;
                }
                errors_seen += 1;
                // A debug build turns an unlisted error into a fault, so a fault fails too.
                assert!(
                    reply.status < 500,
                    "{wire:?} {} faulted on {input}: {reply:?}",
                    op.name()
                );
                assert!(
                    answerable(*op, reply.code()),
                    "{wire:?} {} answered {} to {input}: {reply:?}",
                    op.name(),
                    reply.code()
                );
            }
        }
    }
    // Hundreds of refusals ran, not a handful.
    assert!(
        errors_seen > 300,
        "only {errors_seen} errors were exercised"
    );
}

#[test]
fn the_check_refuses_a_code_the_model_does_not_list() {
    use appstream_local::generated::operations::Operation;
    let unlisted = ApiError::invalid_combination("x").code;
    assert!(!answerable(Operation::UpdateImagePermissions, &unlisted));
    assert!(answerable(Operation::CreateStack, &unlisted));
    let common = ApiError::validation("x").code;
    assert!(answerable(Operation::UpdateImagePermissions, &common));
}
