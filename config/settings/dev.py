"""Local development: `make run`. Embedded defaults, debug on."""
from .base import *
from .base import env_bool

DEBUG = env_bool("DEBUG", True)
