//! The public images AWS offers in every Region, as DescribeImages lists them.

use crate::generated::types::{Image, ImageState, ImageType, PlatformType, VisibilityType};
use crate::identity::tenant::Tenant;

pub struct PublicImage {
    pub name: &'static str,
    pub platform: PlatformType,
    pub description: &'static str,
    /// Release date as epoch seconds.
    pub released: f64,
    /// Graphics images carry their family's drivers and run only on it.
    pub families: &'static [&'static str],
}

pub const GENERAL: &[&str] = &["GENERAL_PURPOSE", "COMPUTE_OPTIMIZED", "MEMORY_OPTIMIZED"];

/// A handful of AWS's public base images, present in every region, in name order (DescribeImages
/// merges them with the private images by name).
pub const CATALOGUE: &[PublicImage] = &[
    // The console's "Set up with sample apps" image; the Terraform provider's tests name it.
    PublicImage {
        name: "Amazon-AppStream2-Sample-Image-03-11-2023",
        platform: PlatformType::WindowsServer2019,
        description: "Sample image with open-source applications installed, for evaluation",
        families: GENERAL,
        released: 1_678_492_800.0,
    },
    PublicImage {
        name: "AppStream-AmazonLinux2-09-19-2025",
        platform: PlatformType::AmazonLinux2,
        description: "Amazon Linux 2 base image",
        families: GENERAL,
        released: 1_758_240_000.0,
    },
    PublicImage {
        name: "AppStream-Graphics-G4dn-WinServer2022-10-08-2025",
        platform: PlatformType::WindowsServer2022,
        description: "Windows Server 2022 base image for Graphics G4dn instances",
        families: &["GRAPHICS_G4"],
        released: 1_759_881_600.0,
    },
    PublicImage {
        name: "AppStream-Graphics-G5-WinServer2022-10-08-2025",
        platform: PlatformType::WindowsServer2022,
        description: "Windows Server 2022 base image for Graphics G5 instances",
        families: &["GRAPHICS_G5"],
        released: 1_759_881_600.0,
    },
    PublicImage {
        name: "AppStream-Graphics-G6-WinServer2022-10-08-2025",
        platform: PlatformType::WindowsServer2022,
        description: "Windows Server 2022 base image for Graphics G6 instances",
        families: &["GRAPHICS_G6"],
        released: 1_759_881_600.0,
    },
    PublicImage {
        name: "AppStream-RHEL8-09-19-2025",
        platform: PlatformType::Rhel8,
        description: "Red Hat Enterprise Linux 8 base image",
        families: GENERAL,
        released: 1_758_240_000.0,
    },
    PublicImage {
        name: "AppStream-RockyLinux8-09-19-2025",
        platform: PlatformType::RockyLinux8,
        description: "Rocky Linux 8 base image",
        families: GENERAL,
        released: 1_758_240_000.0,
    },
    PublicImage {
        name: "AppStream-UbuntuPro2404-09-19-2025",
        platform: PlatformType::UbuntuPro2404,
        description: "Ubuntu Pro 24.04 LTS base image",
        families: GENERAL,
        released: 1_758_240_000.0,
    },
    PublicImage {
        name: "AppStream-WinServer2016-10-08-2025",
        platform: PlatformType::WindowsServer2016,
        description: "Windows Server 2016 base image",
        families: GENERAL,
        released: 1_759_881_600.0,
    },
    PublicImage {
        name: "AppStream-WinServer2019-10-08-2025",
        platform: PlatformType::WindowsServer2019,
        description: "Windows Server 2019 base image",
        families: GENERAL,
        released: 1_759_881_600.0,
    },
    // An earlier release still offered; users' configurations (and the Terraform
    // provider's tests) pin it by name.
    PublicImage {
        name: "AppStream-WinServer2022-06-17-2024",
        platform: PlatformType::WindowsServer2022,
        description: "Windows Server 2022 base image",
        families: GENERAL,
        released: 1_718_582_400.0,
    },
    PublicImage {
        name: "AppStream-WinServer2022-10-08-2025",
        platform: PlatformType::WindowsServer2022,
        description: "Windows Server 2022 base image",
        families: GENERAL,
        released: 1_759_881_600.0,
    },
    PublicImage {
        name: "AppStream-WinServer2025-10-08-2025",
        platform: PlatformType::WindowsServer2025,
        description: "Windows Server 2025 base image",
        families: GENERAL,
        released: 1_759_881_600.0,
    },
];

/// Public images have no account in their ARN.
pub fn public_image_arn(region: &str, name: &str) -> String {
    format!("arn:aws:appstream:{region}::image/{name}")
}

pub fn public_image(tenant: &Tenant, entry: &PublicImage) -> Image {
    Image {
        name: entry.name.to_string(),
        arn: Some(public_image_arn(&tenant.region, entry.name)),
        display_name: Some(entry.name.to_string()),
        state: Some(ImageState::Available),
        visibility: Some(VisibilityType::Public),
        image_builder_supported: Some(true),
        platform: Some(entry.platform),
        description: Some(entry.description.to_string()),
        created_time: Some(entry.released),
        public_base_image_released_date: Some(entry.released),
        image_type: Some(ImageType::Native),
        // A base image carries the agent released with it, named by that date as AWS
        // names agent versions, and no applications of its own.
        appstream_agent_version: Some(agent_version(entry.released)),
        applications: Some(Vec::new()),
        supported_instance_families: Some(entry.families.iter().map(|f| f.to_string()).collect()),
        ..Default::default()
    }
}

/// An agent version as AWS writes one: its release date, `MM-DD-YYYY`.
fn agent_version(released: f64) -> String {
    chrono::DateTime::from_timestamp(released as i64, 0)
        .map(|date| date.format("%m-%d-%Y").to_string())
        .unwrap_or_default()
}

pub fn find_public(tenant: &Tenant, name: &str) -> Option<Image> {
    CATALOGUE
        .iter()
        .find(|e| e.name == name)
        .map(|e| public_image(tenant, e))
}
