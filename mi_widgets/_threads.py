"""Thread limits for native libraries (BLAS, OpenMP), shared by the computational modules.

The linear algebra in mi-lab is small or tall-and-thin; threaded BLAS gains little there
and, when cores are shared, oversubscription made fits up to 10x slower. Limits are
context managers; nest them freely (each restores what it found).
"""

from __future__ import annotations

import scipy.linalg  # noqa: F401  (loads scipy's own BLAS, so that the limits reach it too)
from threadpoolctl import ThreadpoolController

__all__ = ["THREADPOOLS", "one_blas_thread", "single_threaded"]

#: Inspected once per process: each inspection of the loaded libraries costs ~5 ms.
THREADPOOLS = ThreadpoolController()


def one_blas_thread():
    """Limit BLAS to one thread inside a ``with`` block.

    Examples
    --------
    >>> with one_blas_thread():
    ...     pass
    """
    return THREADPOOLS.limit(limits=1, user_api="blas")


def single_threaded():
    """Limit BLAS and OpenMP to one thread inside a ``with`` block.

    Examples
    --------
    >>> with single_threaded():
    ...     pass
    """
    return THREADPOOLS.limit(limits=1)
