"""Client surfaces, in report-column order. A new surface is a class with ``name``, ``label``, ``run``."""

from __future__ import annotations

from conformance.surfaces.base import RunEnv, Surface, SurfaceOutcome
from conformance.surfaces.proxied import CurlSurface, NodeSdkSurface
from conformance.surfaces.python_sdk import PythonSdkSurface
from conformance.surfaces.rest import RestSurface

SURFACES: dict[str, Surface] = {s.name: s for s in (PythonSdkSurface(), RestSurface(), NodeSdkSurface(),
                                                       CurlSurface())}

__all__ = ["SURFACES", "RunEnv", "Surface", "SurfaceOutcome"]
