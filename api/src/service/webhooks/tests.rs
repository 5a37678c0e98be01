//! Unit tests of webhook URLs, signatures and retry timing.

use super::*;

#[test]
fn backoff_doubles_from_the_base_up_to_six_hours() {
    let base = Duration::from_secs(30);
    assert_eq!(backoff(base, 1), Duration::from_secs(30));
    assert_eq!(backoff(base, 2), Duration::from_secs(60));
    assert_eq!(backoff(base, 4), Duration::from_secs(240));
    assert_eq!(backoff(base, 30), MAX_BACKOFF);
}

#[test]
fn urls_must_be_https_public_and_without_credentials() {
    let strict = Config::default();
    assert!(check_url(&strict, "https://example.com/hook").is_ok());
    for bad in [
        "http://example.com/hook",
        "ftp://example.com/",
        "https://user:pw@example.com/",
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest",
        "not a url",
    ] {
        let err = check_url(&strict, bad).unwrap_err();
        assert_eq!(err.code().as_str(), "BAD_USER_INPUT", "{bad}");
    }
    let dev = Config {
        webhook_allow_insecure: true,
        ..Config::default()
    };
    assert!(check_url(&dev, "http://127.0.0.1:9000/hook").is_ok());
}

#[test]
fn public_addresses_are_told_from_internal_ones() {
    for ip in [
        "8.8.8.8",
        "2001:4860:4860::8888",
        "::ffff:8.8.8.8",
        "2002:0808:0808::1",
    ] {
        assert!(is_public(ip.parse().unwrap()), "{ip}");
    }
    for ip in [
        "127.0.0.1",
        "192.168.1.1",
        "172.16.0.1",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fd00::1",
        "fe80::1",
        "::ffff:10.0.0.1",
        "::10.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "2002:c0a8:0101::1",
        "fec0::1",
        "198.18.0.1",
        "192.0.0.8",
        "240.0.0.1",
        "0.1.2.3",
    ] {
        assert!(!is_public(ip.parse().unwrap()), "{ip}");
    }
}
