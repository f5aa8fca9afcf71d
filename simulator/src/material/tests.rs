//! The material checked the way its readers check it: signatures verify with the keys in the
//! certificates, requests carry their subject, `dev-pki`'s chain is one rustls accepts.

use super::*;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use der::asn1::{Ia5String, ObjectIdentifier, OctetString};
use der::oid::db::{rfc5280, rfc5911};
use der::referenced::OwnedToRef;
use der::{Decode, Encode};
use rsa::PublicKey as RsaPublicKey;
use rsa::pkcs1v15;
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};
use spki::SubjectPublicKeyInfoOwned;
use std::sync::{Arc, OnceLock};
use x509_cert::certificate::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName};
use x509_cert::request::CertReq;
use x509_cert::time::Time;

/// RSA key generation dominates test time, so all tests share one identity.
fn identity() -> &'static Identity {
    static IDENTITY: OnceLock<Identity> = OnceLock::new();
    IDENTITY.get_or_init(|| Identity::generate().expect("identity"))
}

fn rsa_verify(spki: &SubjectPublicKeyInfoOwned, message: &[u8], signature: &[u8]) {
    let key = RsaPublicKey::try_from(spki.owned_to_ref()).expect("RSA SPKI");
    let signature = pkcs1v15::Signature::try_from(signature).expect("signature bytes");
    pkcs1v15::VerifyingKey::<Sha256>::new(key)
        .verify(message, &signature)
        .expect("RSA signature verifies");
}

#[test]
fn jws_verifies_with_key_from_x5c_leaf() {
    let payload = br#"{"hello":"world"}"#;
    let jws = identity().jws_rs256(payload).expect("jws");
    let parts: Vec<&str> = jws.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "RS256");
    let x5c = header["x5c"].as_array().expect("x5c array");
    assert_eq!(x5c.len(), 2);
    let leaf_der = STANDARD.decode(x5c[0].as_str().unwrap()).unwrap();
    assert_eq!(leaf_der, identity().device_cert_der());
    assert_eq!(
        STANDARD.decode(x5c[1].as_str().unwrap()).unwrap(),
        identity().ca_cert_der()
    );
    assert_eq!(URL_SAFE_NO_PAD.decode(parts[1]).unwrap(), payload);

    let leaf = Certificate::from_der(&leaf_der).unwrap();
    rsa_verify(
        leaf.tbs_certificate().subject_public_key_info(),
        format!("{}.{}", parts[0], parts[1]).as_bytes(),
        &URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
    );
}

#[test]
fn device_cert_chains_to_ca() {
    let ca = Certificate::from_der(identity().ca_cert_der()).unwrap();
    let device = Certificate::from_der(identity().device_cert_der()).unwrap();
    let ca_tbs = ca.tbs_certificate();
    let tbs = device.tbs_certificate();
    assert_eq!(ca_tbs.subject().to_string(), "CN=Hermod Simulator Test CA");
    assert_eq!(ca_tbs.issuer(), ca_tbs.subject());
    assert_eq!(
        tbs.subject().to_string(),
        "CN=Hermod Simulator Device,O=Hermod Console"
    );
    assert_eq!(tbs.issuer(), ca_tbs.subject());
    let (_, constraints) = ca_tbs.get_extension::<BasicConstraints>().unwrap().unwrap();
    assert!(constraints.ca);
    let (_, usage) = tbs.get_extension::<KeyUsage>().unwrap().unwrap();
    assert!(usage.digital_signature());

    rsa_verify(
        ca_tbs.subject_public_key_info(),
        &tbs.to_der().unwrap(),
        device.signature().raw_bytes(),
    );
    rsa_verify(
        ca_tbs.subject_public_key_info(),
        &ca_tbs.to_der().unwrap(),
        ca.signature().raw_bytes(),
    );
}

#[test]
fn pkcs7_signature_and_digest_verify() {
    let content = b"<sign>some document</sign>";
    let der = identity().pkcs7(content).expect("pkcs7");
    let info = ContentInfo::from_der(&der).unwrap();
    assert_eq!(info.content_type, rfc5911::ID_SIGNED_DATA);
    let signed: SignedData = info.content.decode_as().unwrap();
    let econtent = signed.encap_content_info.econtent.as_ref().unwrap();
    assert_eq!(
        econtent.decode_as::<OctetString>().unwrap().as_bytes(),
        content
    );

    let signer = signed.signer_infos.0.iter().next().expect("one signer");
    let SignerIdentifier::IssuerAndSerialNumber(sid) = &signer.sid else {
        panic!("signer not identified by issuer and serial");
    };
    let certs = signed.certificates.as_ref().unwrap();
    assert_eq!(certs.0.len(), 2);
    let cert = certs
        .0
        .iter()
        .find_map(|choice| match choice {
            CertificateChoices::Certificate(c)
                if c.tbs_certificate().serial_number() == &sid.serial_number
                    && c.tbs_certificate().issuer() == &sid.issuer =>
            {
                Some(c)
            }
            _ => None,
        })
        .expect("signer certificate present");

    let attrs = signer.signed_attrs.as_ref().unwrap();
    let attr = |oid| {
        let attr = attrs.iter().find(|a| a.oid == oid).expect("attribute");
        attr.values.iter().next().unwrap().clone()
    };
    let digest = attr(rfc5911::ID_MESSAGE_DIGEST);
    assert_eq!(
        digest.decode_as::<OctetString>().unwrap().as_bytes(),
        Sha256::digest(content).as_slice()
    );
    assert_eq!(
        attr(rfc5911::ID_CONTENT_TYPE)
            .decode_as::<ObjectIdentifier>()
            .unwrap(),
        rfc5911::ID_DATA
    );
    attr(rfc5911::ID_SIGNING_TIME).decode_as::<Time>().unwrap();

    rsa_verify(
        cert.tbs_certificate().subject_public_key_info(),
        &attrs.to_der().unwrap(),
        signer.signature.as_bytes(),
    );
}

#[test]
fn pkcs10_requests_carry_subject_and_verify() {
    let cn = r#"o'brien+ops@example.com, CN=evil "quoted" \ ünïcode"#;
    for (keytype, keylength) in [("rsa", "2048"), ("EC", "256"), ("ECDSA", "256")] {
        let der = pkcs10(keytype, keylength, cn).expect("pkcs10");
        let request = CertReq::from_der(&der).unwrap();
        let subject = &request.info.subject;
        assert_eq!(subject.iter_rdn().count(), 1);
        assert_eq!(subject.common_name().unwrap().unwrap().value(), cn);

        let message = request.info.to_der().unwrap();
        let signature = request.signature.raw_bytes();
        let spki = &request.info.public_key;
        if keytype.eq_ignore_ascii_case("rsa") {
            rsa_verify(spki, &message, signature);
            let key = RsaPublicKey::try_from(spki.owned_to_ref()).unwrap();
            assert_eq!(key.size(), 256);
        } else {
            let key = p256::ecdsa::VerifyingKey::try_from(spki.owned_to_ref()).unwrap();
            let signature = p256::ecdsa::DerSignature::try_from(signature).unwrap();
            key.verify(&message, &signature)
                .expect("P-256 signature verifies");
        }
    }
    // The cache hands back the same key rather than generating a new one.
    let a = CertReq::from_der(&pkcs10("RSA", "2048", "a").unwrap()).unwrap();
    let b = CertReq::from_der(&pkcs10("RSA", "2048", "b").unwrap()).unwrap();
    assert_eq!(a.info.public_key, b.info.public_key);
}

#[test]
fn pkcs10_rejects_unsupported_requests() {
    for (keytype, keylength) in [
        ("DSA", "2048"),
        ("RSA", "abc"),
        ("RSA", ""),
        ("RSA", "-2048"),
        ("RSA", "512"),
        ("RSA", "2050"),
        ("RSA", "8192"),
        ("RSA", "99999999999999999999999"),
        ("EC", "384"),
    ] {
        let error = pkcs10(keytype, keylength, "x").expect_err(keytype);
        assert!(error.to_string().contains(keytype), "{error}");
    }
}

#[test]
fn dev_pki_chains_to_its_ca_and_rustls_accepts_it_for_its_hosts_and_purposes() {
    use rustls::client::WebPkiServerVerifier;
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
    use rustls::server::WebPkiClientVerifier;
    use x509_cert::ext::pkix::name::GeneralName;

    let hosts = ["localhost", "127.0.0.1", "hermod.test", "::1"].map(String::from);
    let pki = dev_pki(&hosts).expect("dev pki");
    let der = |pem: &str| CertificateDer::from_pem_slice(pem.as_bytes()).expect("PEM cert");
    let (ca, server, client) = (
        der(&pki.ca_cert),
        der(&pki.server_cert),
        der(&pki.client_cert),
    );

    // The X.509 view: names, CA flag, alternative names and purposes.
    let parsed = |d: &CertificateDer| Certificate::from_der(d).expect("X.509");
    let (ca_x, server_x, client_x) = (parsed(&ca), parsed(&server), parsed(&client));
    let ca_tbs = ca_x.tbs_certificate();
    assert_eq!(ca_tbs.issuer(), ca_tbs.subject());
    assert!(
        ca_tbs
            .subject()
            .to_string()
            .starts_with("CN=Hermod Console dev CA ")
    );
    let (_, constraints) = ca_tbs.get_extension::<BasicConstraints>().unwrap().unwrap();
    assert!(constraints.ca);
    let server_tbs = server_x.tbs_certificate();
    assert_eq!(server_tbs.subject().to_string(), "CN=localhost");
    assert_eq!(server_tbs.issuer(), ca_tbs.subject());
    let (_, san) = server_tbs
        .get_extension::<SubjectAltName>()
        .unwrap()
        .unwrap();
    assert!(san.0.contains(&GeneralName::DnsName(
        Ia5String::new("hermod.test").unwrap()
    )));
    assert!(san.0.contains(&GeneralName::IpAddress(
        OctetString::new(vec![127, 0, 0, 1]).unwrap()
    )));
    let (_, eku) = server_tbs
        .get_extension::<ExtendedKeyUsage>()
        .unwrap()
        .unwrap();
    assert_eq!(eku.0, vec![rfc5280::ID_KP_SERVER_AUTH]);
    let client_tbs = client_x.tbs_certificate();
    assert_eq!(client_tbs.subject().to_string(), "CN=hermod-console");
    let (_, eku) = client_tbs
        .get_extension::<ExtendedKeyUsage>()
        .unwrap()
        .unwrap();
    assert_eq!(eku.0, vec![rfc5280::ID_KP_CLIENT_AUTH]);

    // The chain, as rustls (the console's and the simulator's TLS) checks it.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).expect("the CA is a trust anchor");
    let roots = Arc::new(roots);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let servers = WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
        .build()
        .unwrap();
    let as_server = |cert: &CertificateDer<'static>, host: &str| {
        let name = ServerName::try_from(host.to_string()).unwrap();
        servers.verify_server_cert(cert, &[], &name, &[], UnixTime::now())
    };
    for host in &hosts {
        as_server(&server, host).unwrap_or_else(|e| panic!("{host}: {e}"));
    }
    assert!(as_server(&server, "other.test").is_err(), "only its hosts");
    assert!(
        as_server(&client, "localhost").is_err(),
        "a client cert is no server cert"
    );
    let clients = WebPkiClientVerifier::builder_with_provider(roots, provider.clone())
        .build()
        .unwrap();
    clients
        .verify_client_cert(&client, &[], UnixTime::now())
        .expect("the client certificate is accepted");
    assert!(
        clients
            .verify_client_cert(&server, &[], UnixTime::now())
            .is_err(),
        "a server cert is no client cert"
    );

    // Each key belongs to its certificate.
    for (cert, key) in [(&server, &pki.server_key), (&client, &pki.client_key)] {
        let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).expect("PKCS#8 PEM");
        let key = provider.key_provider.load_private_key(key).unwrap();
        rustls::sign::CertifiedKey::new(vec![cert.clone()], key)
            .keys_match()
            .expect("key fits certificate");
    }

    // Another run is another CA, whose certificates the first one's trust does not cover.
    let other = dev_pki(&hosts).expect("second dev pki");
    assert_ne!(other.ca_cert, pki.ca_cert);
    assert!(as_server(&der(&other.server_cert), "localhost").is_err());
    assert!(dev_pki(&[]).is_err());
    assert!(dev_pki(&["bad host/".to_string()]).is_err());
}

#[test]
fn transport_key_is_rsa_2048_spki() {
    let der = transport_key_spki_der().expect("spki");
    let key = RsaPublicKey::from_public_key_der(&der).expect("RSA SPKI");
    assert_eq!(key.size(), 256);
}
