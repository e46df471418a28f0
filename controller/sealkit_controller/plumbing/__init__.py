"""Plumbing the other rooms share: the work queue (`workqueue`), Kubernetes Events (`events`), background
loops (`background`), the thread pool seam (`pool`), log output (`logs`) and leader election with its write
fence (`election`)."""
