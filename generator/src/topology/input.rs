//! The topology file exactly as written: serde shapes with `deny_unknown_fields`, every value
//! that a later check may refuse kept as `toml::Spanned`, so its diagnostic points at it.
//! Nothing here resolves a name or applies a default; that is `resolve`'s job.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

use super::{ExtendedKeyUsage, KeyAlgorithm, KeyUsage, SignatureHash};
use crate::name::NameAttribute;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TopologyFile {
    pub seed: Option<Spanned<String>>,
    #[serde(default)]
    pub instants: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    pub keys: BTreeMap<String, KeyAlgorithm>,
    #[serde(default)]
    pub cert: Vec<CertInput>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CertInput {
    pub id: Spanned<String>,
    pub subject: Spanned<SubjectInput>,
    pub key: Spanned<String>,
    pub issuer: Spanned<String>,
    pub not_before: Spanned<toml::Value>,
    pub not_after: Spanned<toml::Value>,
    pub serial: Spanned<String>,
    pub signature_hash: Option<Spanned<SignatureHash>>,
    #[serde(default)]
    pub extensions: ExtensionsInput,
}

/// `subject`: an RFC 4514 string, or a table of attributes.
pub(super) enum SubjectInput {
    Dn(String),
    Table(Box<SubjectTable>),
}

/// The table form of `subject` (its keys are [`NameAttribute::table_key`]). An unknown attribute
/// or a value that is not a string is a parse error at that key or value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SubjectTable {
    pub c: Option<Spanned<String>>,
    pub st: Option<Spanned<String>>,
    pub l: Option<Spanned<String>>,
    pub o: Option<Spanned<String>>,
    pub ou: Option<Spanned<String>>,
    pub cn: Option<Spanned<String>>,
}

impl SubjectTable {
    /// The attributes present, in the DER order of the table form ([`NameAttribute::TABLE_ORDER`]).
    pub fn attributes(&self) -> impl Iterator<Item = (NameAttribute, &Spanned<String>)> {
        NameAttribute::TABLE_ORDER
            .into_iter()
            .filter_map(|attribute| self.get(attribute).map(|value| (attribute, value)))
    }

    fn get(&self, attribute: NameAttribute) -> Option<&Spanned<String>> {
        match attribute {
            NameAttribute::Country => self.c.as_ref(),
            NameAttribute::StateOrProvince => self.st.as_ref(),
            NameAttribute::Locality => self.l.as_ref(),
            NameAttribute::Organization => self.o.as_ref(),
            NameAttribute::OrganizationalUnit => self.ou.as_ref(),
            NameAttribute::CommonName => self.cn.as_ref(),
        }
    }
}

impl<'de> Deserialize<'de> for SubjectInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SubjectVisitor;

        impl<'de> Visitor<'de> for SubjectVisitor {
            type Value = SubjectInput;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a table { cn = .., o = .. } or a DN string \"CN=..,O=..\"")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<SubjectInput, E> {
                Ok(SubjectInput::Dn(text.to_string()))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SubjectInput, A::Error> {
                SubjectTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|table| SubjectInput::Table(Box::new(table)))
            }
        }

        deserializer.deserialize_any(SubjectVisitor)
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct ExtensionsInput {
    pub basic_constraints: Option<BasicConstraintsInput>,
    pub key_usage: Option<KeyUsageInput>,
    pub ext_key_usage: Option<ExtKeyUsageInput>,
    pub subject_alt_name: Option<SubjectAltNameInput>,
    pub subject_key_identifier: Option<Spanned<String>>,
    pub authority_key_identifier: Option<Spanned<String>>,
    pub aia_ca_issuers: Option<Spanned<String>>,
    pub name_constraints: Option<NameConstraintsInput>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BasicConstraintsInput {
    pub ca: bool,
    pub path_len: Option<Spanned<u32>>,
    pub critical: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct KeyUsageInput {
    pub usages: Vec<KeyUsage>,
    pub critical: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExtKeyUsageInput {
    pub usages: Vec<ExtendedKeyUsage>,
    pub critical: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SubjectAltNameInput {
    #[serde(default)]
    pub dns: Vec<Spanned<String>>,
    #[serde(default)]
    pub ip: Vec<Spanned<String>>,
    pub critical: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NameConstraintsInput {
    #[serde(default)]
    pub permitted_dns: Vec<Spanned<String>>,
    #[serde(default)]
    pub excluded_dns: Vec<Spanned<String>>,
    #[serde(default)]
    pub permitted_ip: Vec<Spanned<String>>,
    #[serde(default)]
    pub excluded_ip: Vec<Spanned<String>>,
    pub critical: Option<bool>,
}

/// serde reads the named enums through their strum names, so each spelling is written once (on
/// the enum) and an unknown one is refused with the list of known ones, as serde's own enums do.
/// The name is parsed inside the visitor, so the error carries the span of the value itself.
struct ByStrumName<T>(PhantomData<T>);

impl<T: FromStr + strum::VariantNames> Visitor<'_> for ByStrumName<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "one of {}", T::VARIANTS.join(", "))
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<T, E> {
        name.parse()
            .map_err(|_| E::unknown_variant(name, T::VARIANTS))
    }
}

macro_rules! deserialize_by_strum_name {
    ($($name:ty),*) => {$(
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_str(ByStrumName(PhantomData))
            }
        }
    )*};
}

deserialize_by_strum_name!(KeyAlgorithm, SignatureHash, KeyUsage, ExtendedKeyUsage);
