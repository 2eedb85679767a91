from .identity_pyramid_neck import IdentityPyramidNeck  # noqa: F401
from .fpn1d import FPN1d  # noqa: F401
