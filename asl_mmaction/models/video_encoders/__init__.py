from .pooling import pool_snippet_features  # noqa: F401
from .snippet_encoder import VideoSnippetEncoder  # noqa: F401
