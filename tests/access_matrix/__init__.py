"""The access matrix, one block per part of the service (see tests/test_access.py).

Each module defines ``EXPECTED``: url name -> (kwargs builder from the cast, status per role).
"""

import importlib
import pkgutil

BLOCKS = [
    importlib.import_module(f"{__name__}.{info.name}").EXPECTED
    for info in pkgutil.iter_modules(__path__)
    if info.name != "common"
]
