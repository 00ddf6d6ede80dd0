//! The AWS SDK for Rust (RPC v2 CBOR) through the families beyond stacks and fleets: its
//! typed builders and parsers accept every output, and its typed errors carry the codes
//! the model lists.

use std::time::Duration;

use aws_sdk_appstream::error::ProvideErrorMetadata;
use aws_sdk_appstream::types::{
    AppBlockBuilderPlatformType, AppVisibility, ApplicationAttribute, EntitlementAttribute,
    FleetType, ImagePermissions, PackagingType, PlatformType, S3Location, ScriptDetails,
    ThemeStyling, VpcConfig,
};

use crate::common::{sdk_refusal, start_with, TestServer};

async fn instant() -> TestServer {
    start_with(appstream_local::Config {
        transition_delay: Duration::ZERO,
        ..Default::default()
    })
    .await
}

fn s3(key: &str) -> S3Location {
    S3Location::builder().s3_bucket("apps").s3_key(key).build()
}

/// The error code of a call the server refused.
fn code<T, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, aws_sdk_appstream::error::SdkError<E>>,
) -> String {
    sdk_refusal(result).0
}

#[tokio::test]
async fn the_sdk_drives_app_blocks_applications_elastic_fleets_and_entitlements() {
    let s = instant().await;
    let c = s.sdk();
    let script = ScriptDetails::builder()
        .script_s3_location(s3("setup.ps1"))
        .executable_path("powershell.exe")
        .timeout_in_seconds(60)
        .build();
    let block = c
        .create_app_block()
        .name("paint")
        .source_s3_location(s3("paint.zip"))
        .setup_script_details(script.clone())
        .tags("team", "design")
        .send()
        .await
        .unwrap()
        .app_block
        .unwrap();
    assert_eq!(block.packaging_type(), Some(&PackagingType::Custom));
    assert_eq!(
        code(
            c.create_app_block()
                .name("paint")
                .source_s3_location(s3("paint.zip"))
                .setup_script_details(script)
                .send()
                .await
        ),
        "ResourceAlreadyExistsException"
    );
    let app = c
        .create_application()
        .name("paint")
        .launch_path("C:\\paint\\paint.exe")
        .icon_s3_location(s3("paint.png"))
        .platforms(PlatformType::WindowsServer2019)
        .instance_families("GENERAL_PURPOSE")
        .app_block_arn(block.arn().unwrap())
        .send()
        .await
        .unwrap()
        .application
        .unwrap();
    assert_eq!(app.enabled(), Some(true));
    assert!(app.icon_url().unwrap().starts_with("https://"));
    let updated = c
        .update_application()
        .name("paint")
        .display_name("Paint")
        .launch_parameters("--safe")
        .attributes_to_delete(ApplicationAttribute::LaunchParameters)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.application().unwrap().display_name(), Some("Paint"));
    assert_eq!(
        code(c.delete_app_block().name("paint").send().await),
        "ResourceInUseException"
    );

    // An Elastic fleet serves the application.
    c.create_fleet()
        .name("elastic")
        .fleet_type(FleetType::Elastic)
        .instance_type("stream.standard.medium")
        .platform(PlatformType::WindowsServer2019)
        .max_concurrent_sessions(5)
        .vpc_config(
            VpcConfig::builder()
                .subnet_ids("subnet-1")
                .subnet_ids("subnet-2")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let association = c
        .associate_application_fleet()
        .fleet_name("elastic")
        .application_arn(app.arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        association
            .application_fleet_association()
            .unwrap()
            .fleet_name(),
        Some("elastic")
    );
    let listed = c
        .describe_application_fleet_associations()
        .application_arn(app.arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(listed.application_fleet_associations().len(), 1);
    assert_eq!(
        code(c.delete_application().name("paint").send().await),
        "ResourceInUseException"
    );

    // A stack with an entitlement to the application and a theme.
    c.create_stack().name("portal").send().await.unwrap();
    let entitlement = c
        .create_entitlement()
        .name("designers")
        .stack_name("portal")
        .app_visibility(AppVisibility::Associated)
        .attributes(
            EntitlementAttribute::builder()
                .name("department")
                .value("design")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .entitlement
        .unwrap();
    assert_eq!(
        entitlement.app_visibility(),
        Some(&AppVisibility::Associated)
    );
    c.associate_application_to_entitlement()
        .stack_name("portal")
        .entitlement_name("designers")
        .application_identifier("paint")
        .send()
        .await
        .unwrap();
    let entitled = c
        .list_entitled_applications()
        .stack_name("portal")
        .entitlement_name("designers")
        .send()
        .await
        .unwrap();
    assert_eq!(
        entitled.entitled_applications()[0].application_identifier(),
        Some("paint")
    );
    // What the Terraform provider takes for "gone" (see the README).
    assert_eq!(
        code(
            c.describe_entitlements()
                .stack_name("portal")
                .name("nobody")
                .send()
                .await
        ),
        "ResourceNotFoundException"
    );
    let theme = c
        .create_theme_for_stack()
        .stack_name("portal")
        .title_text("Design portal")
        .theme_styling(ThemeStyling::Blue)
        .organization_logo_s3_location(s3("logo.png"))
        .favicon_s3_location(s3("favicon.ico"))
        .send()
        .await
        .unwrap()
        .theme
        .unwrap();
    assert!(theme
        .theme_organization_logo_url()
        .unwrap()
        .contains("logo.png"));
    assert_eq!(
        code(
            c.create_theme_for_stack()
                .stack_name("portal")
                .title_text("again")
                .theme_styling(ThemeStyling::Red)
                .organization_logo_s3_location(s3("logo.png"))
                .favicon_s3_location(s3("favicon.ico"))
                .send()
                .await
        ),
        "ResourceAlreadyExistsException"
    );
    let described = c
        .describe_theme_for_stack()
        .stack_name("portal")
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.theme().unwrap().theme_title_text(),
        Some("Design portal")
    );

    // An app block builder packages an APPSTREAM2 block.
    c.create_app_block()
        .name("office")
        .packaging_type(PackagingType::Appstream2)
        .source_s3_location(S3Location::builder().s3_bucket("apps").build())
        .send()
        .await
        .unwrap();
    c.create_app_block_builder()
        .name("packager")
        .platform(AppBlockBuilderPlatformType::WindowsServer2019)
        .instance_type("stream.standard.large")
        .vpc_config(
            VpcConfig::builder()
                .subnet_ids("subnet-1")
                .subnet_ids("subnet-2")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        code(c.start_app_block_builder().name("packager").send().await),
        "OperationNotPermittedException"
    );
    let office_arn = "arn:aws:appstream:us-east-1:000000000000:app-block/office";
    c.associate_app_block_builder_app_block()
        .app_block_builder_name("packager")
        .app_block_arn(office_arn)
        .send()
        .await
        .unwrap();
    let started = c
        .start_app_block_builder()
        .name("packager")
        .send()
        .await
        .unwrap();
    assert_eq!(
        started
            .app_block_builder()
            .unwrap()
            .state()
            .map(|s| s.as_str()),
        Some("STARTING")
    );
    let builders = c.describe_app_block_builders().send().await.unwrap();
    assert_eq!(
        builders.app_block_builders()[0].state().map(|s| s.as_str()),
        Some("RUNNING")
    );
    let url = c
        .create_app_block_builder_streaming_url()
        .app_block_builder_name("packager")
        .send()
        .await
        .unwrap();
    assert!(url.streaming_url().is_some());
    let (status, _) = s
        .control(
            "/_app-block-builders/finish-packaging",
            r#"{"name": "packager"}"#,
        )
        .await;
    assert_eq!(status, 200);
    let blocks = c
        .describe_app_blocks()
        .arns(office_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        blocks.app_blocks()[0].state().map(|s| s.as_str()),
        Some("ACTIVE")
    );
    let associations = c
        .describe_app_block_builder_app_block_associations()
        .app_block_builder_name("packager")
        .send()
        .await
        .unwrap();
    assert_eq!(
        associations.app_block_builder_app_block_associations()[0].app_block_arn(),
        Some(office_arn)
    );
    assert_eq!(
        code(c.delete_app_block_builder().name("packager").send().await),
        "OperationNotPermittedException"
    );

    // Usage reports: idempotent create, one subscription, delete of none is not found.
    let first = c.create_usage_report_subscription().send().await.unwrap();
    let again = c.create_usage_report_subscription().send().await.unwrap();
    assert_eq!(first.s3_bucket_name(), again.s3_bucket_name());
    let subscriptions = c
        .describe_usage_report_subscriptions()
        .send()
        .await
        .unwrap();
    assert_eq!(subscriptions.usage_report_subscriptions().len(), 1);
    c.delete_usage_report_subscription().send().await.unwrap();
    assert_eq!(
        code(c.delete_usage_report_subscription().send().await),
        "ResourceNotFoundException"
    );
}

#[tokio::test]
async fn the_sdk_drives_image_imports_copies_exports_shares_and_software() {
    let s = instant().await;
    let c = s.sdk();
    let dry_run = c
        .create_imported_image()
        .name("imported")
        .source_ami_id("ami-0123456789abcdef0")
        .iam_role_arn("arn:aws:iam::000000000000:role/import")
        .dry_run(true)
        .send()
        .await;
    assert_eq!(code(dry_run), "DryRunOperationException");
    let imported = c
        .create_imported_image()
        .name("imported")
        .source_ami_id("ami-0123456789abcdef0")
        .iam_role_arn("arn:aws:iam::000000000000:role/import")
        .send()
        .await
        .unwrap();
    assert_eq!(
        imported.image().unwrap().state().map(|s| s.as_str()),
        Some("IMPORTING")
    );
    let copied = c
        .copy_image()
        .source_image_name("imported")
        .destination_image_name("imported-eu")
        .destination_region("eu-west-1")
        .send()
        .await
        .unwrap();
    assert_eq!(copied.destination_image_name(), Some("imported-eu"));
    let dublin = s.sdk_as("000000000000", "eu-west-1");
    let there = dublin
        .describe_images()
        .names("imported-eu")
        .send()
        .await
        .unwrap();
    assert_eq!(
        there.images()[0].state().map(|s| s.as_str()),
        Some("AVAILABLE")
    );
    let task = c
        .create_export_image_task()
        .image_name("imported")
        .ami_name("exported-ami")
        .iam_role_arn("arn:aws:iam::000000000000:role/export")
        .send()
        .await
        .unwrap()
        .export_image_task
        .unwrap();
    let got = c
        .get_export_image_task()
        .task_id(task.task_id().unwrap())
        .send()
        .await
        .unwrap();
    let done = got.export_image_task().unwrap();
    assert_eq!(done.state().map(|s| s.as_str()), Some("COMPLETED"));
    assert!(done.ami_id().unwrap().starts_with("ami-"));
    let listed = c.list_export_image_tasks().send().await.unwrap();
    assert_eq!(listed.export_image_tasks().len(), 1);
    assert_eq!(
        code(
            c.get_export_image_task()
                .task_id("00000000-0000-0000-0000-000000000000")
                .send()
                .await
        ),
        "ResourceNotFoundException"
    );

    // Shared with another account, which lists it as SHARED.
    c.update_image_permissions()
        .name("imported")
        .shared_account_id("111111111111")
        .image_permissions(ImagePermissions::builder().allow_fleet(true).build())
        .send()
        .await
        .unwrap();
    let other = s.sdk_as("111111111111", "us-east-1");
    let shared = other
        .describe_images()
        .r#type(aws_sdk_appstream::types::VisibilityType::Shared)
        .send()
        .await
        .unwrap();
    assert_eq!(shared.images()[0].name(), Some("imported"));
    let permissions = c
        .describe_image_permissions()
        .name("imported")
        .send()
        .await
        .unwrap();
    assert_eq!(
        permissions.shared_image_permissions_list()[0].shared_account_id(),
        Some("111111111111")
    );

    // License-included software on a builder (this SDK release predates UpdateImageBuilder).
    c.create_image_builder()
        .name("builder")
        .image_name("AppStream-WinServer2022-10-08-2025")
        .instance_type("stream.standard.large")
        .send()
        .await
        .unwrap();
    c.associate_software_to_image_builder()
        .image_builder_name("builder")
        .software_names("Microsoft_Office_2024_LTSC_Professional_Plus_64Bit")
        .send()
        .await
        .unwrap();
    c.start_software_deployment_to_image_builder()
        .image_builder_name("builder")
        .send()
        .await
        .unwrap();
    let software = c
        .describe_software_associations()
        .associated_resource("arn:aws:appstream:us-east-1:000000000000:image-builder/builder")
        .send()
        .await
        .unwrap();
    assert_eq!(
        software.software_associations()[0]
            .status()
            .map(|s| s.as_str()),
        Some("INSTALLED")
    );
    let usage = c
        .describe_app_license_usage()
        .billing_period("2026-01")
        .send()
        .await
        .unwrap();
    assert!(usage.app_license_usages().is_empty());
    assert_eq!(
        code(
            c.describe_app_license_usage()
                .billing_period("January")
                .send()
                .await
        ),
        "InvalidParameterCombinationException"
    );
}
