//! Which storage paths a row may name. The daemon reads storage with a key that
//! can read every object, so a row may only point into its own user's folder:
//! the same convention as Supabase Storage's row-level security, where a
//! user's objects live under `bucket/<auth.uid()>/…` (the first folder of the
//! object name is the user id, `storage.foldername(name)[1] = auth.uid()::text`).

use super::{StorageError, StoragePath};

/// The setting that names the folder rule, for error messages.
pub const TEMPLATE_SETTING: &str = "FULLPASS_STORAGE_PATH_TEMPLATE";
/// The setting that lists the allowed buckets.
pub const BUCKETS_SETTING: &str = "FULLPASS_STORAGE_BUCKETS";

/// A rule that cannot work, with the setting to fix.
#[derive(Debug, thiserror::Error)]
#[error("{setting}: {problem}")]
pub struct PathRuleError {
    pub setting: &'static str,
    pub problem: String,
}

/// One folder of a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Bucket,
    UserId,
    Literal(String),
}

/// Where a row's `storage_path` must lie, relative to its `user_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathRule {
    /// Any path is read (unsafe when users can write their own row's `storage_path`).
    Off,
    /// The path starts with these folders, then names a file below them.
    Under {
        folders: Vec<Segment>,
        buckets: Vec<String>,
    },
}

impl Default for PathRule {
    /// `{bucket}/{user_id}/` with the one bucket `imports`.
    fn default() -> PathRule {
        PathRule::Under {
            folders: vec![Segment::Bucket, Segment::UserId],
            buckets: vec!["imports".to_owned()],
        }
    }
}

fn rule_error(setting: &'static str, problem: impl Into<String>) -> PathRuleError {
    PathRuleError {
        setting,
        problem: problem.into(),
    }
}

/// A bucket or folder name usable as one path segment.
fn plain_segment(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == '\\' || c == '{' || c == '}' || c.is_control())
}

impl PathRule {
    /// `template` is `off`, or folders ending in `/` that start with `{bucket}`
    /// and hold `{user_id}` once (e.g. `{bucket}/{user_id}/`,
    /// `{bucket}/users/{user_id}/`); `buckets` is a comma-separated list.
    pub fn parse(template: &str, buckets: &str) -> Result<PathRule, PathRuleError> {
        let template = template.trim();
        if template.eq_ignore_ascii_case("off") {
            return Ok(PathRule::Off);
        }
        let bad = |problem: &str| {
            rule_error(
                TEMPLATE_SETTING,
                format!("{template:?} {problem} (expected e.g. {{bucket}}/{{user_id}}/, or off)"),
            )
        };
        let Some(folders) = template.strip_suffix('/') else {
            return Err(bad("must end with '/' (it names a folder)"));
        };
        let folders: Vec<Segment> = folders
            .split('/')
            .map(|part| match part {
                "{bucket}" => Ok(Segment::Bucket),
                "{user_id}" => Ok(Segment::UserId),
                literal if plain_segment(literal) => Ok(Segment::Literal(literal.to_owned())),
                _ => Err(bad(
                    "has an empty folder, '.', '..' or an unknown {placeholder}",
                )),
            })
            .collect::<Result<_, _>>()?;
        if folders.first() != Some(&Segment::Bucket) {
            return Err(bad("must start with {bucket}"));
        }
        if folders.iter().filter(|s| **s == Segment::Bucket).count() != 1 {
            return Err(bad("must hold {bucket} once"));
        }
        if folders.iter().filter(|s| **s == Segment::UserId).count() != 1 {
            return Err(bad("must hold {user_id} once"));
        }
        let buckets: Vec<String> = buckets
            .split(',')
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(str::to_owned)
            .collect();
        if buckets.is_empty() {
            return Err(rule_error(BUCKETS_SETTING, "names no bucket"));
        }
        if let Some(bad) = buckets.iter().find(|b| !plain_segment(b)) {
            return Err(rule_error(
                BUCKETS_SETTING,
                format!("{bad:?} is not a bucket name"),
            ));
        }
        Ok(PathRule::Under { folders, buckets })
    }

    /// How `fullpass config` shows the template.
    pub fn template(&self) -> String {
        match self {
            PathRule::Off => "off".to_owned(),
            PathRule::Under { folders, .. } => {
                let mut out = String::new();
                for folder in folders {
                    match folder {
                        Segment::Bucket => out.push_str("{bucket}"),
                        Segment::UserId => out.push_str("{user_id}"),
                        Segment::Literal(name) => out.push_str(name),
                    }
                    out.push('/');
                }
                out
            }
        }
    }

    /// The folder(s) a row's path must lie under, e.g. `imports/<user_id>/`.
    fn describe(folders: &[Segment], buckets: &[String]) -> String {
        let shown: Vec<String> = buckets
            .iter()
            .map(|bucket| {
                let mut out = String::new();
                for folder in folders {
                    match folder {
                        Segment::Bucket => out.push_str(bucket),
                        Segment::UserId => out.push_str("<user_id>"),
                        Segment::Literal(name) => out.push_str(name),
                    }
                    out.push('/');
                }
                out
            })
            .collect();
        shown.join(" or ")
    }

    /// Whether the row of `user_id` may read `path`; the error names the rule and its setting.
    pub fn check(&self, path: &StoragePath, user_id: uuid::Uuid) -> Result<(), StorageError> {
        let PathRule::Under { folders, buckets } = self else {
            return Ok(());
        };
        let user = user_id.hyphenated().to_string();
        let segments: Vec<&str> = path.segments().collect();
        // The folders, then at least a file name.
        let mut bucket_ok = true;
        let fits = segments.len() > folders.len()
            && folders
                .iter()
                .zip(&segments)
                .all(|(folder, segment)| match folder {
                    Segment::Bucket => {
                        bucket_ok = buckets.iter().any(|b| b == segment);
                        bucket_ok
                    }
                    Segment::UserId => *segment == user,
                    Segment::Literal(name) => name == segment,
                });
        if fits {
            return Ok(());
        }
        Err(StorageError::NotAllowed {
            path: path.to_string(),
            rule: PathRule::describe(folders, buckets),
            setting: if bucket_ok {
                TEMPLATE_SETTING
            } else {
                BUCKETS_SETTING
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(raw: &str) -> StoragePath {
        StoragePath::parse(raw).unwrap()
    }

    #[test]
    fn the_default_rule_wants_the_users_own_folder_in_an_allowed_bucket() {
        let rule = PathRule::parse("{bucket}/{user_id}/", "imports").unwrap();
        assert_eq!(rule, PathRule::default());
        let user = uuid::Uuid::new_v4();
        let other = uuid::Uuid::new_v4();
        assert!(
            rule.check(&path(&format!("imports/{user}/e.json.gz")), user)
                .is_ok()
        );
        assert!(
            rule.check(&path(&format!("imports/{user}/a/b.zip")), user)
                .is_ok()
        );
        let refused = |raw: String| rule.check(&path(&raw), user).unwrap_err().to_string();
        let message = refused(format!("imports/{other}/e.json.gz"));
        assert!(
            message.contains("must lie under imports/<user_id>/ (FULLPASS_STORAGE_PATH_TEMPLATE)"),
            "{message}"
        );
        let message = refused(format!("exports/{user}/e.json.gz"));
        assert!(message.ends_with("(FULLPASS_STORAGE_BUCKETS)"), "{message}");
        // The folder itself, or the user id in another case, is not a file in it.
        refused(format!("imports/{user}"));
        refused(format!(
            "imports/{}/e.json",
            user.to_string().to_uppercase()
        ));
        refused("imports/e.json".to_owned());
    }

    #[test]
    fn templates_and_buckets_are_validated() {
        let user = uuid::Uuid::new_v4();
        let rule = PathRule::parse(" {bucket}/users/{user_id}/ ", "a, b").unwrap();
        assert_eq!(rule.template(), "{bucket}/users/{user_id}/");
        assert!(
            rule.check(&path(&format!("b/users/{user}/x")), user)
                .is_ok()
        );
        let message = rule
            .check(&path(&format!("b/{user}/x")), user)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("a/users/<user_id>/ or b/users/<user_id>/"),
            "{message}"
        );
        assert_eq!(PathRule::parse("OFF", "").unwrap(), PathRule::Off);
        assert!(PathRule::Off.check(&path("any/where"), user).is_ok());
        for (template, buckets, setting) in [
            ("{bucket}/{user_id}", "imports", TEMPLATE_SETTING),
            ("{user_id}/{bucket}/", "imports", TEMPLATE_SETTING),
            ("{bucket}/", "imports", TEMPLATE_SETTING),
            ("{bucket}//{user_id}/", "imports", TEMPLATE_SETTING),
            ("{bucket}/{user}/", "imports", TEMPLATE_SETTING),
            ("{bucket}/../{user_id}/", "imports", TEMPLATE_SETTING),
            ("{bucket}/{user_id}/{user_id}/", "imports", TEMPLATE_SETTING),
            ("{bucket}/{user_id}/", " , ", BUCKETS_SETTING),
            ("{bucket}/{user_id}/", "a/b", BUCKETS_SETTING),
        ] {
            let error = PathRule::parse(template, buckets).unwrap_err();
            assert_eq!(error.setting, setting, "{template} {buckets}: {error}");
        }
    }
}
