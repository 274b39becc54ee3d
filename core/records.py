"""Records: acct's internal data classes, without the import-time cost of dataclasses.

`@dataclass` generates and compiles several methods per class when its module is imported;
for acct's ~20 internal classes that was a fifth of `acct run`'s own start-up (issue #14).
`@record` makes the one method these classes need, `__init__` (keyword or positional, with
defaults and default factories), from one compiled template, and gives a generic `__repr__`.
Records compare by identity, as the `eq=False` dataclasses they replace did. `replace(record,
**changes)` copies one. The plugin API's classes (acct.Component, acct.Input, ...) stay
dataclasses: plugin authors may use `dataclasses.replace` and `dataclasses.fields` on them.
"""

from __future__ import annotations

import types
from typing import Any, Callable, Dict, List, Optional, Tuple


class Factory:
    """A default made fresh for each record: `notes: List[str] = fresh(list)`."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


def fresh(make: Callable[[], Any]) -> Any:
    return Factory(make)


def record(cls: Optional[type] = None, *, frozen: bool = False) -> Any:
    """Give `cls` an `__init__` over its annotated fields, in order, and a `__repr__`. A frozen
    record refuses assignment and compares and hashes by its fields' values, as a frozen
    dataclass does."""
    if cls is None:
        return lambda cls: _make(cls, frozen)
    return _make(cls, frozen)


def _make(cls: type, frozen: bool) -> type:
    names = tuple(cls.__dict__.get("__annotations__", {}))
    required = [name for name in names if name not in cls.__dict__]
    optional = [name for name in names if name in cls.__dict__]
    if names[: len(required)] != tuple(required):
        raise TypeError(f"{cls.__name__}: a field without a default follows one with a default")
    defaults: Dict[str, Any] = {name: cls.__dict__[name] for name in optional}
    for name in optional:
        delattr(cls, name)  # the instance's attribute, always set, is what a reader sees
    cls.__init__ = _first_init(cls, names, required, optional, defaults, frozen)
    cls.__record_fields__ = names
    if "__repr__" not in cls.__dict__:
        cls.__repr__ = _repr
    if frozen:
        cls.__setattr__ = _frozen
        cls.__delattr__ = _frozen
        cls.__eq__ = _eq
        cls.__hash__ = _hash
    return cls


# a record made this many times gets its own compiled __init__ (see _first_init)
COMPILE_AFTER = 1000


def _first_init(cls: type, names: Tuple[str, ...], required: List[str], optional: List[str],
                defaults: Dict[str, Any], frozen: bool) -> Callable[..., None]:
    """The record's __init__ for its first instances: generic over its fields, made without
    compiling anything. Compiling a class's own __init__ costs as much as making a few hundred
    records with this one, and most records are made a few times per command (a run makes
    instances of only some of acct's forty-odd record classes), so that is done only for a class
    made more than COMPILE_AFTER times; the compiled one then replaces this one."""
    count = len(names)
    made = [0]

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        made[0] += 1
        if made[0] > COMPILE_AFTER:
            compiled = _compiled_init(cls, names, required, optional, defaults, frozen)
            cls.__init__ = compiled
            compiled(self, *args, **kwargs)
            return
        if len(args) > count:
            raise TypeError(f"{cls.__name__}.__init__() takes {count + 1} positional arguments but "
                            f"{len(args) + 1} were given")
        values = dict(zip(names, args)) if args else {}
        missing = []
        for name in names[len(args):] if args else names:
            value = kwargs.pop(name, _FRESH)
            if value is _FRESH:
                value = defaults.get(name, _FRESH)
                if value is _FRESH:
                    missing.append(name)
                    continue
                if type(value) is Factory:
                    value = value.make()
            values[name] = value
        if missing:  # worded as the compiled __init__ (Python's own) words it, whichever one runs
            raise TypeError(f"{cls.__name__}.__init__() {_missing(missing)}")
        if kwargs:
            name = next(iter(kwargs))
            what = "multiple values for" if name in values else "an unexpected keyword"
            raise TypeError(f"{cls.__name__}.__init__() got {what} argument {name!r}")
        self.__dict__.update(values)

    __init__.__qualname__ = f"{cls.__name__}.__init__"
    return __init__


def _missing(names: List[str]) -> str:
    """`missing 2 required positional arguments: 'a' and 'b'`, as CPython says it."""
    quoted = [repr(name) for name in names]
    if len(quoted) == 1:
        return f"missing 1 required positional argument: {quoted[0]}"
    listed = " and ".join(quoted) if len(quoted) == 2 else ", ".join(quoted[:-1]) + ", and " + quoted[-1]
    return f"missing {len(quoted)} required positional arguments: {listed}"


def _compiled_init(cls: type, names: Tuple[str, ...], required: List[str], optional: List[str],
                   defaults: Dict[str, Any], frozen: bool) -> Callable[..., None]:
    """The record's own __init__, compiled from one template over its field names."""
    lines = []
    for name in names:
        value = name
        if isinstance(defaults.get(name), Factory):
            value = f"_d_{name}.make() if {name} is _F else {name}"
        # a frozen record's own __setattr__ refuses; its __init__ sets through object's
        lines.append(f" _set(self, {name!r}, {value})" if frozen else f" self.{name} = {value}")
    parameters = ", ".join(required + optional)
    source = f"def __init__(self, {parameters}):\n" + ("\n".join(lines) or " pass")
    namespace: Dict[str, Any] = {"_F": _FRESH, "_set": object.__setattr__,
                                 **{f"_d_{name}": value for name, value in defaults.items()}}
    # acct's own template over the class's field names (identifiers), made into a function
    # without exec, as the engine's compiled sheets are: the code object, its globals, defaults
    code = next(c for c in compile(source, f"<record {cls.__name__}>", "exec").co_consts
                if isinstance(c, types.CodeType))
    argdefs = tuple(_FRESH if isinstance(defaults[name], Factory) else defaults[name] for name in optional)
    init = types.FunctionType(code, namespace, "__init__", argdefs or None)
    init.__qualname__ = f"{cls.__name__}.__init__"
    return init


def _frozen(self: Any, name: str, *value: Any) -> None:
    raise AttributeError(f"cannot assign to field {name!r}: {type(self).__name__} is frozen")


def _values(self: Any) -> tuple:
    return tuple(getattr(self, name) for name in type(self).__record_fields__)


def _eq(self: Any, other: Any) -> Any:
    return _values(self) == _values(other) if type(other) is type(self) else NotImplemented


def _hash(self: Any) -> int:
    return hash(_values(self))


_FRESH = object()  # the default of a field whose default is a Factory: make a fresh value


def _repr(self: Any) -> str:
    fields: Tuple[str, ...] = type(self).__record_fields__
    return f"{type(self).__name__}({', '.join(f'{name}={getattr(self, name)!r}' for name in fields)})"


def fields(cls_or_record: Any) -> Tuple[str, ...]:
    return cls_or_record.__record_fields__


def replace(item: Any, **changes: Any) -> Any:
    """A copy of the record `item` with `changes`."""
    cls = type(item)
    unknown = [name for name in changes if name not in cls.__record_fields__]
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {unknown[0]!r}")
    return cls(**{name: changes.get(name, getattr(item, name)) for name in cls.__record_fields__})
