"""What a case expects beyond the contract, as a typed object: a misspelt expectation is an error where it is
written (in a case, a saved case, a check), never a check that silently never runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Expectations:
    tool_call_expected: bool = False  # a question only a declared tool answers, under tool_choice auto
    min_tool_calls: int | None = None  # parallel calls in one turn
    error_code: str | None = None  # the error.code OpenAI answers this request with
    error_param: str | None = None  # the error.param OpenAI names
    status: tuple[int, ...] = ()  # the statuses an error case accepts
    embedding_size: int | None = None  # the profile's vector length
    model_id: str | None = None  # the model a models case must list or describe

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def of(cls, value: Expectations | Mapping[str, Any] | None) -> Expectations:
        if isinstance(value, Expectations):
            return value
        data = dict(value or {})
        unknown = sorted(set(data) - set(cls.names()))
        if unknown:
            raise ValueError(f"unknown expectation(s) {', '.join(unknown)}: the expectations are "
                             f"{', '.join(cls.names())}")
        if "status" in data:
            data["status"] = tuple(data["status"])
        return cls(**data)

    def get(self, name: str, default: Any = None) -> Any:
        """The value of a named expectation (None/False/() when not set); an unknown name raises."""
        if name not in self.names():
            raise AttributeError(f"no expectation named {name!r}: the expectations are {', '.join(self.names())}")
        value = getattr(self, name)
        return default if value in (None, (), False) and default is not None else value

    def with_defaults(self, **values: Any) -> Expectations:
        """These values where none is set yet."""
        return replace(self, **{k: v for k, v in values.items() if getattr(self, k) in (None, (), False)})

    def to_dict(self) -> dict[str, Any]:
        """Only what is set (for saved cases and reports)."""
        defaults = Expectations()
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()
                if v != getattr(defaults, k)}

    def __bool__(self) -> bool:
        return bool(self.to_dict())
