"""What a doctor's check found: one line each (ok / warning / FAIL / skipped), kept for --json."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Literal

Status = Literal["ok", "warning", "FAIL", "skipped"]


@dataclass(frozen=True)
class Finding:
    area: str  # ports, device, monitor, wiring, sww01
    status: Status
    text: str

    def line(self) -> str:
        return f"{self.status:<8}{self.area:<8}{self.text}"


@dataclass
class Findings:
    """Every finding in the order the walk made it; `on_finding` shows each as soon as it is known."""

    on_finding: Callable[[Finding], None] = lambda finding: None
    items: list[Finding] = field(default_factory=list)

    def add(self, area: str, status: Status, text: str) -> Finding:
        finding = Finding(area, status, text)
        self.items.append(finding)
        self.on_finding(finding)
        return finding

    def ok(self, area: str, text: str) -> None:
        self.add(area, "ok", text)

    def warn(self, area: str, text: str) -> None:
        self.add(area, "warning", text)

    def fail(self, area: str, text: str) -> None:
        self.add(area, "FAIL", text)

    def skip(self, area: str, text: str) -> None:
        self.add(area, "skipped", text)

    @property
    def failed(self) -> bool:
        return any(f.status == "FAIL" for f in self.items)

    def summary(self) -> str:
        counts = {status: sum(f.status == status for f in self.items) for status in ("ok", "warning", "FAIL",
                                                                                    "skipped")}
        verdict = "the bench is NOT ready" if self.failed else "the bench is ready"
        return f"{verdict}: " + ", ".join(f"{n} {status}" for status, n in counts.items() if n)

    def as_json(self) -> dict:
        return {"ready": not self.failed, "findings": [asdict(f) for f in self.items], "summary": self.summary()}
