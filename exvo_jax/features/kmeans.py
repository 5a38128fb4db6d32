"""k-means in JAX: k-means++ initialisation and Lloyd iterations, distances computed in row chunks."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp


def squared_distances(x: jax.Array, centroids: jax.Array) -> jax.Array:
    """||x - c||^2 for every row and centroid: [N, F] x [K, F] -> [N, K] (clipped at 0)."""
    d = jnp.sum(x * x, 1)[:, None] - 2.0 * x @ centroids.T + jnp.sum(centroids * centroids, 1)[None, :]
    return jnp.maximum(d, 0.0)


@functools.partial(jax.jit, static_argnames=("chunk",))
def nearest(x: jax.Array, centroids: jax.Array, chunk: int = 4096) -> jax.Array:
    """Index of the nearest centroid for every row of x [N, F] -> [N] int32, `chunk` rows at a time."""
    n = x.shape[0]
    padded = -(-n // chunk) * chunk
    xp = jnp.zeros((padded, x.shape[1]), x.dtype).at[:n].set(x).reshape(-1, chunk, x.shape[1])
    idx = jax.lax.map(lambda block: jnp.argmin(squared_distances(block, centroids), axis=1), xp)
    return idx.reshape(-1)[:n].astype(jnp.int32)


@functools.partial(jax.jit, static_argnames=("k",))
def kmeans_plus_plus(key: jax.Array, x: jax.Array, k: int) -> jax.Array:
    """k-means++ seeding (Arthur & Vassilvitskii 2007): each next centroid drawn with probability ~ D(x)^2."""
    n = x.shape[0]
    key, first = jax.random.split(key)
    centroids = jnp.zeros((k, x.shape[1]), x.dtype).at[0].set(x[jax.random.randint(first, (), 0, n)])
    best = squared_distances(x, centroids[:1])[:, 0]  # [N]

    def pick(i, carry):
        centroids, best, key = carry
        key, sub = jax.random.split(key)
        total = jnp.sum(best)
        logits = jnp.where(total > 0, jnp.log(best + 1e-30), 0.0)  # all-zero distances: uniform choice
        j = jax.random.categorical(sub, logits)
        centroids = centroids.at[i].set(x[j])
        best = jnp.minimum(best, squared_distances(x, x[j][None])[:, 0])
        return centroids, best, key

    centroids, _, _ = jax.lax.fori_loop(1, k, pick, (centroids, best, key))
    return centroids


@functools.partial(jax.jit, static_argnames=("iterations",))
def lloyd(x: jax.Array, centroids: jax.Array, iterations: int) -> jax.Array:
    """Lloyd iterations; an empty cluster keeps its previous centroid."""
    k = centroids.shape[0]

    def step(_, centroids):
        assign = nearest(x, centroids)
        sums = jax.ops.segment_sum(x, assign, num_segments=k)  # [K, F]
        counts = jax.ops.segment_sum(jnp.ones(x.shape[0], x.dtype), assign, num_segments=k)  # [K]
        return jnp.where(counts[:, None] > 0, sums / jnp.maximum(counts, 1.0)[:, None], centroids)

    return jax.lax.fori_loop(0, iterations, step, centroids)


def kmeans(key: jax.Array, x: jax.Array, k: int, iterations: int = 20) -> jax.Array:
    """Codebook [k, F] of the rows of x [N, F] (N >= k): k-means++ seeding then Lloyd iterations."""
    if x.ndim != 2 or x.shape[0] < k:
        raise ValueError(f"k-means needs at least k={k} rows of a [N, F] array, got shape {x.shape}")
    x = jnp.asarray(x, jnp.float32)
    return lloyd(x, kmeans_plus_plus(key, x, k), iterations)
