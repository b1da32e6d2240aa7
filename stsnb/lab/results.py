"""What lab actions return: text as kubectl prints it, the objects, and tables beside it."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import StsnbError

if TYPE_CHECKING:
    import pandas as pd

    from ..timeline import Recording

__all__ = ["Text", "ActionResult", "PodReplacement", "DnsLookup", "ErrorText", "parse_nslookup"]


class Text(str):
    """A string that shows itself as text in a notebook (not as a quoted repr)."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return f'<pre class="stsnb-text">{html.escape(str(self))}</pre>'


@dataclass(repr=False)
class ActionResult:
    """What an action did, as kubectl would print it (``lines``), plus the objects and an optional timeline."""

    lines: list[str] = field(default_factory=list)
    objects: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    recording: Recording | None = None
    frame: "pd.DataFrame | None" = None
    lang: str = "en"
    """The language the frame's headers are shown in (the lab's)."""
    colors: object = None
    """The lab's :class:`~stsnb.tables.RevisionColors` for the frame."""

    @property
    def text(self) -> str:
        return "\n".join([*(f"Warning: {w}" for w in self.warnings), *self.lines])

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text or "(no change)"

    def _repr_html_(self) -> str:
        out = f'<pre class="stsnb-action">{html.escape(self.text or "(no change)")}</pre>'
        if self.frame is not None:
            from ..tables import to_html
            out += to_html(self.frame, self.lang, self.colors)  # type: ignore[arg-type]
        return out


@dataclass(repr=False)
class PodReplacement(ActionResult):
    """A deleted pod and the one that replaced it: compare name, uid, IP and node."""

    old_name: str = ""
    new_name: str | None = None
    old_uid: str = ""
    new_uid: str | None = None
    old_ip: str | None = None
    new_ip: str | None = None
    old_node: str | None = None
    new_node: str | None = None


@dataclass
class DnsLookup:
    """The answer of one ``nslookup`` run in a busybox pod."""

    query: str
    answers: list[str]
    output: str
    exit_code: int | None
    server: str | None = None
    pod: str = "dnsquery"

    def __str__(self) -> str:
        return self.output

    def __repr__(self) -> str:
        return self.output if self.output else f"DnsLookup({self.query!r}, answers={self.answers})"

    def _repr_html_(self) -> str:
        return f'<pre class="stsnb-dns">{html.escape(self.output)}</pre>'


_NAME_LINE = re.compile(r"^(\S+)\s+name = (\S+?)\.?$")
_ADDRESS_LINE = re.compile(r"^Address(?: \d+)?:\s*(\S+)(?:\s+(\S+))?$")


def parse_nslookup(output: str, query: str = "") -> tuple[str | None, list[str]]:
    """``(server, answers)`` from busybox ``nslookup`` output (≥1.29 and 1.28 formats).

    Reverse lookups answer names (``… name = <target>``); forward lookups answer addresses.
    """
    server = None
    answers: list[str] = []
    in_header = True
    reverse = bool(re.match(r"^[0-9.]+$|^[0-9a-fA-F:]+:[0-9a-fA-F:]*$", query or ""))
    for raw in output.splitlines():
        line = raw.strip()
        if not line:
            if server is not None:
                in_header = False
            continue
        if line.startswith("Server:"):
            server = line.split(":", 1)[1].strip()
            continue
        m = _NAME_LINE.match(line)
        if m:
            answers.append(m.group(2))
            continue
        m = _ADDRESS_LINE.match(line)
        if m and not in_header:
            if reverse and m.group(2):
                answers.append(m.group(2))
            elif not reverse:
                answers.append(m.group(1))
    return server, answers


class ErrorText(Text):
    """The text of an error as kubectl prints it (``error: …``); ``.error`` holds the exception."""

    error: StsnbError

    def __new__(cls, error: StsnbError) -> "ErrorText":
        msg = error.message
        obj = super().__new__(cls, msg if msg.startswith("error:") else f"error: {msg}")
        obj.error = error
        return obj


def replacement_frame(old: dict, new: dict | None) -> "pd.DataFrame":
    import pandas as pd

    def row(when: str, p: dict | None) -> dict:
        if p is None:
            return {"when": when, "name": None, "uid": None, "ip": None, "node": None, "hostname": None, "claims": None}
        claims = [v["persistentVolumeClaim"]["claimName"] for v in p["spec"].get("volumes") or []
                  if v.get("persistentVolumeClaim")]
        return {"when": when, "name": p["metadata"]["name"], "uid": p["metadata"]["uid"],
                "ip": (p.get("status") or {}).get("podIP"), "node": p["spec"].get("nodeName"),
                "hostname": p["spec"].get("hostname") or p["metadata"]["name"], "claims": ", ".join(claims) or None}
    return pd.DataFrame([row("before", old), row("after", new)],
                        columns=["when", "name", "uid", "ip", "node", "hostname", "claims"])
