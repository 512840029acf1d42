"""This computer's addresses on the local network, for phone mode (with ``ifaddr``).

The phone must reach the computer at an address on the home network, so ``--phone``
listens on one (``--host`` picks another) and the certificate covers them all.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

#: Interfaces of containers and virtual machines: a phone is never behind them.
VIRTUAL_PREFIXES = ("docker", "br-", "veth", "virbr", "vmnet", "vboxnet", "cni", "flannel", "lxc")


@dataclass(frozen=True)
class LanAddress:
    interface: str
    address: str

    @property
    def private(self) -> bool:
        return ipaddress.ip_address(self.address).is_private


def lan_addresses() -> list[LanAddress]:
    """IPv4 addresses a phone on the same network could reach, the likeliest first
    (private ranges on real interfaces before anything else)."""
    import ifaddr

    found: list[LanAddress] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if not isinstance(ip.ip, str):
                continue  # IPv6: phones' browsers and home routers make IPv4 the sure path
            addr = ipaddress.ip_address(ip.ip)
            if addr.is_loopback or addr.is_link_local or addr.is_multicast or addr.is_unspecified:
                continue
            found.append(LanAddress(adapter.nice_name, ip.ip))
    return sorted(found, key=lambda a: (a.interface.startswith(VIRTUAL_PREFIXES), not a.private))
