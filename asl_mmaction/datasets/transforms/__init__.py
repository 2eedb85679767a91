from .channel_select import SelectFeatureChannels  # noqa: F401
from .formatting import PackTADInputs  # noqa: F401
from .loading import LoadTADFeatures  # noqa: F401
from .temporal_crop import RandomTemporalCrop  # noqa: F401
from .video_loading import (LoadSnippetFrames, LoadSnippetGrid,  # noqa: F401
                            PackTADSnippets)
