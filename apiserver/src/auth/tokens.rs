//! The static token file of kube-apiserver's `--token-auth-file`: one CSV
//! record a line, `token,user,uid,"group1,group2"` (the groups column is
//! optional). Blank lines and lines starting with `#` are skipped; a
//! malformed line is an error naming its line number.
//!
//! As in Kubernetes, a record with an empty token is skipped and a later
//! record for the same token replaces an earlier one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::AuthError;
use crate::request::UserInfo;

/// The users of a token file, keyed by token.
#[derive(Clone, Debug, Default)]
pub(crate) struct StaticTokens {
    users_by_token: HashMap<String, UserInfo>,
}

impl StaticTokens {
    /// Reads and parses a token file.
    pub(crate) fn load(path: &Path) -> Result<StaticTokens, AuthError> {
        let text = std::fs::read_to_string(path).map_err(|error| AuthError::io(path, error))?;
        StaticTokens::parse(path, &text)
    }

    /// Parses the text of a token file; `path` only names it in errors.
    pub(crate) fn parse(path: &Path, text: &str) -> Result<StaticTokens, AuthError> {
        let mut users_by_token = HashMap::new();
        for (index, line) in text.lines().enumerate() {
            let line_number = index + 1;
            let line_error = |reason: String| AuthError::TokenFileLine {
                path: PathBuf::from(path),
                line: line_number,
                reason,
            };
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let fields = split_csv_line(line).map_err(line_error)?;
            if fields.len() < 3 {
                return Err(line_error(format!(
                    "must have at least 3 columns (token, user name, user uid), found {}",
                    fields.len()
                )));
            }
            if fields.len() > 4 {
                return Err(line_error(format!(
                    "has {} columns; at most 4 (token, user name, user uid, groups)",
                    fields.len()
                )));
            }
            let token = &fields[0];
            if token.is_empty() {
                continue;
            }
            if fields[1].is_empty() {
                return Err(line_error("the user name is empty".to_string()));
            }
            let groups = fields
                .get(3)
                .map(|groups| {
                    groups
                        .split(',')
                        .map(str::trim)
                        .filter(|group| !group.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let mut user = UserInfo::authenticated(fields[1].clone(), groups);
            user.uid = fields[2].clone();
            users_by_token.insert(token.clone(), user);
        }
        Ok(StaticTokens { users_by_token })
    }

    /// The user a token belongs to.
    pub(crate) fn lookup(&self, token: &str) -> Option<UserInfo> {
        self.users_by_token.get(token).cloned()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.users_by_token.len()
    }
}

/// Splits one CSV line as Go's `encoding/csv` with `TrimLeadingSpace`
/// does: fields separated by commas, a field may be double-quoted (with
/// `""` for a quote inside it), leading spaces of a field are dropped.
fn split_csv_line(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut characters = line.chars().peekable();
    loop {
        while matches!(characters.peek(), Some(' ' | '\t')) {
            characters.next();
        }
        let mut field = String::new();
        if characters.peek() == Some(&'"') {
            characters.next();
            loop {
                match characters.next() {
                    None => return Err("unterminated quoted field".to_string()),
                    Some('"') if characters.peek() == Some(&'"') => {
                        characters.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(character) => field.push(character),
                }
            }
            while matches!(characters.peek(), Some(' ' | '\t')) {
                characters.next();
            }
            fields.push(field);
            match characters.next() {
                None => return Ok(fields),
                Some(',') => {}
                Some(_) => return Err("extraneous text after a quoted field".to_string()),
            }
        } else {
            loop {
                match characters.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => {
                        fields.push(field);
                        break;
                    }
                    Some('"') => return Err("bare quote in an unquoted field".to_string()),
                    Some(character) => field.push(character),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, token: &str, expected: Option<(&str, &str, &[&str])>) {
        let tokens = StaticTokens::parse(Path::new("tokens.csv"), text).unwrap();
        let actual = tokens.lookup(token);
        let expected = expected.map(|(name, uid, groups)| UserInfo {
            name: name.to_string(),
            uid: uid.to_string(),
            groups: groups.iter().map(|group| group.to_string()).collect(),
        });
        assert_eq!(actual, expected, "token {token:?} in {text:?}");
    }

    fn check_error(text: &str, expected: &str) {
        let error = StaticTokens::parse(Path::new("tokens.csv"), text).unwrap_err();
        assert_eq!(error.to_string(), expected);
    }

    #[test]
    fn records_become_users() {
        let file = "# admin tokens\n\
                    \n\
                    s3cret,admin,uid-1,\"system:masters,ops\"\n\
                    t2,bob,uid-2\n\
                    t3, carol, uid-3, dev\n\
                    ,nobody,uid-4\n";
        check(
            file,
            "s3cret",
            Some((
                "admin",
                "uid-1",
                &["system:masters", "ops", "system:authenticated"],
            )),
        );
        check(
            file,
            "t2",
            Some(("bob", "uid-2", &["system:authenticated"])),
        );
        check(
            file,
            "t3",
            Some(("carol", "uid-3", &["dev", "system:authenticated"])),
        );
        check(file, "", None);
        check(file, "unknown", None);
        assert_eq!(StaticTokens::parse(Path::new("f"), file).unwrap().len(), 3);
    }

    #[test]
    fn later_record_replaces_earlier_one() {
        check(
            "t,alice,1\nt,bob,2\n",
            "t",
            Some(("bob", "2", &["system:authenticated"])),
        );
    }

    #[test]
    fn quoted_fields() {
        check(
            "\"a\"\"b\",\"user, with comma\",u,\"g1\"\n",
            "a\"b",
            Some(("user, with comma", "u", &["g1", "system:authenticated"])),
        );
    }

    #[test]
    fn malformed_lines_name_their_number() {
        check_error(
            "t,alice,1\n\nt2,bob\n",
            "tokens.csv:3: must have at least 3 columns (token, user name, user uid), found 2",
        );
        check_error("\"t,alice,1\n", "tokens.csv:1: unterminated quoted field");
        check_error(
            "t,ali\"ce,1\n",
            "tokens.csv:1: bare quote in an unquoted field",
        );
        check_error("t,,1\n", "tokens.csv:1: the user name is empty");
        check_error(
            "t,a,1,g,extra\n",
            "tokens.csv:1: has 5 columns; at most 4 (token, user name, user uid, groups)",
        );
    }
}
