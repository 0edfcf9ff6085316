//! `-p, --publish [IP:]HOST_PORT:CONTAINER_PORT[/tcp]`: a TCP port of the host reaching a
//! port of a container that has a network namespace of its own.
//!
//! The CLI listens on the host port in the host's namespace (the listening sockets are made
//! before it enters the container's), and relays each connection to `127.0.0.1` (or `::1`)
//! at the container's port, connecting from threads started after it entered the
//! container's namespace, so their sockets are made there (a thread's sockets are made in
//! its own network namespace, which it takes from the thread that started it). The
//! container's server sees connections from its own loopback, as behind Docker's userland
//! proxy.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::thread;

/// One `--publish` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    /// The host address listened on; `None`: every address, IPv4 and IPv6.
    pub host_ip: Option<IpAddr>,
    pub host_port: u16,
    pub container_port: u16,
}

impl PortSpec {
    /// Parses `[IP:]HOST_PORT:CONTAINER_PORT[/tcp]` (an IPv6 address in brackets).
    pub fn parse(value: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "--publish takes [IP:]HOST_PORT:CONTAINER_PORT[/tcp], not `{value}` \
                 (e.g. -p 8080:80)"
            )
        };
        let spec = match value.rsplit_once('/') {
            Some((spec, "tcp")) => spec,
            Some((_, "udp" | "sctp")) => {
                return Err(format!(
                    "--publish {value}: only TCP ports can be published"
                ))
            }
            Some(_) => return Err(bad()),
            None => value,
        };
        let (rest, container_port) = spec.rsplit_once(':').ok_or_else(bad)?;
        let (host_ip, host_port) = match rest.rsplit_once(':') {
            Some((ip, port)) => {
                let ip = ip.trim_start_matches('[').trim_end_matches(']');
                (Some(ip.parse::<IpAddr>().map_err(|_| bad())?), port)
            }
            None => (None, rest),
        };
        let port = |text: &str| text.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(bad);
        Ok(Self {
            host_ip,
            host_port: port(host_port)?,
            container_port: port(container_port)?,
        })
    }
}

/// The host's listening sockets of the `--publish` settings, not yet relaying.
pub struct Publisher {
    listeners: Vec<(TcpListener, u16)>,
}

impl Publisher {
    /// Listens on every host port of `specs`, in the caller's network namespace (the
    /// host's): a port in use or not allowed is an error naming it, before anything runs.
    pub fn listen(specs: &[PortSpec]) -> Result<Self, String> {
        let mut listeners = Vec::new();
        for spec in specs {
            let listener = match spec.host_ip {
                Some(ip) => TcpListener::bind(SocketAddr::new(ip, spec.host_port)),
                // Dual-stack where the host has IPv6, else IPv4 alone.
                None => TcpListener::bind((Ipv6Addr::UNSPECIFIED, spec.host_port))
                    .or_else(|_| TcpListener::bind((Ipv4Addr::UNSPECIFIED, spec.host_port))),
            }
            .map_err(|err| {
                format!(
                    "--publish: cannot listen on host port {}: {err}",
                    spec.host_port
                )
            })?;
            listeners.push((listener, spec.container_port));
        }
        Ok(Self { listeners })
    }

    /// Starts relaying, from threads of the calling thread's network namespace (the
    /// container's). They run until the CLI exits.
    pub fn start(self) {
        for (listener, port) in self.listeners {
            thread::spawn(move || accept_loop(listener, port));
        }
    }
}

/// Accepts connections on `listener` and relays each to the container's `port`.
fn accept_loop(listener: TcpListener, port: u16) {
    for outside in listener.incoming() {
        let Ok(outside) = outside else {
            // A connection that went away before it was accepted; the next may be fine.
            continue;
        };
        thread::spawn(move || {
            // A container not listening (yet) gets the client a closed connection, as
            // Docker's proxy does.
            if let Ok(inside) = connect_inside(port) {
                relay(outside, inside);
            }
        });
    }
}

/// A connection to `port` on the container's loopback, IPv4 first.
fn connect_inside(port: u16) -> io::Result<TcpStream> {
    TcpStream::connect((Ipv4Addr::LOCALHOST, port))
        .or_else(|_| TcpStream::connect((Ipv6Addr::LOCALHOST, port)))
}

/// Copies both ways between `a` and `b` until both directions end; each end of stream is
/// passed on as a half close, so request/response protocols that wait for it work.
fn relay(a: TcpStream, b: TcpStream) {
    let (Ok(a2), Ok(b2)) = (a.try_clone(), b.try_clone()) else {
        return;
    };
    let back = thread::spawn(move || pump(b2, a2));
    pump(a, b);
    let _ = back.join();
}

/// Copies from `from` to `to` until end of stream or an error, then half-closes `to`.
fn pump(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_as_docker_writes_them() {
        let spec = PortSpec::parse("8080:80").unwrap();
        assert_eq!(
            spec,
            PortSpec {
                host_ip: None,
                host_port: 8080,
                container_port: 80
            }
        );
        let spec = PortSpec::parse("127.0.0.1:8080:80/tcp").unwrap();
        assert_eq!(spec.host_ip, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        let spec = PortSpec::parse("[::1]:6379:6379").unwrap();
        assert_eq!(spec.host_ip, Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert_eq!(spec.host_port, 6379);
        for bad in [
            "80",
            "x:80",
            "8080:0",
            "8080:70000",
            "1.2.3:8080:80",
            "80:80/xyz",
        ] {
            assert!(PortSpec::parse(bad).is_err(), "{bad}");
        }
        assert!(PortSpec::parse("53:53/udp")
            .unwrap_err()
            .contains("only TCP"));
    }

    #[test]
    fn a_connection_is_relayed_both_ways_with_half_closes() {
        let server = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = server.local_addr().unwrap().port();
        let echo = thread::spawn(move || {
            let (mut conn, _) = server.accept().unwrap();
            let mut request = Vec::new();
            conn.read_to_end(&mut request).unwrap();
            conn.write_all(&request.repeat(2)).unwrap();
        });
        let publisher = Publisher::listen(&[PortSpec {
            host_ip: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            host_port: 0,
            container_port: port,
        }]);
        // Port 0 is refused by the parser but not by bind: the test's way to a free port.
        let publisher = publisher.unwrap();
        let outside = publisher.listeners[0].0.local_addr().unwrap();
        publisher.start();
        let mut client = TcpStream::connect(outside).unwrap();
        client.write_all(b"ping").unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut reply = Vec::new();
        client.read_to_end(&mut reply).unwrap();
        assert_eq!(reply, b"pingping");
        echo.join().unwrap();
    }
}
