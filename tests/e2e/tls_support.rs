//! Test certificates made with the openssl CLI: a CA and leaves it signs, for the TLS servers
//! of the tests (HTTPS redirects, mutual TLS).

use std::path::Path;

/// The extensions of a server certificate for 127.0.0.1.
pub const SERVER: &str =
    "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";

pub fn openssl(args: &[&str]) {
    let made = std::process::Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
}

/// A CA (`NAME-ca.pem`), and leaves signed by it: `NAME.pem` / `NAME.key`.
pub fn ca(dir: &Path, name: &str, leaves: &[(&str, &str)]) {
    let d = |file: &str| dir.join(file).display().to_string();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "1",
        "-subj",
        &format!("/CN={name}-ca"),
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
        "-keyout",
        &d(&format!("{name}-ca.key")),
        "-out",
        &d(&format!("{name}-ca.pem")),
    ]);
    for (leaf, ext) in leaves {
        std::fs::write(dir.join(format!("{leaf}.ext")), ext).unwrap();
        openssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            &format!("/CN={leaf}"),
            "-keyout",
            &d(&format!("{leaf}.key")),
            "-out",
            &d(&format!("{leaf}.csr")),
        ]);
        openssl(&[
            "x509",
            "-req",
            "-in",
            &d(&format!("{leaf}.csr")),
            "-CA",
            &d(&format!("{name}-ca.pem")),
            "-CAkey",
            &d(&format!("{name}-ca.key")),
            "-CAcreateserial",
            "-days",
            "1",
            "-out",
            &d(&format!("{leaf}.pem")),
            "-extfile",
            &d(&format!("{leaf}.ext")),
        ]);
    }
}
