//! Minimal DER writing and reading: just what the generator needs to hand-build X.509
//! extensions and to re-sign a TBSCertificate under an AlgorithmIdentifier rcgen cannot express.
//!
//! WHY by hand: rcgen fixes the criticality and order of its own extensions, and the topology
//! language lets every extension choose its criticality, so every extension is written here and
//! handed to rcgen as a `CustomExtension`.

/// Universal and context tags used by the generator.
pub(crate) mod tag {
    pub const BOOLEAN: u8 = 0x01;
    pub const INTEGER: u8 = 0x02;
    pub const BIT_STRING: u8 = 0x03;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OID: u8 = 0x06;
    pub const SEQUENCE: u8 = 0x30;
}

/// One encoded TLV: tag, definite length, content.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    push_length(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

fn push_length(out: &mut Vec<u8>, length: usize) {
    if length < 0x80 {
        out.push(length as u8);
        return;
    }
    let bytes = length.to_be_bytes();
    let significant = &bytes[bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len() - 1)..];
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
}

/// A SEQUENCE of already-encoded elements.
pub(crate) fn sequence(elements: &[Vec<u8>]) -> Vec<u8> {
    tlv(tag::SEQUENCE, &elements.concat())
}

/// An OBJECT IDENTIFIER from its arcs.
pub(crate) fn oid(arcs: &[u64]) -> Vec<u8> {
    assert!(arcs.len() >= 2, "an OID has at least two arcs");
    let mut content = Vec::new();
    push_base128(&mut content, arcs[0] * 40 + arcs[1]);
    for &arc in &arcs[2..] {
        push_base128(&mut content, arc);
    }
    tlv(tag::OID, &content)
}

fn push_base128(out: &mut Vec<u8>, mut value: u64) {
    let mut groups = vec![(value & 0x7f) as u8];
    value >>= 7;
    while value > 0 {
        groups.push(0x80 | (value & 0x7f) as u8);
        value >>= 7;
    }
    out.extend(groups.iter().rev());
}

/// A non-negative INTEGER (minimal two's-complement encoding).
pub(crate) fn unsigned_integer(value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let start = bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len() - 1);
    let mut content = Vec::with_capacity(9);
    if bytes[start] & 0x80 != 0 {
        content.push(0);
    }
    content.extend_from_slice(&bytes[start..]);
    tlv(tag::INTEGER, &content)
}

pub(crate) fn boolean(value: bool) -> Vec<u8> {
    tlv(tag::BOOLEAN, &[if value { 0xff } else { 0x00 }])
}

pub(crate) fn octet_string(bytes: &[u8]) -> Vec<u8> {
    tlv(tag::OCTET_STRING, bytes)
}

/// A BIT STRING whose content is whole bytes (no unused bits), e.g. a signature.
pub(crate) fn bit_string_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(bytes.len() + 1);
    content.push(0);
    content.extend_from_slice(bytes);
    tlv(tag::BIT_STRING, &content)
}

/// A named-bit BIT STRING (e.g. KeyUsage): bit 0 is the most significant bit of the first byte.
/// DER requires trailing zero bits to be removed (X.690 11.2.2).
pub(crate) fn named_bit_string(bits: &[u8]) -> Vec<u8> {
    let Some(&highest) = bits.iter().max() else {
        return tlv(tag::BIT_STRING, &[0]);
    };
    let byte_count = highest as usize / 8 + 1;
    let mut bytes = vec![0u8; byte_count];
    for &bit in bits {
        bytes[bit as usize / 8] |= 0x80 >> (bit % 8);
    }
    let unused = 7 - (highest % 8);
    let mut content = vec![unused];
    content.extend_from_slice(&bytes);
    tlv(tag::BIT_STRING, &content)
}

/// One element read by [`read_tlv`]: the whole encoding and the content's offset within it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Element<'a> {
    pub tag: u8,
    pub encoded: &'a [u8],
    pub content: &'a [u8],
}

/// Read one TLV from the front of `input`; returns it and the rest.
pub(crate) fn read_tlv(input: &[u8]) -> Result<(Element<'_>, &[u8]), &'static str> {
    let (&tag, rest) = input.split_first().ok_or("truncated DER: missing tag")?;
    let (&first, rest) = rest.split_first().ok_or("truncated DER: missing length")?;
    let (length, header_len) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let count = (first & 0x7f) as usize;
        if count == 0 || count > 4 || rest.len() < count {
            return Err("unsupported DER length");
        }
        let length = rest[..count]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | b as usize);
        (length, 2 + count)
    };
    let total = header_len + length;
    if input.len() < total {
        return Err("truncated DER: content shorter than its length");
    }
    let element = Element {
        tag,
        encoded: &input[..total],
        content: &input[header_len..total],
    };
    Ok((element, &input[total..]))
}

/// All TLVs in `input`, in order.
pub(crate) fn read_all(mut input: &[u8]) -> Result<Vec<Element<'_>>, &'static str> {
    let mut elements = Vec::new();
    while !input.is_empty() {
        let (element, rest) = read_tlv(input)?;
        elements.push(element);
        input = rest;
    }
    Ok(elements)
}

/// Replace the `signature` AlgorithmIdentifier inside a TBSCertificate (its third element) and
/// return the re-encoded TBSCertificate.
pub(crate) fn replace_tbs_signature_algorithm(
    tbs: &[u8],
    algorithm_identifier: &[u8],
) -> Result<Vec<u8>, &'static str> {
    let (tbs_element, rest) = read_tlv(tbs)?;
    if tbs_element.tag != tag::SEQUENCE || !rest.is_empty() {
        return Err("TBSCertificate is not one SEQUENCE");
    }
    let mut fields: Vec<Vec<u8>> = read_all(tbs_element.content)?
        .iter()
        .map(|e| e.encoded.to_vec())
        .collect();
    // version [0] EXPLICIT, serialNumber, signature: rcgen always writes the version.
    let signature_field = fields
        .get_mut(2)
        .ok_or("TBSCertificate has too few fields")?;
    *signature_field = algorithm_identifier.to_vec();
    Ok(sequence(&fields))
}

/// Split a Certificate into its TBSCertificate encoding.
pub(crate) fn certificate_tbs(certificate: &[u8]) -> Result<Vec<u8>, &'static str> {
    let (outer, _) = read_tlv(certificate)?;
    let (tbs, _) = read_tlv(outer.content)?;
    Ok(tbs.encoded.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_lengths_short_and_long() {
        assert_eq!(tlv(4, &[1, 2]), vec![4, 2, 1, 2]);
        let long = tlv(4, &[0u8; 300]);
        assert_eq!(&long[..4], &[4, 0x82, 0x01, 0x2c]);
    }

    #[test]
    fn encodes_oids() {
        // sha256WithRSAEncryption
        assert_eq!(
            oid(&[1, 2, 840, 113549, 1, 1, 11]),
            vec![0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]
        );
    }

    #[test]
    fn encodes_integers_minimally() {
        assert_eq!(unsigned_integer(0), vec![2, 1, 0]);
        assert_eq!(unsigned_integer(127), vec![2, 1, 127]);
        assert_eq!(unsigned_integer(128), vec![2, 2, 0, 128]);
    }

    #[test]
    fn key_usage_bits_drop_trailing_zeros() {
        // keyCertSign (5) + cRLSign (6): 0b0000_0110, one unused bit.
        assert_eq!(named_bit_string(&[5, 6]), vec![3, 2, 1, 0x06]);
        // digitalSignature (0) only: seven unused bits.
        assert_eq!(named_bit_string(&[0]), vec![3, 2, 7, 0x80]);
        // decipherOnly (8) needs a second byte.
        assert_eq!(named_bit_string(&[0, 8]), vec![3, 3, 7, 0x80, 0x80]);
    }

    #[test]
    fn reads_back_what_it_writes() {
        let encoded = sequence(&[
            boolean(true),
            unsigned_integer(300),
            octet_string(&[9; 200]),
        ]);
        let (outer, rest) = read_tlv(&encoded).unwrap();
        assert!(rest.is_empty());
        let fields = read_all(outer.content).unwrap();
        assert_eq!(fields.len(), 3);
        assert_eq!(fields[2].content, &[9; 200][..]);
    }
}
