//! The official AWS SDK for Rust (Smithy RPC v2 CBOR) against the server: typed
//! outputs, typed errors, and paging with NextToken.

mod common;

use aws_sdk_appstream::error::ProvideErrorMetadata;
use aws_sdk_appstream::operation::create_stack::CreateStackError;
use aws_sdk_appstream::operation::describe_stacks::DescribeStacksError;
use aws_sdk_appstream::operation::update_stack::UpdateStackError;
use aws_sdk_appstream::types::{
    Action, ApplicationSettings, Permission, StackAttribute, StorageConnector,
    StorageConnectorType, UserSetting,
};
use common::start;

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
    assert_eq!(
        stack.user_settings()[0].permission(),
        Some(&Permission::Disabled)
    );
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

    let err = c
        .describe_directory_configs()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("NotImplementedException"));
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
