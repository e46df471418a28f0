"""The in-cluster controller: a Kopf adapter over the sealkit core."""
