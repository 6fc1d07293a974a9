"""``self.config`` of a model, recorded from its constructor's own arguments (what ``config.json`` stores)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any


def records_config(init: Callable[..., None]) -> Callable[..., None]:
    """Decorate a model's ``__init__`` so that ``self.config`` holds every constructor argument.

    The arguments are bound to ``init``'s signature (defaults filled in, in signature order) and
    tuples become lists (JSON), so the config names exactly the parameters the class takes and
    :func:`~cineaug.models.hub.build_model` rebuilds the same model from it.

    Example:
        >>> class Net(torch.nn.Module):  # doctest: +SKIP
        ...     @records_config
        ...     def __init__(self, width: int = 8, classes: tuple[str, ...] = ()): ...
        >>> Net(classes=("A",)).config  # doctest: +SKIP
        {'width': 8, 'classes': ['A']}
    """
    signature = inspect.signature(init)

    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        init(self, *args, **kwargs)
        arguments = list(bound.arguments.items())[1:]  # without self
        self.config = {k: list(v) if isinstance(v, tuple) else v for k, v in arguments}

    return wrapper
