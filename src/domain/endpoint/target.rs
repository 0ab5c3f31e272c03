//! Where a delivery may go: a webhook URL's form and host, a duty inbox's address, and which network addresses a
//! delivery may reach (server-side request forgery: not this machine, not a private network, unless allowed).

use super::MAX_TARGET_LEN;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why a target was refused: a stable code and a message a caller can act on.
pub type Refusal = (&'static str, String);

/// Checks a webhook URL: absolute, `https` (or `http` when `allow_http`), a host, no user or password in it, no
/// fragment, at most [`MAX_TARGET_LEN`] characters; and, when `allow_private` is off, its host is not an address
/// of this machine or a private network ([`public_address`]). Host names are checked again at each delivery,
/// against what they resolve to then.
pub fn check_webhook_url(
    target: &str,
    allow_http: bool,
    allow_private: bool,
) -> Result<url::Url, Refusal> {
    const INVALID: &str = crate::codes::INVALID_ENDPOINT;
    if target.len() > MAX_TARGET_LEN {
        return Err((
            INVALID,
            format!("url is longer than {MAX_TARGET_LEN} characters"),
        ));
    }
    let url = url::Url::parse(target.trim())
        .map_err(|_| (INVALID, "url is not an absolute URL".to_string()))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => {
            return Err((
                INVALID,
                "url must use https (plain http is allowed only where ORDERWATCH_WEBHOOK_ALLOW_HTTP is set)".into(),
            ))
        }
        _ => return Err((INVALID, "url must be an https URL".into())),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err((
            INVALID,
            "url must not hold a user name or password: deliveries are signed instead".into(),
        ));
    }
    if url.fragment().is_some() {
        return Err((INVALID, "url must not have a #fragment".into()));
    }
    let host_is_private = match url.host() {
        None => return Err((INVALID, "url has no host".into())),
        Some(url::Host::Ipv4(ip)) => !public_address(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => !public_address(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    };
    if host_is_private && !allow_private {
        return Err((
            crate::codes::ENDPOINT_ADDRESS_REFUSED,
            "url names this machine or a private network, which deliveries may not reach here (ORDERWATCH_WEBHOOK_ALLOW_PRIVATE)".into(),
        ));
    }
    Ok(url)
}

/// Checks a duty inbox address: one `local@domain` address, no spaces or control characters, at most 254
/// characters. The mail library parses it again before sending.
pub fn check_email_address(target: &str) -> Result<String, Refusal> {
    const INVALID: &str = crate::codes::INVALID_ENDPOINT;
    let address = target.trim();
    let well_formed = address.len() <= 254
        && !address
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',' || c == '<' || c == '>')
        && address.split_once('@').is_some_and(|(local, domain)| {
            // A name, not an address: the relay is never asked to deliver to a machine by its IP.
            !local.is_empty()
                && domain.parse::<IpAddr>().is_err()
                && !domain.starts_with('[')
                && domain.contains('.')
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if well_formed {
        Ok(address.to_string())
    } else {
        Err((
            INVALID,
            "email is not one address of the form name@example.org".into(),
        ))
    }
}

/// Whether a delivery may connect to `ip` when private addresses are not allowed: not this machine (loopback,
/// unspecified), not a private, shared (carrier-grade NAT), link-local (cloud metadata services live there),
/// multicast, broadcast or documentation range, and not an IPv6 form of one of those.
pub fn public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => public_v4(v4),
            None => public_v6(v6),
        },
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let seg = ip.segments();
    let first = seg[0];
    // An IPv4 address carried inside: IPv4-compatible (::a.b.c.d), 6to4 (2002:aabb:ccdd::) and Teredo (the
    // client's address, inverted, in the last 32 bits) are judged by it.
    let embedded = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        public_v4(Ipv4Addr::new(a, b, c, d))
    };
    // IPv4-compatible (::a.b.c.d) and IPv4-translated (::ffff:0:a.b.c.d).
    if seg[..6] == [0; 6] || seg[..6] == [0, 0, 0, 0, 0xffff, 0] {
        return embedded(seg[6], seg[7]);
    }
    if first == 0x2002 {
        return embedded(seg[1], seg[2]);
    }
    if first == 0x2001 && seg[1] == 0 {
        return embedded(!seg[6], !seg[7]);
    }
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || first == 0x2001 && seg[1] == 0x0db8 // documentation
        || first == 0x0100 && seg[1..4] == [0, 0, 0] // discard-only
        || first == 0x2001 && (0x0010..0x0030).contains(&seg[1]) // ORCHID
        || first == 0x0064 && seg[1] == 0xff9b) // NAT64 (64:ff9b::/96, 64:ff9b:1::/48) of any IPv4 address
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_local_addresses_are_not_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::127.0.0.1",
            "::ffff:0:127.0.0.1",
            "100::1",
            "2001:10::1",
            "64:ff9b:1::1",
            "2002:7f00:1::",
            "2002:a00:1::1",
            "198.18.0.1",
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "::127.0.0.1",
            "2002:7f00:1::",
            "2002:a00:1::1",
            "198.18.0.1",
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
        ] {
            assert!(!public_address(private.parse().unwrap()), "{private}");
        }
        for public in [
            "81.2.69.160",
            "8.8.8.8",
            "2a00:1450:4009:81f::200e",
            "::ffff:81.2.69.160",
        ] {
            assert!(public_address(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn webhook_urls_are_checked() {
        let refused = |url: &str, http: bool, private: bool| {
            check_webhook_url(url, http, private).unwrap_err().0
        };
        assert!(check_webhook_url("https://cases.example.org/hooks/ow", false, false).is_ok());
        assert_eq!(
            refused("http://cases.example.org/", false, false),
            "INVALID_ENDPOINT"
        );
        assert!(check_webhook_url("http://cases.example.org/", true, false).is_ok());
        assert_eq!(
            refused("ftp://cases.example.org/", true, true),
            "INVALID_ENDPOINT"
        );
        assert_eq!(
            refused("cases.example.org/hook", true, true),
            "INVALID_ENDPOINT"
        );
        assert_eq!(
            refused("https://user:pw@cases.example.org/", true, true),
            "INVALID_ENDPOINT"
        );
        assert_eq!(
            refused("https://127.0.0.1:9000/", false, false),
            "ENDPOINT_ADDRESS_REFUSED"
        );
        assert_eq!(
            refused("https://[::1]/", false, false),
            "ENDPOINT_ADDRESS_REFUSED"
        );
        assert_eq!(
            refused("https://localhost/", false, false),
            "ENDPOINT_ADDRESS_REFUSED"
        );
        assert_eq!(
            refused("https://169.254.169.254/latest/meta-data", false, false),
            "ENDPOINT_ADDRESS_REFUSED"
        );
        assert!(check_webhook_url("http://127.0.0.1:9000/", true, true).is_ok());
        assert_eq!(
            refused(
                &format!("https://example.org/{}", "a".repeat(2_000)),
                true,
                true
            ),
            "INVALID_ENDPOINT"
        );
    }

    #[test]
    fn email_addresses_are_checked() {
        assert_eq!(
            check_email_address(" duty@adv.example.org ").unwrap(),
            "duty@adv.example.org"
        );
        for bad in [
            "duty@10.0.0.5",
            "duty@[127.0.0.1]",
            "duty",
            "duty@",
            "@adv.example.org",
            "a@b@c.org",
            "duty@localhost",
            "a b@c.org",
            "a@c.org, b@c.org",
            "a@c.org\r\nBcc: x@y.org",
        ] {
            assert!(check_email_address(bad).is_err(), "{bad:?}");
        }
    }
}
