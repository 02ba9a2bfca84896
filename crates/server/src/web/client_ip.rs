//! The address of the person behind a request, for rate limits.
//!
//! Behind a reverse proxy every TCP connection comes from the proxy, so the
//! visitor's address is taken from `X-Forwarded-For` — but only when the
//! connection really comes from a configured proxy: anyone else can write
//! that header. Each proxy appends the address it received the request from,
//! so the rightmost hop that is not one of our proxies is the first address
//! nobody of ours can have been told by the client.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use super::AppState;

/// The client's address: the TCP peer, or, when the peer is a trusted
/// proxy, the rightmost `X-Forwarded-For` hop that is not a trusted proxy
/// (the leftmost hop when all are trusted). A header that cannot be read
/// leaves the peer's address.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = canonical(peer);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(&ip));
    if !is_trusted(peer) {
        return peer;
    }
    // Several headers count as one list, in order (RFC 9110, 5.3).
    let mut hops = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(text) = value.to_str() else {
            return peer;
        };
        for hop in text.split(',') {
            match parse_hop(hop) {
                Some(ip) => hops.push(ip),
                None => return peer,
            }
        }
    }
    let mut found = peer;
    for ip in hops.into_iter().rev() {
        found = ip;
        if !is_trusted(ip) {
            return ip;
        }
    }
    found
}

/// One hop: an address, possibly with a port (`192.0.2.1:4711`,
/// `[2001:db8::1]:4711`), as some proxies write it.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(canonical)
}

/// An IPv4 address seen through an IPv6 socket is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// What rate limits count by: an IPv4 address, or the /64 network of an
/// IPv6 address (one subscriber usually holds a whole /64, so counting
/// single IPv6 addresses would give them 2^64 separate allowances).
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// The client's address of a request (see [`client_ip`]); `None` when the
/// server was started without connection information.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| client_ip(c.0.ip(), &parts.headers, &state.admin.trusted_proxies)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn nets(s: &str) -> Vec<IpNet> {
        let items: Vec<String> = s.split(',').map(str::to_owned).collect();
        crate::settings::trusted_proxies(&items).unwrap()
    }

    #[test]
    fn without_a_configured_proxy_the_peer_is_the_client() {
        let h = xff(&["203.0.113.9"]);
        assert_eq!(client_ip(ip("198.51.100.1"), &h, &[]), ip("198.51.100.1"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() {
        let trusted = nets("10.0.0.0/8, 192.0.2.10");
        // The client forged the first hop; our proxies appended the rest.
        let h = xff(&["1.1.1.1, 203.0.113.9, 10.0.0.7"]);
        assert_eq!(client_ip(ip("192.0.2.10"), &h, &trusted), ip("203.0.113.9"));
        // Split over several headers, in order.
        let h = xff(&["1.1.1.1", "203.0.113.9:5123, 10.0.0.7"]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("203.0.113.9"));
    }

    #[test]
    fn a_header_from_a_direct_client_is_ignored() {
        let trusted = nets("10.0.0.0/8");
        let h = xff(&["10.0.0.3"]);
        assert_eq!(
            client_ip(ip("203.0.113.9"), &h, &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn when_every_hop_is_trusted_the_leftmost_is_the_client() {
        let trusted = nets("10.0.0.0/8");
        let h = xff(&["10.0.0.3, 10.0.0.4"]);
        assert_eq!(client_ip(ip("10.0.0.5"), &h, &trusted), ip("10.0.0.3"));
        // No header at all: the proxy itself.
        assert_eq!(
            client_ip(ip("10.0.0.5"), &HeaderMap::new(), &trusted),
            ip("10.0.0.5")
        );
    }

    #[test]
    fn a_header_that_cannot_be_read_leaves_the_peer() {
        let trusted = nets("10.0.0.0/8");
        for bad in ["203.0.113.9, n'importe quoi", "", "203.0.113.9,,"] {
            let h = xff(&[bad]);
            assert_eq!(
                client_ip(ip("10.0.0.5"), &h, &trusted),
                ip("10.0.0.5"),
                "{bad}"
            );
        }
    }

    #[test]
    fn ipv4_mapped_and_ipv6_networks() {
        assert_eq!(
            client_ip(ip("::ffff:203.0.113.9"), &HeaderMap::new(), &[]),
            ip("203.0.113.9")
        );
        assert_eq!(limit_key(ip("2001:db8:1:2:3:4:5:6")), ip("2001:db8:1:2::"));
        assert_eq!(limit_key(ip("203.0.113.9")), ip("203.0.113.9"));
    }
}
