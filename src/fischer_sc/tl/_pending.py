"""The marker for tools whose implementation lands with a later capability."""

from __future__ import annotations

from typing import NoReturn


def not_implemented(tool: str, capability: str) -> NoReturn:
    """Raise the error of a tool that exists with its final signature but has no implementation yet.

    No tool ever returns a placeholder result: until its capability lands it raises.
    """
    msg = (
        f"fs.tl.{tool} is not implemented yet: it arrives with the capability '{capability}'. "
        f"Its signature is final; see fs.plugins.list_methods() for what is available now."
    )
    raise NotImplementedError(msg)
