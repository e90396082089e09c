"""Experiment parameters: declared once on a frozen dataclass, read by the form, the validator and the run.

Plain Python, no torch and no Django: the web process imports this (through the registry and each experiment's
``*_config`` module) to describe and validate parameters, and must not pay for importing torch to do so.

* :func:`param` declares a config field with its CPU default and, optionally, a different CUDA default and a
  larger CUDA bound (a GPU worker accepts sizes that would take minutes on a CPU worker).
* :func:`schema_for` describes every field for one device class, ready for a web form.
* :func:`coerce_params` turns raw user input (JSON or form strings) into a config, reporting every problem at once
  in a :class:`ParamError`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

DEVICE_CLASSES = ("cpu", "cuda")
PARAM_TYPES = ("int", "float", "choice", "int_list", "bool")


class ParamError(ValueError):
    """Invalid experiment parameters; ``errors`` maps a field name to a readable message.

    A dict rather than a single message so a web form can put each message next to
    its field, and so every problem is reported at once instead of one per submit.
    """

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors: dict[str, str] = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


@dataclass(frozen=True)
class ParamMeta:
    """What the form, the validator and the docs need to know about one parameter."""

    type: str
    cuda_default: Any
    min: float | None
    max: float | None
    cuda_max: float | None
    choices: tuple[str, ...] | None
    help: str
    max_items: int


_SAME = object()


def param(
    type: str,
    default: Any,
    *,
    cuda: Any = _SAME,
    min: float | None = None,
    max: float | None = None,
    cuda_max: float | None = None,
    choices: Iterable[str] | None = None,
    help: str = "",
    max_items: int = 8,
) -> Any:
    """Declare a config field with its CPU default and, optionally, a different CUDA default.

    Bounds apply to the value (for ``int_list``: to every element).  ``cuda_max`` lets a
    GPU worker accept larger sizes than a CPU worker, which would take minutes on them.
    """
    if type not in PARAM_TYPES:
        raise ValueError(f"unknown param type {type!r}")
    if isinstance(default, list):
        default = tuple(default)
    if isinstance(cuda, list):
        cuda = tuple(cuda)
    meta = ParamMeta(
        type=type,
        cuda_default=default if cuda is _SAME else cuda,
        min=min,
        max=max,
        cuda_max=max if cuda_max is None else cuda_max,
        choices=tuple(choices) if choices is not None else None,
        help=help,
        max_items=max_items,
    )
    return field(default=default, metadata={"param": meta})



def device_param() -> Any:
    """Every experiment's ``device`` field: "auto" runs on the worker's GPU when it has one."""
    return param("choice", "auto", choices=["auto", *DEVICE_CLASSES], help="Where to run.")


def cpu_threads_param() -> Any:
    """The ``threads`` field of experiments made of many tiny ops, where extra threads only add overhead."""
    return param(
        "int",
        1,
        cuda=0,
        min=0,
        max=64,
        help="CPU threads for this run (0: the worker's setting). Tiny ops: 1 is fastest on a shared CPU.",
    )

def _check_device_class(device_class: str) -> None:
    if device_class not in DEVICE_CLASSES:
        raise ValueError(f"device_class must be one of {DEVICE_CLASSES}, got {device_class!r}")


def _plain(value: Any) -> Any:
    """Tuples (immutable config storage) back to lists for JSON and forms."""
    return list(value) if isinstance(value, tuple) else value


def schema_for(config_cls: type, device_class: str) -> list[dict[str, Any]]:
    """Describe every parameter of ``config_cls`` for ``device_class`` (form-ready dicts)."""
    _check_device_class(device_class)
    out = []
    for f in dataclasses.fields(config_cls):
        meta: ParamMeta = f.metadata["param"]
        cuda = device_class == "cuda"
        out.append(
            {
                "name": f.name,
                "type": meta.type,
                "default": _plain(meta.cuda_default if cuda else f.default),
                "min": meta.min,
                "max": meta.cuda_max if cuda else meta.max,
                "choices": list(meta.choices) if meta.choices else None,
                "help": meta.help,
                **({"max_items": meta.max_items} if meta.type == "int_list" else {}),
            }
        )
    return out


def _as_int(value: Any) -> int:
    """Accept ints, integral floats and numeric strings (form input); reject the rest."""
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    raise TypeError


def _as_float(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, (int, float)):
        out = float(value)
    elif isinstance(value, str):
        try:
            out = float(value.strip())
        except ValueError:
            raise TypeError from None
    else:
        raise TypeError
    if not math.isfinite(out):
        raise TypeError
    return out


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", "off"):
        return False
    raise TypeError


def _bounds_message(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"between {lo:g} and {hi:g}"
    return f">= {lo:g}" if lo is not None else f"<= {hi:g}"


def _coerce_one(name: str, meta: ParamMeta, value: Any, hi: float | None) -> Any:
    """Convert one raw value; raise ``ValueError(message)`` with a user-facing message."""
    lo = meta.min
    if meta.type == "int_list":
        if isinstance(value, str):
            value = [v for v in value.replace(";", ",").split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"must be a list of integers, got {type(value).__name__}")
        items = []
        for v in value:
            try:
                items.append(_as_int(v))
            except TypeError:
                raise ValueError(f"must be a list of integers, got item {v!r}") from None
        if not items:
            raise ValueError("must contain at least one value")
        items = sorted(set(items))
        if len(items) > meta.max_items:
            raise ValueError(f"at most {meta.max_items} distinct values, got {len(items)}")
        bad = [v for v in items if (lo is not None and v < lo) or (hi is not None and v > hi)]
        if bad:
            raise ValueError(f"every value must be {_bounds_message(lo, hi)}; out of bounds: {bad}")
        return tuple(items)
    if meta.type == "choice":
        if not isinstance(value, str) or value not in (meta.choices or ()):
            raise ValueError(f"must be one of {list(meta.choices or ())}, got {value!r}")
        return value
    if meta.type == "bool":
        try:
            return _as_bool(value)
        except TypeError:
            raise ValueError(f"must be true or false, got {value!r}") from None
    try:
        number: float = _as_int(value) if meta.type == "int" else _as_float(value)
    except TypeError:
        kind = "an integer" if meta.type == "int" else "a number"
        raise ValueError(f"must be {kind}, got {value!r}") from None
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        raise ValueError(f"must be {_bounds_message(lo, hi)}, got {number:g}")
    return number


def coerce_params(config_cls: type, params: Mapping[str, Any] | None, device_class: str) -> Any:
    """Build a ``config_cls`` from raw user params; unspecified ones take the class defaults.

    Collects *all* problems (unknown names, wrong types, out-of-bounds values and the
    config's own cross-field ``check()``) into one :class:`ParamError`.
    """
    _check_device_class(device_class)
    params = dict(params or {})
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    errors: dict[str, str] = {}
    for name in params:
        if name not in fields:
            errors[name] = f"unknown parameter; expected one of {sorted(fields)}"
    values: dict[str, Any] = {}
    for name, f in fields.items():
        meta: ParamMeta = f.metadata["param"]
        cuda = device_class == "cuda"
        if name not in params:
            values[name] = meta.cuda_default if cuda else f.default
            continue
        try:
            values[name] = _coerce_one(name, meta, params[name], meta.cuda_max if cuda else meta.max)
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise ParamError(errors)
    config = config_cls(**values)
    check = getattr(config, "check", None)
    if check is not None:
        errors.update(check())
    if errors:
        raise ParamError(errors)
    return config


def config_to_dict(config: Any) -> dict[str, Any]:
    """JSON-ready view of a config (tuples become lists)."""
    return {k: _plain(v) for k, v in dataclasses.asdict(config).items()}
