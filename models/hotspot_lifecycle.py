"""Lifecycle of a drug hotspot: detection, verification, suppression, eradication, keeping clean.

"Triệt phá đến đâu phải giữ sạch đến đó": an eradicated hotspot is watched for a monitoring period
and only command may close it, once the period has passed without an incident in its footprint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from models.state_machine import Requirement, StateMachine, requires_role, requires_text

DEFAULT_MONITORING_DAYS = 180

HOTSPOT_LABELS_VI = {
    "detected": "Phát hiện",
    "verified": "Đã xác minh",
    "dismissed": "Không xác thực, loại bỏ",
    "assigned": "Đã giao xử lý",
    "suppressing": "Đang đấu tranh",
    "eradicated": "Đã triệt xóa",
    "monitoring": "Đang giữ sạch, theo dõi",
    "closed": "Đã loại khỏi danh sách",
    "recurred": "Phức tạp trở lại",
}


@dataclass(frozen=True)
class HotspotFacts:
    """Facts supplied with a transition request (who acts, what was done, what was observed)."""

    note: str = ""
    actor_role: str | None = None
    monitoring_since: date | None = None
    as_of: date | None = None
    incident_in_footprint: bool | None = None


def monitoring_ends(monitoring_since: date, monitoring_days: int = DEFAULT_MONITORING_DAYS) -> date:
    """First day on which a hotspot monitored since ``monitoring_since`` may be closed."""
    return monitoring_since + timedelta(days=monitoring_days)


def _period_elapsed(monitoring_days: int) -> Requirement:
    """Requirement that the monitoring period has ended by ``as_of``."""

    def check(facts: HotspotFacts) -> str | None:
        """Report a missing date or a period still running."""
        if facts.monitoring_since is None or facts.as_of is None:
            return "monitoring start and closing date are required (monitoring_since, as_of)"
        end = monitoring_ends(facts.monitoring_since, monitoring_days)
        if facts.as_of < end:
            return f"the {monitoring_days}-day monitoring period runs until {end.isoformat()}"
        return None

    return check


def _no_incident(facts: HotspotFacts) -> str | None:
    """Requirement that no incident occurred within the footprint during monitoring."""
    if facts.incident_in_footprint is None:
        return "whether an incident occurred within the footprint must be stated (incident_in_footprint)"
    return "an incident occurred within the footprint during monitoring" if facts.incident_in_footprint else None


def hotspot_lifecycle(monitoring_days: int = DEFAULT_MONITORING_DAYS) -> StateMachine:
    """The hotspot state machine with a given monitoring period in days."""
    if monitoring_days < 0:
        raise ValueError(f"monitoring_days must be ≥ 0, got {monitoring_days}")
    by_detection = (requires_role("system"),)
    return StateMachine(
        name="hotspot",
        labels_vi=HOTSPOT_LABELS_VI,
        initial="detected",
        transitions={
            ("detected", "verified"): (),
            ("detected", "dismissed"): (),
            ("verified", "assigned"): (),
            ("assigned", "suppressing"): (),
            ("suppressing", "eradicated"): (requires_text("note", "a note of what was done"),),
            ("eradicated", "monitoring"): (),
            ("monitoring", "closed"): (requires_role("command"), _period_elapsed(monitoring_days), _no_incident),
            ("eradicated", "recurred"): by_detection,
            ("monitoring", "recurred"): by_detection,
            ("closed", "recurred"): by_detection,
            ("recurred", "assigned"): (),
        },
    )


HOTSPOT_LIFECYCLE = hotspot_lifecycle()
