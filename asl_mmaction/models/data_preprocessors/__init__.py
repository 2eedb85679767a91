from .tad_data_preprocessor import ASLDataPreprocessor  # noqa: F401
