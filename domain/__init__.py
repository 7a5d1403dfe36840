"""quire domain layer.

Importing it loads the mypyc build of its modules when one matching the sources exists
(`domain/native_build.py`, ADR 0018); otherwise every module runs from source.
"""

from domain.native_build import install as _install_native_build

_install_native_build()
