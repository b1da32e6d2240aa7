"""stsnb: Kubernetes StatefulSets as executable notebooks, on a sandbox cluster or a real one."""

__version__ = "0.1.0"
