"""A small pure state machine: a transition table with requirements, checks and event replay.

Shared by the hotspot and task lifecycles so that both refuse transitions the same way and both
derive their current state from the append-only event history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from models.errors import Conflict, DiabanError, InvalidRequest

#: A requirement inspects the facts given with a transition and returns what is missing, or None.
Requirement = Callable[[Any], "Missing | None"]


class TransitionError(DiabanError):
    """Base of every refused transition."""

    code = "transition_refused"


def _quoted(labels: Mapping[str, str], states: Iterable[str]) -> str:
    """Vietnamese labels of states, quoted and comma-separated."""
    return ", ".join(f"«{labels.get(s, s)}»" for s in states)


class TransitionNotAllowed(TransitionError, Conflict):
    """The table has no such transition; the message names the states allowed from ``source``."""

    code = "transition_not_allowed"

    def __init__(
        self,
        machine: str,
        source: str,
        target: str,
        allowed: tuple[str, ...],
        labels: Mapping[str, str] | None = None,
        terminal: bool = True,
    ) -> None:
        """``allowed``: the states the refused user may ask for from ``source`` (every state the table has, unless a
        caller knows who asks: :meth:`StateMachine.open_to`); ``terminal``: when none, whether ``source`` has no way
        out at all, or only none for this user."""
        source, target, allowed = str(source), str(target), tuple(str(s) for s in allowed)
        self.source, self.target, self.allowed = source, target, allowed
        labels = labels or {}
        if allowed:
            options, allowed_vi = ", ".join(repr(s) for s in allowed), _quoted(labels, allowed)
        elif terminal:
            options, allowed_vi = "none (terminal state)", "không có (trạng thái cuối)"
        else:
            options, allowed_vi = "none for this user", "không có (bạn không chuyển trực tiếp được từ trạng thái này)"
        super().__init__(
            f"không thể chuyển từ {_quoted(labels, [source])} sang {_quoted(labels, [target])}; "
            f"được phép: {allowed_vi}",
            f"{machine}: cannot go from {source!r} to {target!r}; allowed from {source!r}: {options}",
        )


class TransitionRequirementMissing(TransitionError, InvalidRequest):
    """The transition exists but a requirement (note, reason, approval, period…) is not satisfied."""

    code = "transition_requirement_missing"

    def __init__(
        self, machine: str, source: str, target: str, missing: Missing, labels: Mapping[str, str] | None = None
    ) -> None:
        source, target = str(source), str(target)
        self.source, self.target, self.missing = source, target, missing
        labels = labels or {}
        super().__init__(
            f"chưa đủ điều kiện chuyển từ {_quoted(labels, [source])} sang {_quoted(labels, [target])}: {missing.vi}",
            f"{machine}: {source!r} → {target!r} refused: {missing.en}",
        )


class InconsistentHistory(TransitionError):
    """An event in a history does not start from the state reached by the events before it."""

    code = "inconsistent_history"


@dataclass(frozen=True)
class Missing:
    """What a requirement found missing, in Vietnamese for users and English for logs and API clients."""

    vi: str
    en: str


def requires_text(attribute: str, what_vi: str, what_en: str) -> Requirement:
    """Requirement that ``context.<attribute>`` is a non-blank string (a note, reason or comment)."""

    def check(context: Any) -> Missing | None:
        """Report the missing text."""
        value = getattr(context, attribute, None)
        if isinstance(value, str) and value.strip():
            return None
        return Missing(f"cần nhập {what_vi}", f"{what_en} is required ({attribute})")

    return check


@dataclass(frozen=True)
class Gate:
    """A requirement on who makes a transition or through what (a role, a change of another record), not on the facts
    given with it: a user it shuts out is not told the transition is allowed (:meth:`StateMachine.open_to`), where one
    missing a note, say, is."""

    check: Requirement

    def __call__(self, context: Any) -> Missing | None:
        """What the gate finds missing, or None."""
        return self.check(context)


def requires_role(role: str, role_vi: str) -> Requirement:
    """Requirement (a :class:`Gate`) that ``context.actor_role`` equals ``role`` (e.g. command approval)."""

    def check(context: Any) -> Missing | None:
        """Report the wrong or missing role."""
        actual = getattr(context, "actor_role", None)
        if actual == role:
            return None
        return Missing(f"chỉ {role_vi} được thực hiện", f"role {str(role)!r} is required (got {actual!r})")

    return Gate(check)


@dataclass(frozen=True)
class StateMachine:
    """States with Vietnamese labels, an initial state and transitions guarded by requirements."""

    name: str
    labels_vi: Mapping[str, str]
    initial: str
    transitions: Mapping[tuple[str, str], tuple[Requirement, ...]]
    _allowed: Mapping[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Validate that every state used is declared and index the allowed targets."""
        used = {self.initial, *(s for pair in self.transitions for s in pair)}
        undeclared = sorted(used - set(self.labels_vi))
        if undeclared:
            raise ValueError(f"{self.name}: states without a label: {undeclared}")
        allowed = {s: tuple(t for (f, t) in self.transitions if f == s) for s in self.labels_vi}
        object.__setattr__(self, "_allowed", MappingProxyType(allowed))

    @property
    def states(self) -> tuple[str, ...]:
        """All declared states."""
        return tuple(self.labels_vi)

    @property
    def terminal(self) -> frozenset[str]:
        """States with no way out."""
        return frozenset(s for s, targets in self._allowed.items() if not targets)

    def allowed(self, source: str) -> tuple[str, ...]:
        """States reachable in one step from ``source``."""
        if source not in self._allowed:
            raise ValueError(f"{self.name}: unknown state {source!r}")
        return self._allowed[source]

    def open_to(self, source: str, context: Any = None) -> tuple[str, ...]:
        """States reachable in one step from ``source`` whose gates (:class:`Gate`) let ``context`` through: those a
        user may ask for, whatever else the move needs (a note, a period elapsed)."""
        return tuple(
            target
            for target in self.allowed(source)
            if not any(isinstance(r, Gate) and r(context) for r in self.transitions[(source, target)])
        )

    def refusal(self, source: str, target: str, allowed: tuple[str, ...]) -> TransitionNotAllowed:
        """The refusal of ``source → target`` naming ``allowed``, what the refused user may ask for from ``source``."""
        return TransitionNotAllowed(self.name, source, target, allowed, self.labels_vi, source in self.terminal)

    def check(self, source: str, target: str, context: Any = None) -> None:
        """Return if ``source → target`` may happen with these facts, else raise why not."""
        if target not in self.allowed(source):
            raise TransitionNotAllowed(self.name, source, target, self.allowed(source), self.labels_vi)
        for requirement in self.transitions[(source, target)]:
            missing = requirement(context)
            if missing:
                raise TransitionRequirementMissing(self.name, source, target, missing, self.labels_vi)

    def replay(self, events: Iterable[tuple[str, str]]) -> str:
        """Current state from (from, to) events; requirements were checked when events were recorded."""
        state = self.initial
        for index, (source, target) in enumerate(events):
            if source != state:
                raise InconsistentHistory(
                    f"lịch sử {self.name} không nhất quán: sự kiện {index} bắt đầu từ {source!r} nhưng trạng thái là {state!r}",
                    f"{self.name}: event {index} starts from {source!r} but the state is {state!r}",
                )
            if target not in self.allowed(source):
                raise TransitionNotAllowed(self.name, source, target, self.allowed(source))
            state = target
        return state
