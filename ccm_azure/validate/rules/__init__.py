"""The rules, one module per family or topic; importing this package registers them.

Every module in this folder is imported, so a new module of rules needs no other
change to take part.
"""

import importlib
import pkgutil

for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    importlib.import_module(f"{__name__}.{_module.name}")
