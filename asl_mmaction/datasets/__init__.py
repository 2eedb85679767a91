from . import transforms  # noqa: F401
from .tad_errors import TADDataError  # noqa: F401
from .base_tad_dataset import BaseTADDataset  # noqa: F401
from .ego4d_mq_dataset import Ego4DMQDataset  # noqa: F401
from .epic_kitchens_dataset import EpicKitchensDataset  # noqa: F401
from .activitynet_dataset import ActivityNetTADDataset  # noqa: F401
from .thumos14_dataset import MultiThumosDataset, Thumos14Dataset  # noqa: F401
from .charades_dataset import CharadesDataset  # noqa: F401
from .demo_dataset import DemoTADDataset  # noqa: F401
from .video_tad_dataset import VideoTADDataset  # noqa: F401
from . import samplers  # noqa: F401
