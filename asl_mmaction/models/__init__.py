from . import backbones, data_preprocessors, detectors  # noqa: F401
from . import heads, losses, necks  # noqa: F401
from . import sensitivity  # noqa: F401
from . import task_modules  # noqa: F401
from . import layers  # noqa: F401
from . import video_encoders  # noqa: F401
