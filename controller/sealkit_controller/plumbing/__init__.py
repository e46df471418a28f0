"""Plumbing the other rooms share: the work queue (`workqueue`), Kubernetes Events (`events`), background
loops (`background`), the thread pool seam (`pool`) and log output (`logs`)."""
