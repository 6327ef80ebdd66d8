"""Example fischer_sc plugin: one small method registered through the ``fischer_sc`` entry-point group."""

from ._centroids import group_centroids

__all__ = ["group_centroids"]
