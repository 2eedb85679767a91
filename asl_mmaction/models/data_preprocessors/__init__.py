from .tad_data_preprocessor import ASLDataPreprocessor  # noqa: F401
from .snippet_data_preprocessor import SnippetDataPreprocessor  # noqa: F401
