"""The embedded sandbox cluster: a miniature Kubernetes control plane on 127.0.0.1."""
