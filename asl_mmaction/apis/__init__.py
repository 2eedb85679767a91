"""High-level entry points used by the tools (feature extraction)."""
from .feature_extraction import (RecognizerFeatureExtractor, extract_videos,
                                 list_videos)

__all__ = ['RecognizerFeatureExtractor', 'extract_videos', 'list_videos']
