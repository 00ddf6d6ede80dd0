//! No dangling reference: after a long pseudo-random run of creates, deletes and
//! associations across every family, each association, session, entitlement, theme,
//! application, domain join and tag in `/_state`'s form names something that exists.

use std::collections::BTreeSet;

use appstream_local::api::dispatch::dispatch;
use appstream_local::generated::operations::Operation;
use appstream_local::identity::tenant::Tenant;
use appstream_local::protocol::Protocol;
use appstream_local::request::context::RequestContext;
use appstream_local::state::Store;
use appstream_local::Config;
use serde_json::{json, Value};

/// A small deterministic generator, so a failing run can be named by its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn pick<'a>(&mut self, names: &[&'a str]) -> &'a str {
        names[self.below(names.len() as u64) as usize]
    }
}

const IMAGE: &str = "AppStream-WinServer2019-10-08-2025";

fn arn(kind: &str, name: &str) -> String {
    format!("arn:aws:appstream:us-east-1:000000000000:{kind}/{name}")
}

/// One random request over small pools of names, so that most of them meet.
fn request(rng: &mut Rng) -> (&'static str, Value) {
    let stack = rng.pick(&["s1", "s2"]);
    let fleet = rng.pick(&["f1", "f2", "e1"]);
    let user = rng.pick(&["u1@example.com", "u2@example.com"]);
    let block = rng.pick(&["b1", "b2"]);
    let app = rng.pick(&["a1", "a2"]);
    let builder = rng.pick(&["ab1", "ab2"]);
    let directory = rng.pick(&["d1.example.com", "d2.example.com"]);
    let fleet_input = if fleet == "e1" {
        json!({"Name": fleet, "FleetType": "ELASTIC", "Platform": "WINDOWS_SERVER_2019",
            "InstanceType": "stream.standard.small", "MaxConcurrentSessions": 2,
            "VpcConfig": {"SubnetIds": ["subnet-1", "subnet-2"]}})
    } else if rng.below(2) == 0 {
        json!({"Name": fleet, "ImageName": IMAGE, "InstanceType": "stream.standard.small",
            "ComputeCapacity": {"DesiredInstances": 1},
            "DomainJoinInfo": {"DirectoryName": directory}})
    } else {
        json!({"Name": fleet, "ImageName": IMAGE, "InstanceType": "stream.standard.small",
            "ComputeCapacity": {"DesiredInstances": 1}})
    };
    // Deletes and disassociations weigh more, so resources also go while in use.
    match rng.below(40) {
        30..=32 => (
            "DisassociateFleet",
            json!({"StackName": stack, "FleetName": fleet}),
        ),
        33 | 34 => ("StopFleet", json!({"Name": fleet})),
        35 | 36 => ("DeleteFleet", json!({"Name": fleet})),
        37 => ("DeleteStack", json!({"Name": stack})),
        38 => (
            "DisassociateApplicationFleet",
            json!({"FleetName": fleet, "ApplicationArn": arn("application", app)}),
        ),
        39 => (
            "DeleteEntitlement",
            json!({"Name": "staff", "StackName": stack}),
        ),
        0 | 1 => ("CreateStack", json!({"Name": stack, "Tags": {"k": "v"}})),
        2 => ("DeleteStack", json!({"Name": stack})),
        3 | 4 => ("CreateFleet", fleet_input),
        5 => ("StartFleet", json!({"Name": fleet})),
        6 => ("StopFleet", json!({"Name": fleet})),
        7 => ("DeleteFleet", json!({"Name": fleet})),
        8 => (
            "AssociateFleet",
            json!({"StackName": stack, "FleetName": fleet}),
        ),
        9 => (
            "DisassociateFleet",
            json!({"StackName": stack, "FleetName": fleet}),
        ),
        10 => (
            "CreateUser",
            json!({"UserName": user, "AuthenticationType": "USERPOOL"}),
        ),
        11 => (
            "DeleteUser",
            json!({"UserName": user, "AuthenticationType": "USERPOOL"}),
        ),
        12 => (
            "BatchAssociateUserStack",
            json!({"UserStackAssociations": [
            {"StackName": stack, "UserName": user, "AuthenticationType": "USERPOOL"}]}),
        ),
        13 => (
            "CreateStreamingURL",
            json!({"StackName": stack, "FleetName": fleet, "UserId": "alice"}),
        ),
        14 => (
            "CreateAppBlock",
            json!({"Name": block, "PackagingType": "APPSTREAM2",
            "SourceS3Location": {"S3Bucket": "apps"}, "Tags": {"k": "v"}}),
        ),
        15 => ("DeleteAppBlock", json!({"Name": block})),
        16 => (
            "CreateApplication",
            json!({"Name": app, "LaunchPath": "C:\\\\a.exe",
            "IconS3Location": {"S3Bucket": "apps", "S3Key": "a.png"},
            "Platforms": ["WINDOWS_SERVER_2019"], "InstanceFamilies": ["GENERAL_PURPOSE"],
            "AppBlockArn": arn("app-block", block), "Tags": {"k": "v"}}),
        ),
        17 => ("DeleteApplication", json!({"Name": app})),
        18 => (
            "AssociateApplicationFleet",
            json!({"FleetName": fleet, "ApplicationArn": arn("application", app)}),
        ),
        19 => (
            "CreateEntitlement",
            json!({"Name": "staff", "StackName": stack, "AppVisibility": "ALL",
            "Attributes": [{"Name": "domain", "Value": "x"}]}),
        ),
        20 => (
            "AssociateApplicationToEntitlement",
            json!({"StackName": stack, "EntitlementName": "staff",
            "ApplicationIdentifier": app}),
        ),
        21 => (
            "CreateThemeForStack",
            json!({"StackName": stack, "TitleText": "t", "ThemeStyling": "BLUE",
            "OrganizationLogoS3Location": {"S3Bucket": "brand", "S3Key": "l.png"},
            "FaviconS3Location": {"S3Bucket": "brand", "S3Key": "f.ico"}}),
        ),
        22 => (
            "CreateDirectoryConfig",
            json!({"DirectoryName": directory,
            "OrganizationalUnitDistinguishedNames": ["OU=A"]}),
        ),
        23 => ("DeleteDirectoryConfig", json!({"DirectoryName": directory})),
        24 => (
            "CreateAppBlockBuilder",
            json!({"Name": builder, "Platform": "WINDOWS_SERVER_2019",
            "InstanceType": "stream.standard.small", "VpcConfig": {"SubnetIds": ["subnet-1", "subnet-2"]},
            "Tags": {"k": "v"}}),
        ),
        25 => ("DeleteAppBlockBuilder", json!({"Name": builder})),
        26 => (
            "AssociateAppBlockBuilderAppBlock",
            json!({"AppBlockBuilderName": builder,
            "AppBlockArn": arn("app-block", block)}),
        ),
        27 => (
            "CreateImageBuilder",
            json!({"Name": "ib", "ImageName": IMAGE,
            "InstanceType": "stream.standard.large", "Tags": {"k": "v"}}),
        ),
        28 => ("DeleteImageBuilder", json!({"Name": "ib"})),
        29 => (
            "TagResource",
            json!({"ResourceArn": arn("fleet", fleet), "Tags": {"t": "1"}}),
        ),
        _ => unreachable!(),
    }
}

/// The names of a collection in the exported state.
fn names(state: &Value, field: &str) -> BTreeSet<String> {
    state[field]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn pairs(state: &Value, field: &str) -> Vec<(String, String)> {
    serde_json::from_value(state[field].clone()).unwrap_or_default()
}

fn check(state: &Value, seed: u64) {
    let stacks = names(state, "stacks");
    let fleets = names(state, "fleets");
    let users = names(state, "users");
    let blocks = names(state, "app_blocks");
    let apps = names(state, "applications");
    let builders = names(state, "app_block_builders");
    let image_builders = names(state, "image_builders");
    let directories = names(state, "directory_configs");
    let entitlements = names(state, "entitlements");
    let arn_of = |kind: &str, set: &BTreeSet<String>| -> BTreeSet<String> {
        set.iter().map(|n| arn(kind, n)).collect()
    };
    let block_arns = arn_of("app-block", &blocks);
    let app_arns = arn_of("application", &apps);
    let says = |what: String| format!("seed {seed}: {what}");

    for (stack, fleet) in pairs(state, "fleet_stacks") {
        assert!(
            stacks.contains(&stack) && fleets.contains(&fleet),
            "{}",
            says(format!("fleet_stacks ({stack}, {fleet})"))
        );
    }
    for (stack, user) in pairs(state, "user_stacks") {
        assert!(
            stacks.contains(&stack) && users.contains(&user),
            "{}",
            says(format!("user_stacks ({stack}, {user})"))
        );
    }
    for (fleet, app) in pairs(state, "application_fleets") {
        assert!(
            fleets.contains(&fleet) && app_arns.contains(&app),
            "{}",
            says(format!("application_fleets ({fleet}, {app})"))
        );
    }
    for (entitlement, _) in pairs(state, "entitled_applications") {
        assert!(
            entitlements.contains(&entitlement),
            "{}",
            says(format!("entitled_applications of {entitlement}"))
        );
    }
    for (builder, block) in pairs(state, "app_block_builder_blocks") {
        assert!(
            builders.contains(&builder) && block_arns.contains(&block),
            "{}",
            says(format!("app_block_builder_blocks ({builder}, {block})"))
        );
    }
    for session in state["sessions"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
    {
        let (stack, fleet) = (
            session["StackName"].as_str().unwrap(),
            session["FleetName"].as_str().unwrap(),
        );
        assert!(
            stacks.contains(stack) && fleets.contains(fleet),
            "{}",
            says(format!("session on ({stack}, {fleet})"))
        );
    }
    for key in &entitlements {
        let stack = key.split('/').next().unwrap();
        assert!(
            stacks.contains(stack),
            "{}",
            says(format!("entitlement {key}"))
        );
    }
    for stack in names(state, "themes") {
        assert!(
            stacks.contains(&stack),
            "{}",
            says(format!("theme of {stack}"))
        );
    }
    for app in state["applications"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
    {
        let block = app["AppBlockArn"].as_str().unwrap();
        assert!(
            block_arns.contains(block),
            "{}",
            says(format!("application's app block {block}"))
        );
    }
    for fleet in state["fleets"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
    {
        if let Some(directory) = fleet["fleet"]["DomainJoinInfo"]["DirectoryName"].as_str() {
            assert!(
                directories.contains(directory),
                "{}",
                says(format!("fleet joins {directory}"))
            );
        }
    }
    let existing: BTreeSet<String> = [
        arn_of("stack", &stacks),
        arn_of("fleet", &fleets),
        arn_of("image-builder", &image_builders),
        block_arns.clone(),
        app_arns.clone(),
        arn_of("app-block-builder", &builders),
        arn_of("image", &names(state, "images")),
    ]
    .into_iter()
    .flatten()
    .collect();
    for tagged in state["tags"]["by_arn"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.keys())
    {
        assert!(
            existing.contains(tagged),
            "{}",
            says(format!("tags of {tagged}"))
        );
    }
}

#[test]
fn no_reference_dangles_after_random_operations_on_every_family() {
    let config = Config {
        transition_delay: std::time::Duration::ZERO,
        ..Config::default()
    };
    let tenant = Tenant::default();
    for seed in 1..=8u64 {
        let store = Store::default();
        let mut rng = Rng(0x2545_F491_4F6C_DD1D ^ seed);
        let mut succeeded = 0;
        for _ in 0..600 {
            let (name, input) = request(&mut rng);
            let op = Operation::from_name(name).unwrap();
            let ctx = RequestContext::arriving(&tenant, &config);
            match dispatch(op, &ctx, &store, input, Protocol::AwsJson11, None) {
                Ok(_) => succeeded += 1,
                Err(e) => assert!(e.status < 500, "seed {seed}: {name} faulted: {e}"),
            }
        }
        assert!(
            succeeded > 150,
            "seed {seed}: only {succeeded} requests succeeded"
        );
        for mut tenant_state in store.export() {
            tenant_state.state.settle(f64::MAX);
            check(&serde_json::to_value(&tenant_state.state).unwrap(), seed);
        }
    }
}
