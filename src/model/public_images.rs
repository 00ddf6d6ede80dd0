//! AWS's public base images, present in every Region, and a team's own additions
//! (`--public-images FILE`): the images a fleet or image builder may name without owning.

use std::borrow::Cow;

use serde::Deserialize;

use crate::generated::overlay::INSTANCE_FAMILY_PREFIXES;
use crate::generated::shapes;
use crate::generated::types::PlatformType;
use crate::model::validation::validate_value;

#[derive(Debug, Clone, PartialEq)]
pub struct PublicImage {
    pub name: Cow<'static, str>,
    pub platform: PlatformType,
    pub description: Cow<'static, str>,
    /// Release date as epoch seconds.
    pub released: f64,
    /// Graphics images carry their family's drivers and run only on it.
    pub families: Cow<'static, [&'static str]>,
}

pub const GENERAL: &[&str] = &["GENERAL_PURPOSE", "COMPUTE_OPTIMIZED", "MEMORY_OPTIMIZED"];

/// AWS's public base images, present in every Region, in name order (DescribeImages
/// merges them with the private images by name).
pub const CATALOGUE: &[PublicImage] = &[
    // The console's "Set up with sample apps" image; the Terraform provider's tests name it.
    PublicImage {
        name: Cow::Borrowed("Amazon-AppStream2-Sample-Image-03-11-2023"),
        platform: PlatformType::WindowsServer2019,
        description: Cow::Borrowed(
            "Sample image with open-source applications installed, for evaluation",
        ),
        families: Cow::Borrowed(GENERAL),
        released: 1_678_492_800.0,
    },
    PublicImage {
        name: Cow::Borrowed("AppStream-AmazonLinux2-09-19-2025"),
        platform: PlatformType::AmazonLinux2,
        description: Cow::Borrowed("Amazon Linux 2 base image"),
        families: Cow::Borrowed(GENERAL),
        released: 1_758_240_000.0,
    },
    PublicImage {
        name: Cow::Borrowed("AppStream-Graphics-G4dn-WinServer2022-10-08-2025"),
        platform: PlatformType::WindowsServer2022,
        description: Cow::Borrowed("Windows Server 2022 base image for Graphics G4dn instances"),
        families: Cow::Borrowed(&["GRAPHICS_G4"]),
        released: 1_759_881_600.0,
    },
    PublicImage {
        name: Cow::Borrowed("AppStream-Graphics-G5-WinServer2022-10-08-2025"),
        platform: PlatformType::WindowsServer2022,
        description: Cow::Borrowed("Windows Server 2022 base image for Graphics G5 instances"),
        families: Cow::Borrowed(&["GRAPHICS_G5"]),
        released: 1_759_881_600.0,
    },
    PublicImage {
        name: Cow::Borrowed("AppStream-Graphics-G6-WinServer2022-10-08-2025"),
        platform: PlatformType::WindowsServer2022,
        description: Cow::Borrowed("Windows Server 2022 base image for Graphics G6 instances"),
        families: Cow::Borrowed(&["GRAPHICS_G6"]),
        released: 1_759_881_600.0,
    },
    PublicImage {
        name: Cow::Borrowed("AppStream-RHEL8-09-19-2025"),
        platform: PlatformType::Rhel8,
        description: Cow::Borrowed("Red Hat Enterprise Linux 8 base image"),
        families: Cow::Borrowed(GENERAL),
        released: 1_758_240_000.0,
    },
    PublicImage {
        name: Cow::Borrowed("AppStream-RockyLinux8-09-19-2025"),
        platform: PlatformType::RockyLinux8,
        description: Cow::Borrowed("Rocky Linux 8 base image"),
        families: Cow::Borrowed(GENERAL),
        released: 1_758_240_000.0,
    },
    PublicImage {
        name: Cow::Borrowed("AppStream-UbuntuPro2404-09-19-2025"),
        platform: PlatformType::UbuntuPro2404,
        description: Cow::Borrowed("Ubuntu Pro 24.04 LTS base image"),
        families: Cow::Borrowed(GENERAL),
        released: 1_758_240_000.0,
    },
    PublicImage {
        name: Cow::Borrowed("AppStream-WinServer2016-10-08-2025"),
        platform: PlatformType::WindowsServer2016,
        description: Cow::Borrowed("Windows Server 2016 base image"),
        families: Cow::Borrowed(GENERAL),
        released: 1_759_881_600.0,
    },
    PublicImage {
        name: Cow::Borrowed("AppStream-WinServer2019-10-08-2025"),
        platform: PlatformType::WindowsServer2019,
        description: Cow::Borrowed("Windows Server 2019 base image"),
        families: Cow::Borrowed(GENERAL),
        released: 1_759_881_600.0,
    },
    // An earlier release still offered; users' configurations (and the Terraform
    // provider's tests) pin it by name.
    PublicImage {
        name: Cow::Borrowed("AppStream-WinServer2022-06-17-2024"),
        platform: PlatformType::WindowsServer2022,
        description: Cow::Borrowed("Windows Server 2022 base image"),
        families: Cow::Borrowed(GENERAL),
        released: 1_718_582_400.0,
    },
    PublicImage {
        name: Cow::Borrowed("AppStream-WinServer2022-10-08-2025"),
        platform: PlatformType::WindowsServer2022,
        description: Cow::Borrowed("Windows Server 2022 base image"),
        families: Cow::Borrowed(GENERAL),
        released: 1_759_881_600.0,
    },
    PublicImage {
        name: Cow::Borrowed("AppStream-WinServer2025-10-08-2025"),
        platform: PlatformType::WindowsServer2025,
        description: Cow::Borrowed("Windows Server 2025 base image"),
        families: Cow::Borrowed(GENERAL),
        released: 1_759_881_600.0,
    },
];

/// The instance families an image may run on, as the overlay names them.
fn families() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = INSTANCE_FAMILY_PREFIXES.iter().map(|(_, f)| *f).collect();
    names.dedup();
    names
}

/// One entry of a `--public-images` file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    platform: PlatformType,
    #[serde(default)]
    description: Option<String>,
    /// `YYYY-MM-DD`; by default the `MM-DD-YYYY` that AWS's names end with.
    #[serde(default)]
    released: Option<String>,
    #[serde(default)]
    instance_families: Option<Vec<String>>,
}

/// The images of a `--public-images` file (a JSON array of `{"name", "platform",
/// "description"?, "released"?, "instance_families"?}`), in name order; or why not,
/// naming the entry.
pub fn parse_file(bytes: &[u8]) -> Result<Vec<PublicImage>, String> {
    let entries: Vec<Entry> = serde_json::from_slice(bytes).map_err(|e| {
        format!("expected a JSON array of {{\"name\", \"platform\", \"description\"?, \"released\"?, \"instance_families\"?}}: {e}")
    })?;
    let mut images: Vec<PublicImage> = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let failed = |why: String| format!("entry {index} ({}): {why}", entry.name);
        // The model's Name shape, as CreateUpdatedImage checks a new image's name.
        validate_value(shapes::NAME, &serde_json::json!(entry.name), "name")
            .map_err(|e| failed(e.message))?;
        if CATALOGUE.iter().any(|c| c.name == entry.name)
            || images.iter().any(|i| i.name == entry.name)
        {
            return Err(failed(
                "the catalogue already has an image of this name".into(),
            ));
        }
        let released = match &entry.released {
            Some(date) => chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .map_err(|e| failed(format!("released {date:?} is not YYYY-MM-DD: {e}")))?,
            None => entry
                .name
                .len()
                .checked_sub(10)
                .and_then(|at| entry.name.get(at..))
                .and_then(|tail| chrono::NaiveDate::parse_from_str(tail, "%m-%d-%Y").ok())
                .ok_or_else(|| {
                    failed("the name ends with no MM-DD-YYYY date; give \"released\"".into())
                })?,
        };
        let families = match &entry.instance_families {
            None => Cow::Borrowed(GENERAL),
            Some(given) => {
                let known = families();
                Cow::Owned(
                    given
                        .iter()
                        .map(|f| {
                            known.iter().copied().find(|k| k == f).ok_or_else(|| {
                                failed(format!("{f} is not one of {}", known.join(", ")))
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                )
            }
        };
        images.push(PublicImage {
            description: Cow::Owned(
                entry
                    .description
                    .clone()
                    .unwrap_or_else(|| format!("{} base image", entry.platform.as_str())),
            ),
            name: Cow::Owned(entry.name),
            platform: entry.platform,
            released: released
                .and_hms_opt(0, 0, 0)
                .map_or(0.0, |t| t.and_utc().timestamp() as f64),
            families,
        });
    }
    images.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(images)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_is_in_name_order() {
        let names: Vec<&str> = CATALOGUE.iter().map(|e| &*e.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
    }

    #[test]
    fn a_file_adds_images_in_name_order_and_says_what_is_wrong() {
        let images = parse_file(
            br#"[{"name": "AppStream-WinServer2019-06-17-2024", "platform": "WINDOWS_SERVER_2019"},
                 {"name": "Team-Image", "platform": "AMAZON_LINUX2", "released": "2025-01-02",
                  "instance_families": ["GRAPHICS_G4"], "description": "ours"}]"#,
        )
        .unwrap();
        assert_eq!(images[0].name, "AppStream-WinServer2019-06-17-2024");
        assert_eq!(images[0].released, 1_718_582_400.0);
        assert_eq!(&*images[0].families, GENERAL);
        assert_eq!(&*images[1].families, &["GRAPHICS_G4"]);
        for (bad, said) in [
            (
                r#"[{"name": "x", "platform": "NOT_A_PLATFORM"}]"#,
                "unknown variant",
            ),
            (
                r#"[{"name": "x", "platform": "WINDOWS_SERVER_2019"}]"#,
                "give \"released\"",
            ),
            (
                r#"[{"name": "-x-01-01-2020", "platform": "WINDOWS_SERVER_2019"}]"#,
                "regular expression pattern",
            ),
            (
                r#"[{"name": "AppStream-WinServer2022-10-08-2025", "platform": "WINDOWS_SERVER_2022"}]"#,
                "already has",
            ),
            (
                r#"[{"name": "x", "platform": "WINDOWS_SERVER_2019", "released": "2020-01-01", "instance_families": ["GPU"]}]"#,
                "GPU is not one of",
            ),
            (r#"{"name": "x"}"#, "expected a JSON array"),
        ] {
            let error = parse_file(bad.as_bytes()).unwrap_err();
            assert!(error.contains(said), "{bad}: {error}");
        }
    }
}
