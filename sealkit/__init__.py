"""sealkit core: the Sealed Secrets wire format, keys, models and rendering.

Imports nothing from click, kopf, kubernetes or azure so every adapter (CLI, controller)
can build on it and start fast.
"""

__version__ = "0.1.0"
