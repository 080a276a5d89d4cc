"""Helpers of the reference code: validation (cni ``pkg/utils``), naming (plugins ``pkg/utils``)."""

from __future__ import annotations

import hashlib
import re

from .spec import (
    ERR_INVALID_ENVIRONMENT_VARIABLES,
    ERR_INVALID_NETWORK_CONFIG,
    ERR_UNKNOWN_CONTAINER,
    CNIError,
)

__all__ = [
    "validate_container_id",
    "validate_network_name",
    "validate_interface_name",
    "format_chain_name",
    "format_comment",
    "MAX_INTERFACE_NAME_LENGTH",
]

# Container ids and network names: an alphanumeric, then alphanumerics, '_', '.', '-'.
_CNI_REG = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$")
MAX_INTERFACE_NAME_LENGTH = 15  # IFNAMSIZ - 1


# mirrors cni:pkg/utils/utils.go: ValidateContainerID
def validate_container_id(container_id: str) -> None:
    if container_id == "":
        raise CNIError(ERR_UNKNOWN_CONTAINER, "missing containerID")
    if not _CNI_REG.match(container_id) or container_id.endswith("\n"):
        raise CNIError(
            ERR_INVALID_ENVIRONMENT_VARIABLES, "invalid characters in containerID", container_id
        )


# mirrors cni:pkg/utils/utils.go: ValidateNetworkName
def validate_network_name(network_name: str) -> None:
    if network_name == "":
        raise CNIError(ERR_INVALID_NETWORK_CONFIG, "missing network name:")
    if not _CNI_REG.match(network_name) or network_name.endswith("\n"):
        raise CNIError(
            ERR_INVALID_NETWORK_CONFIG, "invalid characters found in network name", network_name
        )


# mirrors cni:pkg/utils/utils.go: ValidateInterfaceName
def validate_interface_name(ifname: str) -> None:
    if len(ifname) == 0:
        raise CNIError(ERR_INVALID_ENVIRONMENT_VARIABLES, "interface name is empty")
    # Go counts bytes, not characters.
    if len(ifname.encode("utf-8", "surrogateescape")) > MAX_INTERFACE_NAME_LENGTH:
        raise CNIError(
            ERR_INVALID_ENVIRONMENT_VARIABLES,
            "interface name is too long",
            f"interface name should be less than {MAX_INTERFACE_NAME_LENGTH + 1} characters",
        )
    if ifname in (".", ".."):
        raise CNIError(ERR_INVALID_ENVIRONMENT_VARIABLES, "interface name is . or ..")
    if any(c in "/:" or c.isspace() for c in ifname):
        raise CNIError(
            ERR_INVALID_ENVIRONMENT_VARIABLES,
            "interface name contains / or : or whitespace characters",
        )


# mirrors plugins:pkg/utils/utils.go: FormatChainName
def format_chain_name(name: str, container_id: str) -> str:
    """``CNI-`` + 24 hex digits of sha512(name + id): deterministic per attachment.

    >>> format_chain_name("rsA-net", "rsA-ctr1")
    'CNI-edf5726f8d5eb4d5f2fb12cc'
    """
    return "CNI-" + hashlib.sha512((name + container_id).encode()).hexdigest()[:24]


# mirrors plugins:pkg/utils/utils.go: FormatComment
def format_comment(name: str, container_id: str) -> str:
    return f'name: "{name}" id: "{container_id}"'
