//! Distinguished names: the `subject` table `{ cn, o, ... }` or an RFC 4514 string, kept in DER
//! order (most significant RDN first) and printed back in RFC 4514 order (the reverse).

use std::fmt;

/// The attribute types a topology may use; one value each (one attribute per RDN).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NameAttribute {
    Country,
    StateOrProvince,
    Locality,
    Organization,
    OrganizationalUnit,
    CommonName,
}

impl NameAttribute {
    /// In the DER order used for the table form: country first, common name last, as CAs do.
    pub const TABLE_ORDER: [NameAttribute; 6] = [
        NameAttribute::Country,
        NameAttribute::StateOrProvince,
        NameAttribute::Locality,
        NameAttribute::Organization,
        NameAttribute::OrganizationalUnit,
        NameAttribute::CommonName,
    ];

    /// The RFC 4514 short name.
    pub fn short_name(self) -> &'static str {
        match self {
            NameAttribute::Country => "C",
            NameAttribute::StateOrProvince => "ST",
            NameAttribute::Locality => "L",
            NameAttribute::Organization => "O",
            NameAttribute::OrganizationalUnit => "OU",
            NameAttribute::CommonName => "CN",
        }
    }

    /// The key in the table form of `subject`.
    pub fn table_key(self) -> &'static str {
        match self {
            NameAttribute::Country => "c",
            NameAttribute::StateOrProvince => "st",
            NameAttribute::Locality => "l",
            NameAttribute::Organization => "o",
            NameAttribute::OrganizationalUnit => "ou",
            NameAttribute::CommonName => "cn",
        }
    }

    fn from_short_name(name: &str) -> Option<Self> {
        Self::TABLE_ORDER
            .into_iter()
            .find(|attribute| attribute.short_name().eq_ignore_ascii_case(name))
    }

    /// Reject a value X.509 forbids for this attribute (or rcgen cannot encode).
    pub(crate) fn check_value(self, value: &str) -> Result<(), String> {
        if value.is_empty() {
            return Err(format!("attribute {} is empty", self.short_name()));
        }
        if self == NameAttribute::Country
            && !(value.len() == 2 && value.chars().all(|c| c.is_ascii_alphabetic()))
        {
            return Err(format!("country {value:?} must be two letters"));
        }
        Ok(())
    }
}

/// A distinguished name in DER order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Name {
    pub attributes: Vec<(NameAttribute, String)>,
}

impl Name {
    /// The value of one attribute, if present.
    pub fn get(&self, attribute: NameAttribute) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(a, _)| *a == attribute)
            .map(|(_, v)| v.as_str())
    }

    /// Parse an RFC 4514 string such as `CN=R3 (test),O=anchorsmith test PKI,C=US`.
    pub fn parse_rfc4514(text: &str) -> Result<Name, String> {
        let mut attributes = Vec::new();
        for component in split_unescaped(text, ',')? {
            if component.contains_unescaped_plus {
                return Err(format!(
                    "multi-valued RDN {:?} is not supported (one attribute per RDN)",
                    component.raw
                ));
            }
            let (kind, value) = component
                .raw
                .split_once('=')
                .ok_or_else(|| format!("{:?} is not TYPE=value", component.raw))?;
            let attribute = NameAttribute::from_short_name(kind.trim()).ok_or_else(|| {
                format!(
                    "unknown attribute type {:?} (known: CN, O, OU, C, L, ST)",
                    kind.trim()
                )
            })?;
            attributes.push((attribute, unescape(value)?));
        }
        // RFC 4514 lists the last RDN of the DER sequence first.
        attributes.reverse();
        let name = Name { attributes };
        name.check()?;
        Ok(name)
    }

    /// Reject what rcgen cannot encode and what X.509 forbids.
    fn check(&self) -> Result<(), String> {
        for (index, (attribute, value)) in self.attributes.iter().enumerate() {
            if self.attributes[..index]
                .iter()
                .any(|(seen, _)| seen == attribute)
            {
                return Err(format!(
                    "attribute {} appears twice",
                    attribute.short_name()
                ));
            }
            attribute.check_value(value)?;
        }
        Ok(())
    }

    /// RFC 4514 string (reverse of DER order), escaping special characters.
    pub fn to_rfc4514(&self) -> String {
        self.attributes
            .iter()
            .rev()
            .map(|(attribute, value)| format!("{}={}", attribute.short_name(), escape(value)))
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc4514())
    }
}

struct Component {
    raw: String,
    contains_unescaped_plus: bool,
}

/// Split on an unescaped separator, keeping escapes in place for [`unescape`].
fn split_unescaped(text: &str, separator: char) -> Result<Vec<Component>, String> {
    let mut components = Vec::new();
    let mut current = Component {
        raw: String::new(),
        contains_unescaped_plus: false,
    };
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let escaped = chars
                .next()
                .ok_or_else(|| format!("{text:?} ends with a lone backslash"))?;
            current.raw.push(c);
            current.raw.push(escaped);
        } else if c == separator {
            components.push(std::mem::replace(
                &mut current,
                Component {
                    raw: String::new(),
                    contains_unescaped_plus: false,
                },
            ));
        } else {
            if c == '+' {
                current.contains_unescaped_plus = true;
            }
            current.raw.push(c);
        }
    }
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    components.push(current);
    Ok(components)
}

/// Remove RFC 4514 escapes: `\,` and `\2C` both mean a comma.
fn unescape(value: &str) -> Result<String, String> {
    let mut bytes = Vec::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buffer = [0u8; 4];
            bytes.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
            continue;
        }
        let first = chars.next().ok_or("value ends with a lone backslash")?;
        match (
            first.to_digit(16),
            chars.peek().and_then(|c| c.to_digit(16)),
        ) {
            (Some(high), Some(low)) => {
                chars.next();
                bytes.push((high * 16 + low) as u8);
            }
            _ => {
                let mut buffer = [0u8; 4];
                bytes.extend_from_slice(first.encode_utf8(&mut buffer).as_bytes());
            }
        }
    }
    String::from_utf8(bytes).map_err(|_| format!("{value:?} unescapes to invalid UTF-8"))
}

fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (index, c) in value.chars().enumerate() {
        let needs_escape = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || (index == 0 && (c == '#' || c == ' '))
            || (index == last && c == ' ');
        if needs_escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4514_string_round_trips_in_reverse_der_order() {
        let name =
            Name::parse_rfc4514("CN=ISRG Root X1 (test),O=anchorsmith test PKI,C=US").unwrap();
        assert_eq!(
            name.attributes[0],
            (NameAttribute::Country, "US".to_string())
        );
        assert_eq!(
            name.attributes[2],
            (NameAttribute::CommonName, "ISRG Root X1 (test)".to_string())
        );
        assert_eq!(
            name.to_rfc4514(),
            "CN=ISRG Root X1 (test),O=anchorsmith test PKI,C=US"
        );
    }

    #[test]
    fn escapes_are_honoured() {
        let name = Name::parse_rfc4514(r"CN=a\, b,O=x\2Cy").unwrap();
        assert_eq!(name.get(NameAttribute::CommonName), Some("a, b"));
        assert_eq!(name.get(NameAttribute::Organization), Some("x,y"));
        assert_eq!(name.to_rfc4514(), r"CN=a\, b,O=x\,y");
    }

    #[test]
    fn rejects_bad_names() {
        assert!(Name::parse_rfc4514("CN=a,CN=b")
            .unwrap_err()
            .contains("twice"));
        assert!(Name::parse_rfc4514("XX=a")
            .unwrap_err()
            .contains("unknown attribute type"));
        assert!(Name::parse_rfc4514("CN=a+O=b")
            .unwrap_err()
            .contains("multi-valued"));
        assert!(Name::parse_rfc4514("C=USA")
            .unwrap_err()
            .contains("two letters"));
        assert!(Name::parse_rfc4514("CN")
            .unwrap_err()
            .contains("TYPE=value"));
    }
}
