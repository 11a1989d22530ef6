"""ARM template CIDR functions: ``parseCidr``, ``cidrSubnet``, ``cidrHost`` (IPv4 and IPv6).

As the reference describes them: ``cidrHost`` index 0 is the first address after the network's
own (Azure reserves the first four of a subnet, so its first usable host is index 3), and only
IPv4 ranges have a broadcast address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(value: Any) -> Network:
    if not isinstance(value, str) or "/" not in value:
        raise TypeError("not a CIDR range")
    return ipaddress.ip_network(value, strict=False)


def _parse_cidr(value: str) -> dict[str, Any]:
    network = _network(value)
    if network.version == 4 and network.prefixlen > 30:
        raise ValueError("no usable hosts documented for /31 and /32")
    parsed: dict[str, Any] = {
        "network": str(network.network_address),
        "netmask": str(network.netmask),
    }
    if network.version == 4:
        parsed["broadcast"] = str(network.broadcast_address)
        parsed["firstUsable"] = str(network.network_address + 1)
        parsed["lastUsable"] = str(network.broadcast_address - 1)
    else:
        parsed["firstUsable"] = str(network.network_address)
        parsed["lastUsable"] = str(network.broadcast_address)
    parsed["cidr"] = network.prefixlen
    return parsed


def _cidr_subnet(value: str, new_prefix: int, index: int) -> str:
    network = _network(value)
    if type(new_prefix) is not int or type(index) is not int:
        raise TypeError("cidrSubnet needs integers")
    if not network.prefixlen <= new_prefix <= network.max_prefixlen:
        raise ValueError("the new CIDR must not be shorter than the network's")
    if not 0 <= index < 2 ** (new_prefix - network.prefixlen):
        raise ValueError("no such subnet")
    size = 2 ** (network.max_prefixlen - new_prefix)
    start = network.network_address + index * size
    return f"{start}/{new_prefix}"


def _cidr_host(value: str, index: int) -> str:
    network = _network(value)
    if type(index) is not int:
        raise TypeError("cidrHost needs an integer")
    last = network.num_addresses - (2 if network.version == 4 else 1)  # the last host's offset
    if not 0 <= index < last:
        raise ValueError("no such host")
    return str(network.network_address + 1 + index)


CIDR_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "parsecidr": _parse_cidr,
    "cidrsubnet": _cidr_subnet,
    "cidrhost": _cidr_host,
}
