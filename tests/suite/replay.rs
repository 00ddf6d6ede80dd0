//! Replaying the journal gives exactly the live state, however reads and writes
//! interleave with transitions coming due.

use std::path::PathBuf;
use std::time::Duration;

use appstream_local::api::dispatch::dispatch;
use appstream_local::durability::Durable;
use appstream_local::generated::operations::Operation;
use appstream_local::identity::tenant::Tenant;
use appstream_local::protocol::Protocol;
use appstream_local::request::context::RequestContext;
use appstream_local::{durable_store, Config};
use serde_json::{json, Value};

fn temp_dir(label: &str) -> PathBuf {
    std::env::temp_dir().join(format!("appstream-local-{label}-{}", uuid::Uuid::new_v4()))
}

fn run(durable: &Durable, ctx: &RequestContext, op: &str, input: Value) -> u16 {
    let op = Operation::from_name(op).unwrap();
    let journal = Some(&*durable.journal as _);
    match dispatch(op, ctx, &durable.store, input, Protocol::AwsJson11, journal) {
        Ok(_) => 200,
        Err(e) => e.status,
    }
}

fn call(store: &Durable, config: &Config, op: &str, input: Value) -> u16 {
    let tenant = Tenant::default();
    let ctx = RequestContext::arriving(&tenant, config);
    run(store, &ctx, op, input)
}

/// Every region's state once every pending transition has come due, so that states a
/// read settled live and states a replay leaves pending compare equal.
fn settled(durable: &Durable) -> Value {
    let mut tenants = durable.store.export();
    for tenant in tenants.iter_mut() {
        tenant.state.settle(f64::MAX);
    }
    serde_json::to_value(tenants).unwrap()
}

fn fleet(name: &str) -> Value {
    json!({"Name": name, "InstanceType": "stream.standard.small", "ImageName": "AppStream-WinServer2019-10-08-2025", "ComputeCapacity": {"DesiredInstances": 1}})
}

/// A durable store in `dir` with fleet `f` started, run, and just asked to stop: STOPPING
/// until one more transition delay has passed.
fn stopping_fleet(dir: &std::path::Path, config: &Config) -> Durable {
    let store = durable_store(dir, config).unwrap();
    assert_eq!(call(&store, config, "CreateFleet", fleet("f")), 200);
    assert_eq!(
        call(&store, config, "StartFleet", json!({"Name": "f"})),
        200
    );
    config
        .clock
        .advance(config.transition_delay.as_secs_f64() * 1.5);
    assert_eq!(call(&store, config, "StopFleet", json!({"Name": "f"})), 200);
    store
}

/// The race a hostile probe found: a write arrives just before a fleet's STOPPING ends,
/// a read arriving after the due time settles it to STOPPED, then the write takes the
/// lock. Live, StartFleet saw STOPPED; replayed at its arrival time it met STOPPING and
/// the state directory could not be loaded. The write's time is now taken under the lock.
#[tokio::test]
async fn a_write_overtaken_by_a_settling_read_replays_as_it_ran() {
    let dir = temp_dir("race");
    let config = Config {
        transition_delay: Duration::from_secs(10),
        ..Config::default()
    };
    let store = stopping_fleet(&dir, &config);
    let clock = config.clock.clone();

    // StartFleet arrives while the fleet is still STOPPING...
    clock.advance(5.0);
    let tenant = Tenant::default();
    let late_write = RequestContext::arriving(&tenant, &config);
    // ...a read arriving after STOPPING has ended settles the fleet to STOPPED...
    clock.advance(10.0);
    assert_eq!(
        call(&store, &config, "DescribeFleets", json!({"Names": ["f"]})),
        200
    );
    // ...and only then does the write run.
    assert_eq!(
        run(&store, &late_write, "StartFleet", json!({"Name": "f"})),
        200
    );
    let live = settled(&store);

    // A restart without a clean stop replays the journal.
    drop(store);
    let replayed = durable_store(&dir, &config).expect("the journal replays");
    assert_eq!(settled(&replayed), live);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A small deterministic generator, so a failing round can be named by its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Random reads and writes from several threads against fleets with tiny transitions;
/// the server is then dropped without a clean stop, and the replayed state must equal
/// the live one.
#[test]
fn concurrent_reads_and_writes_with_tiny_transitions_replay_exactly() {
    for round in 0..6u64 {
        let dir = temp_dir("replay-prop");
        let config = Config {
            transition_delay: Duration::from_millis(3),
            ..Config::default()
        };
        let store = durable_store(&dir, &config).unwrap();
        std::thread::scope(|scope| {
            for worker in 0..4u64 {
                let store: &Durable = &store;
                let config = &config;
                scope.spawn(move || {
                    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (round * 31 + worker + 1));
                    for _ in 0..150 {
                        let name = format!("f{}", rng.below(3));
                        let (op, input) = match rng.below(7) {
                            0 => ("CreateFleet", fleet(&name)),
                            1 | 2 => ("StartFleet", json!({"Name": name})),
                            3 => ("StopFleet", json!({"Name": name})),
                            4 => ("DeleteFleet", json!({"Name": name})),
                            _ => ("DescribeFleets", json!({})),
                        };
                        // A request may wait between arriving and taking the lock, as
                        // one behind a slow body or a busy worker does.
                        let tenant = Tenant::default();
                        let ctx = RequestContext::arriving(&tenant, config);
                        std::thread::sleep(Duration::from_micros(rng.below(4000)));
                        run(store, &ctx, op, input);
                    }
                });
            }
        });
        let live = settled(&store);
        drop(store);
        let replayed = durable_store(&dir, &config)
            .unwrap_or_else(|e| panic!("round {round}: the journal does not replay: {e}"));
        assert_eq!(settled(&replayed), live, "round {round}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A record replays under the rules it ran under, not the flags of the restart: a fleet
/// stopped with 1 s transitions and started again 1.5 s later loads under 60 s
/// transitions, and eleven stacks made without quotas load under `--enforce-quotas`.
#[tokio::test]
async fn a_restart_with_other_flags_replays_under_the_recorded_rules() {
    let dir = temp_dir("rules");
    let config = Config {
        transition_delay: Duration::from_secs(1),
        ..Config::default()
    };
    let store = stopping_fleet(&dir, &config);
    let clock = config.clock.clone();
    clock.advance(1.5);
    assert_eq!(
        call(&store, &config, "StartFleet", json!({"Name": "f"})),
        200
    );
    for i in 0..11 {
        let stack = json!({"Name": format!("s{i}")});
        assert_eq!(call(&store, &config, "CreateStack", stack), 200);
    }
    let live = settled(&store);
    drop(store);

    let other_flags = Config {
        transition_delay: Duration::from_secs(60),
        enforce_quotas: true,
        ..Config::default()
    };
    let replayed = durable_store(&dir, &other_flags).expect("the journal replays");
    assert_eq!(settled(&replayed), live);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A builder's streaming URL changes nothing, so it runs as a read and adds no record.
#[test]
fn a_builder_streaming_url_is_a_read_and_records_nothing() {
    let dir = temp_dir("read-url");
    let config = Config {
        transition_delay: Duration::ZERO,
        ..Config::default()
    };
    let durable = durable_store(&dir, &config).unwrap();
    let builder = json!({"Name": "b", "ImageName": "AppStream-WinServer2019-10-08-2025", "InstanceType": "stream.standard.large"});
    assert_eq!(call(&durable, &config, "CreateImageBuilder", builder), 200);
    let records = || {
        std::fs::read_to_string(dir.join("journal.log"))
            .unwrap()
            .lines()
            .count()
    };
    let before = records();
    assert_eq!(before, 1);
    let url = json!({"Name": "b"});
    assert_eq!(
        call(&durable, &config, "CreateImageBuilderStreamingURL", url),
        200
    );
    assert_eq!(records(), before);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Tagging finds loaded resources, whether the state comes back from the journal or from
/// a snapshot.
#[test]
fn resources_loaded_from_a_snapshot_can_be_tagged() {
    let dir = temp_dir("tag-after-load");
    let config = Config::default();
    let arn = "arn:aws:appstream:us-east-1:000000000000:stack/s";
    let tag = |durable: &Durable| {
        let input = json!({"ResourceArn": arn, "Tags": {"k": "v"}});
        call(durable, &config, "TagResource", input)
    };
    let durable = durable_store(&dir, &config).unwrap();
    assert_eq!(
        call(&durable, &config, "CreateStack", json!({"Name": "s"})),
        200
    );
    drop(durable);
    // The first reopen replays the journal into a snapshot; the second loads only that.
    for _ in 0..2 {
        let durable = durable_store(&dir, &config).unwrap();
        assert_eq!(tag(&durable), 200);
    }
    let durable = durable_store(&dir, &config).unwrap();
    let other = json!({"ResourceArn": arn.replace("stack/s", "stack/t"), "Tags": {"k": "v"}});
    assert_eq!(call(&durable, &config, "TagResource", other), 404);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A copy to another Region is one record of the caller's, and its replay writes both.
#[test]
fn an_image_copy_across_regions_replays_into_both() {
    let dir = temp_dir("copy");
    let config = Config {
        transition_delay: Duration::ZERO,
        ..Config::default()
    };
    let durable = durable_store(&dir, &config).unwrap();
    let make = json!({"existingImageName": "AppStream-WinServer2022-10-08-2025", "newImageName": "golden"});
    assert_eq!(call(&durable, &config, "CreateUpdatedImage", make), 200);
    let copy = json!({"SourceImageName": "golden", "DestinationImageName": "golden-eu", "DestinationRegion": "eu-west-1"});
    assert_eq!(call(&durable, &config, "CopyImage", copy), 200);
    let live = settled(&durable);
    assert!(live.to_string().contains("eu-west-1"), "{live}");
    drop(durable);
    let replayed = durable_store(&dir, &config).expect("the journal replays");
    assert_eq!(settled(&replayed), live);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A test control that changes state is journalled and replayed like an operation.
#[test]
fn finished_packaging_survives_a_restart() {
    use appstream_local::api::dispatch::dispatch_control;
    let dir = temp_dir("packaging");
    let config = Config {
        transition_delay: Duration::ZERO,
        ..Config::default()
    };
    let durable = durable_store(&dir, &config).unwrap();
    let builder = json!({"Name": "b", "Platform": "WINDOWS_SERVER_2019", "InstanceType": "stream.standard.medium",
        "VpcConfig": {"SubnetIds": ["subnet-1", "subnet-2"]}});
    assert_eq!(
        call(&durable, &config, "CreateAppBlockBuilder", builder),
        200
    );
    let block = json!({"Name": "office", "PackagingType": "APPSTREAM2", "SourceS3Location": {"S3Bucket": "apps"}});
    assert_eq!(call(&durable, &config, "CreateAppBlock", block), 200);
    let pair = json!({"AppBlockBuilderName": "b", "AppBlockArn": "arn:aws:appstream:us-east-1:000000000000:app-block/office"});
    assert_eq!(
        call(&durable, &config, "AssociateAppBlockBuilderAppBlock", pair),
        200
    );
    assert_eq!(
        call(
            &durable,
            &config,
            "StartAppBlockBuilder",
            json!({"Name": "b"})
        ),
        200
    );
    let tenant = Tenant::default();
    let ctx = RequestContext::arriving(&tenant, &config);
    let journal = Some(&*durable.journal as _);
    dispatch_control(
        "_finish_packaging",
        &ctx,
        &durable.store,
        json!({"name": "b"}),
        journal,
    )
    .unwrap();
    let live = settled(&durable);
    assert!(live.to_string().contains("\"ACTIVE\""), "{live}");
    drop(durable);
    let replayed = durable_store(&dir, &config).expect("the journal replays");
    assert_eq!(settled(&replayed), live);
    let _ = std::fs::remove_dir_all(&dir);
}
