"""Quality measures for embeddings, patterns and networks, used by the tests, the benchmarks and users.

Each method's capability adds its measures here (density correlation, kNN recall, trustworthiness,
neighbourhood-overlap curves, soft pattern F1, ...), each tested on hand-computed cases.
"""

__all__: list[str] = []
