"""Registry of propagation methods: name -> factory building a propagator factory.

A method registers ``factory(device, modality, weights=None) -> make_propagator`` where
``make_propagator(labels, memory_frames=2) -> Propagator``. The factory raises
:class:`~cardiacmotion.errors.WeightsError` (or ``NotAvailableError``) when it cannot run, e.g.
missing or mismatching weights; ``method='auto'`` then falls back to registration.

The learned memory propagator registers itself as ``'memory'`` (module
``cardiacmotion.propagation.memory``, imported lazily here so the registry never fails
when it is absent).
"""
from __future__ import annotations

import importlib
from typing import Callable, Optional

import torch

from cardiacmotion.propagation.base import Propagator

MakePropagator = Callable[..., Propagator]
MethodFactory = Callable[..., MakePropagator]

_METHODS: dict[str, MethodFactory] = {}
#: modules that register methods when imported (optional ones may be missing)
_PROVIDERS = ("cardiacmotion.propagation.memory",)


def register_method(name: str, factory: MethodFactory) -> None:
    """Make ``name`` available to ``segment_cine(method=name)`` and the CLI."""
    _METHODS[name] = factory


def _load_providers() -> None:
    for mod in _PROVIDERS:
        try:
            importlib.import_module(mod)
        except ImportError:
            pass


def available_methods() -> list[str]:
    """Names of the registered methods (registration is always there)."""
    _load_providers()
    return sorted(_METHODS)


def get_method(name: str) -> Optional[MethodFactory]:
    _load_providers()
    return _METHODS.get(name)


def _registration_factory(device: torch.device, modality: str = "MR", weights: Optional[str] = None, **options) -> MakePropagator:
    from cardiacmotion.propagation.registration import RegistrationPropagator

    def make(labels, memory_frames: int = 2) -> Propagator:
        return RegistrationPropagator(device, labels, memory_frames=memory_frames, modality=modality, **options)

    return make


register_method("registration", _registration_factory)

#: whole-video echo methods (not frame-to-frame mask propagators): name -> module with
#: ``segment_<name>(image, seeds, landmarks, weights, device, seed_phase, progress, auto) -> (Cine, info)``
ECHO_METHODS = {"tan": "cardiacmotion.echo.tan_segment", "sscf": "cardiacmotion.echo.sscf_segment",
                "pkecho": "cardiacmotion.echo.pkecho_segment"}


def echo_method(name: str):
    """The whole-video segmenter registered for ``name`` (``None`` when it is not an echo method)."""
    mod = ECHO_METHODS.get(name)
    if mod is None:
        return None
    return getattr(importlib.import_module(mod), f"segment_{name}")
