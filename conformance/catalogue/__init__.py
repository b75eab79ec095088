"""The catalogue: every documented feature the suite exercises, one declarative case each.

A case is data: the request it sends (built from the target's profile), the documentation section it comes
from, and what it expects. Adding a case is adding an entry to ``cases.py``; every surface runs every case.
"""

from conformance.catalogue.cases import CASES, FEATURES, case_by_id
from conformance.catalogue.model import Case

__all__ = ["CASES", "FEATURES", "Case", "case_by_id"]
