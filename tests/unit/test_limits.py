"""What a per-address limit counts."""

from __future__ import annotations

import pytest

from mailbox.services.limits import address_bucket


@pytest.mark.parametrize(
    ("address", "bucket"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
    ],
)
def test_ipv6_addresses_count_by_their_64_network(address: str, bucket: str) -> None:
    assert address_bucket(address) == bucket
