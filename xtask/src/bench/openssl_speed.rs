//! The reference figures: `openssl speed` on this machine, in this run.

use std::collections::BTreeMap;

/// Operations per second reported by `openssl speed` for one algorithm.
#[derive(Clone, Copy, Debug, Default)]
pub struct SpeedFigures {
    pub sign_per_sec: f64,
    pub verify_per_sec: f64,
}

/// Run `openssl speed -seconds N <algs>` and parse its summary table, e.g. for
/// `["rsa2048", "ecdsap256"]`. Keys are the algorithm names as given.
pub fn measure(
    algorithms: &[&str],
    seconds: u32,
) -> anyhow::Result<BTreeMap<String, SpeedFigures>> {
    let sh = xshell::Shell::new()?;
    let seconds = seconds.to_string();
    let output = xshell::cmd!(sh, "openssl speed -seconds {seconds} {algorithms...}")
        .quiet()
        .ignore_stderr()
        .read()?;
    let figures = parse(&output, algorithms);
    for algorithm in algorithms {
        anyhow::ensure!(
            figures.contains_key(*algorithm),
            "`openssl speed` printed no figures for {algorithm}"
        );
    }
    Ok(figures)
}

/// Parse the summary lines, which look like
/// `rsa 2048 bits 0.000305s 0.000009s   3279.3 111090.2` and
/// ` 256 bits ecdsa (nistp256)   0.0000s   0.0001s  30735.4  10067.6`: the last two numbers are
/// sign/s and verify/s.
fn parse(output: &str, algorithms: &[&str]) -> BTreeMap<String, SpeedFigures> {
    let mut figures = BTreeMap::new();
    for line in output.lines() {
        let compact: String = line.split_whitespace().collect::<Vec<_>>().join(" ");
        for algorithm in algorithms {
            if summary_line_matches(&compact, algorithm) {
                let numbers: Vec<f64> = compact
                    .split(' ')
                    .filter_map(|word| word.parse().ok())
                    .collect();
                if let [.., sign, verify] = numbers[..] {
                    figures.insert(
                        algorithm.to_string(),
                        SpeedFigures {
                            sign_per_sec: sign,
                            verify_per_sec: verify,
                        },
                    );
                }
            }
        }
    }
    figures
}

fn summary_line_matches(line: &str, algorithm: &str) -> bool {
    if let Some(bits) = algorithm.strip_prefix("rsa") {
        return line.starts_with(&format!("rsa {bits} bits "))
            && line.contains('s')
            && !line.contains("keygen");
    }
    if let Some(curve) = algorithm.strip_prefix("ecdsa") {
        return line.contains("bits ecdsa") && line.contains(&format!("(nist{curve})"));
    }
    if algorithm == "ed25519" {
        return line.contains("EdDSA (Ed25519)");
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_openssl_3_summary() {
        let output = "                  sign    verify    sign/s verify/s\n\
rsa 2048 bits 0.000305s 0.000009s   3279.3 111090.2\n\
                              sign    verify    sign/s verify/s\n \
256 bits ecdsa (nistp256)   0.0000s   0.0001s  30735.4  10067.6\n";
        let figures = parse(output, &["rsa2048", "ecdsap256"]);
        assert_eq!(figures["rsa2048"].sign_per_sec, 3279.3);
        assert_eq!(figures["ecdsap256"].verify_per_sec, 10067.6);
    }
}
