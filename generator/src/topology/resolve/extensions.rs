//! The `extensions` table of a certificate: defaults (criticality as RFC 5280 expects) and the
//! values serde cannot check (DNS names, IP addresses, CIDR subnets, URLs, key identifiers).

use std::net::IpAddr;

use anchorsmith_diagnostics::{Code, Diagnostic};
use toml::Spanned;

use super::Context;
use crate::topology::input::ExtensionsInput;
use crate::topology::{
    BasicConstraints, ExtKeyUsageExtension, Extensions, IpSubnet, KeyIdentifier, KeyUsageExtension,
    NameConstraints, SubjectAltName,
};

impl Context<'_> {
    pub(super) fn extensions(
        &self,
        raw: ExtensionsInput,
        field: &str,
        subject_is_empty: bool,
    ) -> Result<Extensions, Diagnostic> {
        let basic_constraints = match raw.basic_constraints {
            None => None,
            Some(bc) => {
                if let (false, Some(path_len)) = (bc.ca, &bc.path_len) {
                    return Err(self.error(
                        Code::InvalidValue,
                        path_len.span(),
                        format!("{field}.basic_constraints.path_len"),
                        "path_len is only allowed when ca = true",
                    ));
                }
                Some(BasicConstraints {
                    ca: bc.ca,
                    path_len: bc.path_len.map(Spanned::into_inner),
                    // RFC 5280 4.2.1.9: CAs MUST mark it critical.
                    critical: bc.critical.unwrap_or(bc.ca),
                })
            }
        };
        let is_ca = basic_constraints.as_ref().is_some_and(|bc| bc.ca);
        let key_usage = raw.key_usage.map(|ku| KeyUsageExtension {
            usages: dedup(ku.usages),
            // RFC 5280 4.2.1.3: CAs SHOULD mark it critical.
            critical: ku.critical.unwrap_or(is_ca),
        });
        let ext_key_usage = raw.ext_key_usage.map(|eku| ExtKeyUsageExtension {
            usages: dedup(eku.usages),
            critical: eku.critical.unwrap_or(false),
        });
        let subject_alt_name = match raw.subject_alt_name {
            None => None,
            Some(san) => Some(SubjectAltName {
                dns: self.dns_names(&san.dns, &format!("{field}.subject_alt_name.dns"))?,
                ip: san
                    .ip
                    .iter()
                    .map(|ip| {
                        ip.get_ref().parse::<IpAddr>().map_err(|_| {
                            self.error(
                                Code::InvalidValue,
                                ip.span(),
                                format!("{field}.subject_alt_name.ip"),
                                format!("{:?} is not an IP address", ip.get_ref()),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
                // RFC 5280 4.2.1.6: critical when the subject is empty.
                critical: san.critical.unwrap_or(subject_is_empty),
            }),
        };
        let name_constraints = match raw.name_constraints {
            None => None,
            Some(nc) => Some(NameConstraints {
                permitted_dns: self.dns_names(
                    &nc.permitted_dns,
                    &format!("{field}.name_constraints.permitted_dns"),
                )?,
                excluded_dns: self.dns_names(
                    &nc.excluded_dns,
                    &format!("{field}.name_constraints.excluded_dns"),
                )?,
                permitted_ip: self.subnets(
                    &nc.permitted_ip,
                    &format!("{field}.name_constraints.permitted_ip"),
                )?,
                excluded_ip: self.subnets(
                    &nc.excluded_ip,
                    &format!("{field}.name_constraints.excluded_ip"),
                )?,
                // RFC 5280 4.2.1.10: conforming CAs MUST mark it critical.
                critical: nc.critical.unwrap_or(true),
            }),
        };
        let aia_ca_issuers = match raw.aia_ca_issuers {
            None => None,
            Some(url) => {
                let text = url.get_ref();
                if !text.is_ascii() || !text.contains("://") {
                    return Err(self.error(
                        Code::InvalidValue,
                        url.span(),
                        format!("{field}.aia_ca_issuers"),
                        format!("{text:?} is not an ASCII URL"),
                    ));
                }
                Some(text.clone())
            }
        };
        Ok(Extensions {
            basic_constraints,
            key_usage,
            ext_key_usage,
            subject_alt_name,
            subject_key_identifier: self.key_identifier(
                raw.subject_key_identifier.as_ref(),
                &format!("{field}.subject_key_identifier"),
            )?,
            authority_key_identifier: self.key_identifier(
                raw.authority_key_identifier.as_ref(),
                &format!("{field}.authority_key_identifier"),
            )?,
            aia_ca_issuers,
            name_constraints,
        })
    }

    fn dns_names(&self, names: &[Spanned<String>], field: &str) -> Result<Vec<String>, Diagnostic> {
        names
            .iter()
            .map(|name| {
                let text = name.get_ref();
                if text.is_empty() || !text.is_ascii() || text.contains(char::is_whitespace) {
                    return Err(self.error(
                        Code::InvalidValue,
                        name.span(),
                        field,
                        format!("{text:?} is not an ASCII DNS name"),
                    ));
                }
                Ok(text.clone())
            })
            .collect()
    }

    fn subnets(
        &self,
        subnets: &[Spanned<String>],
        field: &str,
    ) -> Result<Vec<IpSubnet>, Diagnostic> {
        subnets
            .iter()
            .map(|subnet| {
                parse_subnet(subnet.get_ref()).ok_or_else(|| {
                    self.error(
                        Code::InvalidValue,
                        subnet.span(),
                        field,
                        format!(
                            "{:?} is not a CIDR subnet such as 10.0.0.0/8 or fd00::/8",
                            subnet.get_ref()
                        ),
                    )
                })
            })
            .collect()
    }

    fn key_identifier(
        &self,
        value: Option<&Spanned<String>>,
        field: &str,
    ) -> Result<KeyIdentifier, Diagnostic> {
        let Some(value) = value else {
            return Ok(KeyIdentifier::Derived);
        };
        match value.get_ref().as_str() {
            "derived" => Ok(KeyIdentifier::Derived),
            "omit" => Ok(KeyIdentifier::Omit),
            text => hex::decode(text.replace(':', ""))
                .ok()
                .filter(|bytes| !bytes.is_empty())
                .map(KeyIdentifier::Explicit)
                .ok_or_else(|| {
                    self.error(
                        Code::InvalidValue,
                        value.span(),
                        field,
                        format!("{text:?} is not \"derived\", \"omit\" or hex bytes"),
                    )
                }),
        }
    }
}

fn parse_subnet(text: &str) -> Option<IpSubnet> {
    let (address, prefix) = text.split_once('/')?;
    let address: IpAddr = address.parse().ok()?;
    let prefix: u8 = prefix.parse().ok()?;
    let max = if address.is_ipv4() { 32 } else { 128 };
    (prefix <= max).then_some(IpSubnet { address, prefix })
}

fn dedup<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut unique = Vec::with_capacity(items.len());
    for item in items {
        if !unique.contains(&item) {
            unique.push(item);
        }
    }
    unique
}
