"""The cassette layer, split along vcrpy's lines (``paths``, ``filters``, ``persister``): where exchanges are stored,
what is scrubbed before writing, and what is refused on load.

Cassettes are vcrpy YAML files (one per case and surface) with a ``provenance`` block in front saying what was
recorded, from where, when and by which suite version. They are written atomically, only inside the run's
cassette folder, and refused (before a run starts) when unreadable, corrupt, or holding anything key-shaped.
One ``Recording`` object per run holds what the persister needs; nothing is kept in class attributes.
"""

from __future__ import annotations

from conformance.cassettes.filters import scrub_local_paths, vcr_config
from conformance.cassettes.paths import CASSETTE_SUFFIX, cassette_name, cassette_path, check_name, inside
from conformance.cassettes.persister import (
    CassetteSecretError,
    ConformancePersister,
    Recording,
    check_cassette,
    configure,
    new_recorder,
    now_iso,
    read_cassette,
    read_provenance,
)

__all__ = ["CASSETTE_SUFFIX", "CassetteSecretError", "ConformancePersister", "Recording", "cassette_name",
           "cassette_path", "check_cassette", "check_name", "configure", "inside", "new_recorder", "now_iso",
           "read_cassette", "read_provenance", "scrub_local_paths", "vcr_config"]
