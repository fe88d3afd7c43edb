"""mi_widgets: the computation and widgets behind the mi-lab notebooks."""

__version__ = "0.1.0"

from mi_widgets._errors import MIInputError

__all__ = ["MIInputError", "__version__"]
