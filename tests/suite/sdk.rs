//! The official AWS SDK for Rust (Smithy RPC v2 CBOR) against the server: typed
//! outputs, typed errors, and paging with NextToken.

use crate::common;

use crate::common::start;
use aws_sdk_appstream::error::ProvideErrorMetadata;
use aws_sdk_appstream::operation::create_stack::CreateStackError;
use aws_sdk_appstream::operation::describe_stacks::DescribeStacksError;
use aws_sdk_appstream::operation::update_stack::UpdateStackError;
use aws_sdk_appstream::types::{
    Action, ApplicationSettings, Permission, StackAttribute, StorageConnector,
    StorageConnectorType, UserSetting,
};

#[tokio::test]
async fn create_describe_update_tag_and_delete_a_stack() {
    let s = start().await;
    let c = s.sdk_as("123456789012", "ap-northeast-1");
    let created = c
        .create_stack()
        .name("sdk-stack")
        .display_name("SDK stack")
        .storage_connectors(
            StorageConnector::builder()
                .connector_type(StorageConnectorType::Homefolders)
                .build(),
        )
        .user_settings(
            UserSetting::builder()
                .action(Action::FileUpload)
                .permission(Permission::Disabled)
                .build(),
        )
        .application_settings(
            ApplicationSettings::builder()
                .enabled(true)
                .settings_group("grp")
                .build(),
        )
        .tags("env", "ci")
        .send()
        .await
        .unwrap();
    let stack = created.stack().unwrap();
    assert_eq!(
        stack.arn(),
        Some("arn:aws:appstream:ap-northeast-1:123456789012:stack/sdk-stack")
    );
    let created_at = stack.created_time().expect("CreatedTime").secs();
    assert!((created_at - chrono::Utc::now().timestamp()).abs() < 60);
    let upload = stack
        .user_settings()
        .iter()
        .find(|s| s.action() == Some(&Action::FileUpload))
        .unwrap();
    assert_eq!(upload.permission(), Some(&Permission::Disabled));
    assert_eq!(stack.user_settings().len(), 8, "one setting per action");
    let bucket = stack
        .application_settings()
        .unwrap()
        .s3_bucket_name()
        .unwrap();
    assert!(
        bucket.starts_with("appstream-app-settings-ap-northeast-1-123456789012-"),
        "{bucket}"
    );

    let described = c.describe_stacks().names("sdk-stack").send().await.unwrap();
    assert_eq!(described.stacks().len(), 1);
    assert_eq!(described.stacks()[0], *stack);

    let updated = c
        .update_stack()
        .name("sdk-stack")
        .description("now described")
        .attributes_to_delete(StackAttribute::StorageConnectors)
        .send()
        .await
        .unwrap();
    let updated = updated.stack().unwrap();
    assert_eq!(updated.description(), Some("now described"));
    assert_eq!(updated.display_name(), Some("SDK stack"));
    assert!(updated.storage_connectors().is_empty());

    let arn = stack.arn().unwrap();
    c.tag_resource()
        .resource_arn(arn)
        .tags("owner", "me")
        .send()
        .await
        .unwrap();
    c.untag_resource()
        .resource_arn(arn)
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    let tags = c
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    let tags = tags.tags().unwrap();
    assert_eq!(tags.len(), 1);
    assert_eq!(tags.get("owner").map(String::as_str), Some("me"));

    c.delete_stack().name("sdk-stack").send().await.unwrap();
    let err = c
        .describe_stacks()
        .names("sdk-stack")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err.into_service_error(),
        DescribeStacksError::ResourceNotFoundException(_)
    ));
}

#[tokio::test]
async fn typed_errors_reach_the_sdk() {
    let s = start().await;
    let c = s.sdk();
    c.create_stack().name("twice").send().await.unwrap();
    let err = c
        .create_stack()
        .name("twice")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, CreateStackError::ResourceAlreadyExistsException(_)),
        "{err:?}"
    );
    assert_eq!(err.message(), Some("Stack twice already exists."));

    // The SDK checks no constraints itself; the server's ValidationException arrives
    // as an unmodeled error with AWS's code and message.
    let err = c
        .create_stack()
        .name("no spaces allowed")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));
    assert!(
        err.message()
            .unwrap()
            .starts_with("1 validation error detected: Value 'no spaces allowed' at 'name'"),
        "{err:?}"
    );

    let err = c
        .create_stack()
        .name("combo")
        .user_settings(
            UserSetting::builder()
                .action(Action::FileDownload)
                .permission(Permission::Enabled)
                .maximum_length(5)
                .build(),
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(
            err,
            CreateStackError::InvalidParameterCombinationException(_)
        ),
        "{err:?}"
    );

    let err = c
        .update_stack()
        .name("missing")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, UpdateStackError::ResourceNotFoundException(_)),
        "{err:?}"
    );

    let err = c
        .tag_resource()
        .resource_arn("arn:aws:appstream:us-east-1:000000000000:stack/twice")
        .tags("aws:nope", "x")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));

    // An operation not built yet, while there is one: the SDK sees the 501 by its code.
    use appstream_local::generated::operations::Operation;
    if !appstream_local::api::dispatch::is_implemented(Operation::DescribeAppBlocks) {
        let err = c
            .describe_app_blocks()
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(err.code(), Some("NotImplementedException"));
    }
}

#[tokio::test]
async fn paging_with_the_sdk_collects_every_stack() {
    let s = start().await;
    let c = s.sdk();
    for i in 0..40 {
        c.create_stack()
            .name(format!("p{i:02}"))
            .send()
            .await
            .unwrap();
    }
    // The Rust SDK has no paginator for DescribeStacks; follow NextToken by hand.
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = c
            .describe_stacks()
            .set_next_token(token.take())
            .send()
            .await
            .unwrap();
        pages += 1;
        names.extend(page.stacks().iter().map(|s| s.name().unwrap().to_string()));
        match page.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert!(pages >= 2);
    let expected: Vec<String> = (0..40).map(|i| format!("p{i:02}")).collect();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn the_sdk_fleet_waiters_see_started_and_stopped() {
    use aws_sdk_appstream::client::Waiters;
    use aws_sdk_appstream::types::{ComputeCapacity, FleetState};
    use std::time::Duration;

    let s = common::start_with(appstream_local::Config {
        transition_delay: Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    let c = s.fast_sdk();
    let fleet = c
        .create_fleet()
        .name("waited")
        .image_name("AppStream-WinServer2019-10-08-2025")
        .instance_type("stream.standard.small")
        .compute_capacity(ComputeCapacity::builder().desired_instances(1).build())
        .send()
        .await
        .unwrap();
    assert_eq!(fleet.fleet().unwrap().state(), Some(&FleetState::Stopped));

    c.start_fleet().name("waited").send().await.unwrap();
    let started = c
        .wait_until_fleet_started()
        .names("waited")
        .wait(Duration::from_secs(3600))
        .await
        .unwrap();
    let output = started.as_result().unwrap();
    assert_eq!(output.fleets()[0].state(), Some(&FleetState::Running));

    c.stop_fleet().name("waited").send().await.unwrap();
    let stopped = c
        .wait_until_fleet_stopped()
        .names("waited")
        .wait(Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(
        stopped.as_result().unwrap().fleets()[0].state(),
        Some(&FleetState::Stopped)
    );

    // The FleetStarted waiter fails fast on a fleet that is stopping, as the model says.
    c.start_fleet().name("waited").send().await.unwrap();
    c.wait_until_fleet_started()
        .names("waited")
        .wait(Duration::from_secs(3600))
        .await
        .unwrap();
    c.stop_fleet().name("waited").send().await.unwrap();
    let failed = c
        .wait_until_fleet_started()
        .names("waited")
        .wait(Duration::from_secs(3600))
        .await;
    assert!(
        failed.is_err(),
        "FleetStarted must fail on STOPPING: {failed:?}"
    );
}

#[tokio::test]
async fn the_sdk_drives_users_associations_and_streaming_urls() {
    use aws_sdk_appstream::operation::create_streaming_url::CreateStreamingURLError;
    use aws_sdk_appstream::operation::delete_stack::DeleteStackError;
    use aws_sdk_appstream::types::{
        AuthenticationType, ComputeCapacity, UserStackAssociation, UserStackAssociationErrorCode,
    };

    let s = common::start_with(appstream_local::Config {
        transition_delay: std::time::Duration::ZERO,
        ..Default::default()
    })
    .await;
    let c = s.sdk();
    c.create_stack().name("st").send().await.unwrap();
    c.create_fleet()
        .name("fl")
        .image_name("AppStream-AmazonLinux2-09-19-2025")
        .instance_type("stream.standard.small")
        .compute_capacity(ComputeCapacity::builder().desired_instances(1).build())
        .send()
        .await
        .unwrap();
    c.associate_fleet()
        .stack_name("st")
        .fleet_name("fl")
        .send()
        .await
        .unwrap();
    let err = c
        .create_streaming_url()
        .stack_name("st")
        .fleet_name("fl")
        .user_id("u1")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err.into_service_error(),
        CreateStreamingURLError::ResourceNotAvailableException(_)
    ));
    c.start_fleet().name("fl").send().await.unwrap();
    let url = c
        .create_streaming_url()
        .stack_name("st")
        .fleet_name("fl")
        .user_id("u1")
        .validity(300)
        .send()
        .await
        .unwrap();
    // The URL opens on the server the SDK reached.
    let link = url.streaming_url().unwrap();
    assert!(
        link.starts_with(&format!("{}/authenticate?", s.url)),
        "{link}"
    );
    let expires = url.expires().unwrap().secs();
    assert!((expires - chrono::Utc::now().timestamp() - 300).abs() < 5);

    c.create_user()
        .user_name("u@example.com")
        .authentication_type(AuthenticationType::Userpool)
        .send()
        .await
        .unwrap();
    let batch = c
        .batch_associate_user_stack()
        .user_stack_associations(
            UserStackAssociation::builder()
                .stack_name("st")
                .user_name("u@example.com")
                .authentication_type(AuthenticationType::Userpool)
                .build(),
        )
        .user_stack_associations(
            UserStackAssociation::builder()
                .stack_name("st")
                .user_name("nobody@example.com")
                .authentication_type(AuthenticationType::Userpool)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(batch.errors().len(), 1);
    assert_eq!(
        batch.errors()[0].error_code(),
        Some(&UserStackAssociationErrorCode::UserNameNotFound)
    );

    let err = c
        .delete_stack()
        .name("st")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, DeleteStackError::ResourceInUseException(_)),
        "{err:?}"
    );
    let sessions = c
        .describe_sessions()
        .stack_name("st")
        .fleet_name("fl")
        .send()
        .await
        .unwrap();
    assert_eq!(sessions.sessions().len(), 1);
    assert_eq!(sessions.sessions()[0].user_id(), Some("u1"));
}

#[tokio::test]
async fn the_sdk_reads_a_directory_config_without_its_password() {
    use aws_sdk_appstream::types::ServiceAccountCredentials;
    let s = start().await;
    let c = s.sdk();
    let credentials = ServiceAccountCredentials::builder()
        .account_name("corp\\svc")
        .account_password("s3cret-pass")
        .build();
    c.create_directory_config()
        .directory_name("corp.example.com")
        .organizational_unit_distinguished_names("OU=AppStream,DC=corp")
        .service_account_credentials(credentials)
        .send()
        .await
        .unwrap();
    let out = c
        .describe_directory_configs()
        .directory_names("corp.example.com")
        .send()
        .await
        .unwrap();
    let config = &out.directory_configs()[0];
    let read = config.service_account_credentials().unwrap();
    assert_eq!(read.account_name(), Some("corp\\svc"));
    assert_eq!(read.account_password(), None);
}
