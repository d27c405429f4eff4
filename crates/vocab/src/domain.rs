//! Domain names and the IRIs a domain's data is relative to.
//!
//! Owns m-ld's domain-name rule and the domain's `@base` (`http://{domain}/`) and `@vocab`
//! (`http://{domain}/#`), which the wire codec and json-rql both resolve against
//! (docs/protocol.md §3.2, docs/jrql.md §1.2). It knows nothing of other context entries.

use std::fmt;

/// A valid m-ld domain name: lower-case DNS-like labels ending in a 2–6 letter label
/// (m-ld-js `domainBase`: `^[a-z0-9_]+([\-.][a-z0-9_]+)*\.[a-z]{2,6}$`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DomainName(String);

/// A string that is not a valid m-ld domain name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadDomainName(pub String);

impl fmt::Display for BadDomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a valid domain name (lower-case labels of letters, digits and `_`, \
             joined by `.` or `-`, ending in a 2–6 letter label, e.g. `test.example.org`)",
            self.0
        )
    }
}

impl std::error::Error for BadDomainName {}

impl DomainName {
    /// Checks `name` against the rule.
    pub fn new(name: &str) -> Result<DomainName, BadDomainName> {
        if is_valid(name) {
            Ok(DomainName(name.to_owned()))
        } else {
            Err(BadDomainName(name.to_owned()))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The domain's `@base`: `http://{domain}/`.
    pub fn base(&self) -> String {
        format!("http://{}/", self.0)
    }

    /// The domain's `@vocab`: `http://{domain}/#`.
    pub fn vocab(&self) -> String {
        format!("http://{}/#", self.0)
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `name` is a valid m-ld domain name.
pub fn is_valid(name: &str) -> bool {
    let Some((labels, top)) = name.rsplit_once('.') else {
        return false;
    };
    let word = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    (2..=6).contains(&top.len())
        && top.chars().all(|c| c.is_ascii_lowercase())
        && labels
            .split(['-', '.'])
            .all(|part| !part.is_empty() && part.chars().all(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names_follow_the_m_ld_rule() {
        for good in [
            "test.m-ld.org",
            "a.io",
            "a_b-c.d.museum",
            "x1.y2.info",
            "0.ab",
            "my-domain.co.uk",
            "x_y.m-ld.org",
        ] {
            assert!(is_valid(good), "{good}");
        }
        for bad in [
            "",
            "org",
            "Test.org",
            "a..b.org",
            "-a.org",
            "a-.org",
            "a.b-org",
            "a.o",
            "a.toolong",
            "a.org.",
            ".a.org",
            "a b.org",
            "a.or9",
            "a/b.org",
            "a.ORG",
            "example",
            "a.b",
            "a.org1",
        ] {
            assert!(!is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn a_domain_has_its_base_and_vocab() {
        let domain = DomainName::new("test.m-ld.org").expect("valid");
        assert_eq!(domain.base(), "http://test.m-ld.org/");
        assert_eq!(domain.vocab(), "http://test.m-ld.org/#");
        assert!(
            DomainName::new("Bad")
                .unwrap_err()
                .to_string()
                .contains("\"Bad\"")
        );
    }
}
