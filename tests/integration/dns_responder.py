"""A tiny authoritative DNS server on a random UDP port of 127.0.0.1, for resolver tests.

A resolver pointed at it (`ResolverConfig.dns_nameservers`, or `QUIRE_DNS_SERVERS` and
`QUIRE_DNS_PORT` for a whole server) answers from its dicts, never from the machine's DNS.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


@dataclass
class DnsResponder:
    """Answers TXT and A queries from dicts; NXDOMAIN for everything else."""

    txt: dict[str, list[str]] = field(default_factory=dict)
    a: dict[str, list[str]] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text(omit_final_dot=True).lower()
            self.queries.append(f"{dns.rdatatype.to_text(question.rdtype)} {name}")
            table = {dns.rdatatype.TXT: self.txt, dns.rdatatype.A: self.a}.get(question.rdtype)
            values = table.get(name) if table is not None else None
            if values:
                rdtype = dns.rdatatype.to_text(question.rdtype)
                texts = [f'"{v}"' if question.rdtype == dns.rdatatype.TXT else v for v in values]
                response.answer.append(dns.rrset.from_text(question.name, 60, "IN", rdtype, *texts))
            else:
                response.set_rcode(dns.rcode.NXDOMAIN)
            self._sock.sendto(response.to_wire(), peer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()
